package dev.protorad.server.governance;

import static java.util.Objects.requireNonNull;

import dev.protorad.audit.AuditStore;
import dev.protorad.server.background.PeriodicJob;
import java.time.Duration;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Seals the audit chain on a timer: every {@link #DEFAULT_INTERVAL}, when events were appended
 * since the last checkpoint, the store signs a checkpoint over them ({@link AuditStore#seal}).
 * Events are then covered by a signature within seconds instead of after the next thousand events,
 * so cutting the tail of the log after a crash removes at most the last few seconds undetected. A
 * failed seal is logged and tried again at the next run; the store's own failure handling (fail
 * closed) applies.
 */
public final class AuditSealing implements AutoCloseable {

  /** How often the chain is sealed when anything is unsealed. */
  public static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(10);

  private static final Logger log = LoggerFactory.getLogger(AuditSealing.class);

  private final AuditStore store;
  private @Nullable PeriodicJob job;

  private AuditSealing(AuditStore store) {
    this.store = store;
  }

  /** Sealing of {@code store}; nothing runs until started. */
  public static AuditSealing of(AuditStore store) {
    return new AuditSealing(requireNonNull(store, "store"));
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
      store.seal();
    } catch (RuntimeException e) {
      log.warn("audit checkpoint on the timer failed, retrying in the next run: {}", e.toString());
    }
  }

  /** Stops sealing, letting a run in progress finish. */
  @Override
  public synchronized void close() {
    if (job != null) {
      job.close();
    }
  }
}
