package dev.protorad.audit;

import static java.util.Objects.requireNonNull;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Period;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * What both audit stores are configured with: the writer, its checkpoint keys and interval,
 * retention, clock, group commit, durability timeout and witness. Each setter validates its
 * argument; {@link FileAuditStore.Builder} and {@link PostgresAuditStore.Builder} add their own.
 *
 * @param <B> the store's own builder, which every setter returns
 */
public abstract class AuditStoreBuilder<B extends AuditStoreBuilder<B>> {

  String writerId = "local";
  private @Nullable CheckpointKeys keys;
  long checkpointInterval = FileAuditStore.DEFAULT_CHECKPOINT_INTERVAL;
  Period retention = FileAuditStore.DEFAULT_RETENTION;
  Clock clock = Clock.systemUTC();
  int maxBatch = FileAuditStore.DEFAULT_MAX_BATCH;
  Duration appendTimeout = FileAuditStore.DEFAULT_APPEND_TIMEOUT;
  private @Nullable Path witness;

  AuditStoreBuilder() {}

  /** This builder, as its own type. */
  abstract B self();

  /** This server instance's writer id (default {@code local}); unique per running replica. */
  public B writerId(String writerId) {
    AuditEvent.checkWriterId(writerId);
    this.writerId = writerId;
    return self();
  }

  /**
   * The checkpoint keys (required, with a signing key). Verification checks every writer's
   * checkpoints with them: give replicas one shared key, or trust the others' public keys ({@link
   * CheckpointKeys#alsoTrusting}).
   */
  public B checkpointKeys(CheckpointKeys keys) {
    requireNonNull(keys, "keys");
    if (!keys.canSign()) {
      throw new IllegalArgumentException("keys: verify-only (expected: a signing key)");
    }
    this.keys = keys;
    return self();
  }

  /** Events between signed checkpoints (default 1000). */
  public B checkpointInterval(long events) {
    this.checkpointInterval = AuditVerifier.checkInterval(events);
    return self();
  }

  /** How long events are kept (default six years). */
  public B retention(Period retention) {
    requireNonNull(retention, "retention");
    if (retention.isNegative() || retention.isZero()) {
      throw new IllegalArgumentException("retention: " + retention + " (expected: positive)");
    }
    this.retention = retention;
    return self();
  }

  /** Source of event times (default UTC system clock). */
  public B clock(Clock clock) {
    this.clock = requireNonNull(clock, "clock");
    return self();
  }

  /**
   * Group commit on (default): concurrent appends share one flush or transaction. Off: one per
   * event, only for comparison.
   */
  public B groupCommit(boolean enabled) {
    this.maxBatch = enabled ? FileAuditStore.DEFAULT_MAX_BATCH : 1;
    return self();
  }

  /** Longest wait for durability before {@link AuditUnavailableException} (default 30 s). */
  public B appendTimeout(Duration timeout) {
    requireNonNull(timeout, "timeout");
    if (timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException("appendTimeout: " + timeout + " (expected: positive)");
    }
    this.appendTimeout = timeout;
    return self();
  }

  /**
   * Keeps each writer's signed head (its latest checkpoint) in {@code dir} as well, on another
   * volume than the store (shared by the replicas of a PostgreSQL store): verification then detects
   * a log or chain cut back, rolled back, rewritten or deleted, and events under a writer id no
   * server ever ran; a writer reopened on such a log does not seal it and keeps the head it no
   * longer reaches as a cut record.
   */
  public B witness(Path dir) {
    this.witness = requireNonNull(dir, "dir");
    return self();
  }

  /** The signing keys, which {@code open()} requires. */
  CheckpointKeys requireKeys() {
    if (keys == null) {
      throw new IllegalStateException("checkpointKeys: not set (expected: a signing key)");
    }
    return keys;
  }

  Optional<Path> witness() {
    return Optional.ofNullable(witness);
  }
}
