package dev.protorad.server.governance;

import static java.util.Objects.requireNonNull;

import dev.protorad.audit.AuditStore;
import dev.protorad.audit.EventDraft;
import dev.protorad.audit.Outcome;
import dev.protorad.server.background.PeriodicJob;
import java.time.Duration;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Seals the audit chain on a timer, and notices when the store takes writes again after a failure:
 * every {@link #DEFAULT_INTERVAL}, when events were appended since the last checkpoint, the store
 * signs a checkpoint over them ({@link AuditStore#seal}). Events are then covered by a signature
 * within seconds instead of after the next thousand events, so cutting the tail of the log after a
 * crash removes at most the last few seconds undetected. A failed seal is logged and tried again at
 * the next run; the store's own failure handling (fail closed) applies.
 */
public final class AuditSealing implements AutoCloseable {

  /** How often the chain is sealed when anything is unsealed. */
  public static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(10);

  private static final Logger log = LoggerFactory.getLogger(AuditSealing.class);

  /** Action of the event that records the store taking writes again after a failure. */
  public static final String AVAILABLE_AGAIN = "protorad.v1.AuditStore/AvailableAgain";

  private final AuditStore store;
  private final Runnable onRecovered;
  private volatile boolean failed;
  private @Nullable PeriodicJob job;

  private AuditSealing(AuditStore store, Runnable onRecovered) {
    this.store = store;
    this.onRecovered = onRecovered;
  }

  /**
   * Sealing of {@code store}; nothing runs until started.
   *
   * @param onRecovered run once the store takes writes again after {@link #storeFailed}
   */
  public static AuditSealing of(AuditStore store, Runnable onRecovered) {
    return new AuditSealing(
        requireNonNull(store, "store"), requireNonNull(onRecovered, "onRecovered"));
  }

  /**
   * Notes that the store refused a write (a full disk, a database that is down): each run then
   * tries to append an event recording that the store takes writes again, and calls the recovery
   * action once it does.
   */
  public void storeFailed() {
    failed = true;
  }

  /** Whether the store refused a write and has not taken one since. */
  public boolean failed() {
    return failed;
  }

  /** Seals now, in the background, and then every {@code interval} until {@link #close}. */
  public synchronized AuditSealing start(Duration interval) {
    if (job != null) {
      throw new IllegalStateException("already started");
    }
    job = PeriodicJob.start("protorad-audit-sealing", interval, this::sealLogged);
    return this;
  }

  private void sealLogged() {
    try {
      if (failed) {
        store.append(
            EventDraft.builder(AVAILABLE_AGAIN, Outcome.ALLOWED, "OK")
                .principal(SERVER_PRINCIPAL)
                .build());
        failed = false;
        log.info("audit store takes writes again");
        onRecovered.run();
      }
      store.seal();
    } catch (RuntimeException e) {
      log.warn("audit checkpoint on the timer failed, retrying in the next run: {}", e.toString());
    }
  }

  /** The principal of events the server records about itself. */
  static final String SERVER_PRINCIPAL = "protorad-server";

  /** Stops sealing, letting a run in progress finish. */
  @Override
  public synchronized void close() {
    if (job != null) {
      job.close();
    }
  }
}
