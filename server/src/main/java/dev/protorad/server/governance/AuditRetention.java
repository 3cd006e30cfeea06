package dev.protorad.server.governance;

import static java.util.Objects.requireNonNull;

import dev.protorad.audit.AuditStore;
import dev.protorad.server.background.PeriodicJob;
import java.time.Duration;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Applies {@code audit.retention_days}: calls {@link AuditStore#purgeExpired} on start and then
 * periodically, on a daemon thread of its own so that requests never wait for it. The store knows
 * the retention period and the clock; it verifies the whole log first, refuses to purge one that
 * does not verify, and records each purge as a signed anchor checkpoint so that the remaining chain
 * still verifies. A purge that fails is logged (exception type and message, which name writers and
 * sequences but never event contents) and tried again at the next run.
 */
public final class AuditRetention implements AutoCloseable {

  /** How often a running server purges, as the audit module recommends (daily). */
  public static final Duration DEFAULT_INTERVAL = Duration.ofDays(1);

  private static final Logger log = LoggerFactory.getLogger(AuditRetention.class);

  private final AuditStore store;
  private @Nullable PeriodicJob job;

  private AuditRetention(AuditStore store) {
    this.store = store;
  }

  /** Purges of {@code store}, with the retention it was opened with; nothing runs until started. */
  public static AuditRetention of(AuditStore store) {
    return new AuditRetention(requireNonNull(store, "store"));
  }

  /** Purges now, in the background, and then every {@code interval} until {@link #close}. */
  public synchronized AuditRetention start(Duration interval) {
    if (job != null) {
      throw new IllegalStateException("already started");
    }
    job = PeriodicJob.start("protorad-audit-retention", interval, this::purgeLogged);
    return this;
  }

  private void purgeLogged() {
    try {
      long removed = store.purgeExpired();
      if (removed > 0) {
        log.info("audit retention removed {} events past audit.retention_days", removed);
      }
    } catch (RuntimeException e) {
      // A thrown exception would cancel the schedule. A log that does not verify lands here too:
      // the store refuses to purge it and removes nothing.
      log.warn("audit retention purge failed, retrying in the next run: {}", e.toString());
    }
  }

  /** Stops the periodic purge, letting a purge in progress finish (for up to 10 seconds). */
  @Override
  public synchronized void close() {
    if (job != null) {
      job.close();
    }
  }
}
