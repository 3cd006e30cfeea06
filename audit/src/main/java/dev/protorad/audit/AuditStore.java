package dev.protorad.audit;

import java.util.concurrent.CompletableFuture;

/**
 * An append-only, tamper-evident audit trail. Implementations: {@link FileAuditStore} (embedded
 * default) and {@link PostgresAuditStore} (shared by replicas). Thread-safe.
 */
public interface AuditStore extends AutoCloseable {

  /**
   * Appends an event and returns it once it is durable (group commit: concurrent appends share one
   * flush).
   *
   * @throws AuditUnavailableException if the event could not be made durable; the audited result
   *     must then not be returned to the caller
   */
  AuditEvent append(EventDraft draft);

  /**
   * Like {@link #append} without blocking the calling thread (gRPC callbacks): the future completes
   * once the event is durable, or exceptionally with {@link AuditUnavailableException}.
   */
  CompletableFuture<AuditEvent> appendAsync(EventDraft draft);

  /** Events matching {@code query}, oldest first, one page at a time. */
  AuditPage query(AuditQuery query);

  /** Checks hash chains, checkpoint signatures and completeness of everything stored. */
  VerifyResult verify();

  /**
   * Removes events older than the retention period (whole segments or rows), leaving a signed
   * anchor so the rest still verifies.
   *
   * @return the number of events removed
   */
  long purgeExpired();

  /**
   * Signs a checkpoint over the events no checkpoint covers yet, so that they cannot be cut off
   * unnoticed; the server calls it on a timer. Does nothing when everything is sealed.
   *
   * @return whether a checkpoint was written
   * @throws AuditUnavailableException when the store cannot write
   */
  boolean seal();

  /**
   * What the store found wrong when it opened, if anything: a log or chain that ends before its
   * witnessed head, or a tail after the last checkpoint that does not verify. Such an end is left
   * unsealed (signing it would hide the cut) and, with a witness, kept there as a cut record that
   * {@link #verify} reports from then on. The server records it as an audit event.
   */
  default java.util.Optional<String> problemAtOpen() {
    return java.util.Optional.empty();
  }

  /** Seals the chain with a final checkpoint and releases resources. */
  @Override
  void close();
}
