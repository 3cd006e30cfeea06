package dev.protorad.server.serving;

import static java.util.Objects.requireNonNull;

import dev.protorad.server.background.PeriodicJob;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Deletes retained notes once their prediction is older than the retention period ({@code
 * predictions.note_retention_days}), on start and then periodically, on a daemon thread of its own
 * so that requests never wait for it. A purge that fails is logged (operation and SQL state only,
 * never data) and tried again at the next run.
 */
public final class NoteRetention implements AutoCloseable {

  /** How often a running server purges; notes outlive their retention by at most this much. */
  public static final Duration DEFAULT_INTERVAL = Duration.ofHours(1);

  private static final Logger log = LoggerFactory.getLogger(NoteRetention.class);

  private final PredictionStore store;
  private final Duration retention;
  private final Clock clock;
  private @Nullable PeriodicJob job;

  private NoteRetention(PredictionStore store, Duration retention, Clock clock) {
    this.store = store;
    this.retention = retention;
    this.clock = clock;
  }

  /**
   * Retention of {@code retention} after each prediction, as {@code clock} tells the time; nothing
   * runs until {@link #start}.
   *
   * @param retention how long after its prediction a note is kept; positive
   */
  public static NoteRetention of(PredictionStore store, Duration retention, Clock clock) {
    requireNonNull(store, "store");
    requireNonNull(retention, "retention");
    requireNonNull(clock, "clock");
    if (retention.isNegative() || retention.isZero()) {
      throw new IllegalArgumentException("retention: " + retention + " (expected: positive)");
    }
    return new NoteRetention(store, retention, clock);
  }

  /** Purges now, in the background, and then every {@code interval} until {@link #close}. */
  public synchronized NoteRetention start(Duration interval) {
    if (job != null) {
      throw new IllegalStateException("already started");
    }
    job = PeriodicJob.start("protorad-note-retention", interval, this::purgeLogged);
    return this;
  }

  /**
   * Deletes the notes of predictions made before now minus the retention, on the caller's thread.
   *
   * @return how many notes were deleted
   */
  public int purgeExpired() {
    Instant cutoff = clock.instant().minus(retention);
    return store.deleteNotesBefore(cutoff);
  }

  private void purgeLogged() {
    try {
      int deleted = purgeExpired();
      if (deleted > 0) {
        log.info("deleted {} retained notes older than {} days", deleted, retention.toDays());
      }
    } catch (RuntimeException e) {
      // A thrown exception would cancel the schedule; the store's messages carry no data.
      log.warn("retained note purge failed, retrying in the next run: {}", e.getMessage());
    }
  }

  /** Stops the periodic purge, letting a purge in progress finish. */
  @Override
  public synchronized void close() {
    if (job != null) {
      job.close();
    }
  }
}
