package dev.protorad.audit;

import org.jspecify.annotations.Nullable;

/**
 * The audit store cannot make an event durable (disk full, I/O error, database down, store closed).
 * Callers must fail closed: the audited action's result must not be returned.
 *
 * <p>Messages name the store and the failure, never event contents.
 */
public final class AuditUnavailableException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  /** Creates the exception with a message and the underlying failure. */
  public AuditUnavailableException(String message, @Nullable Throwable cause) {
    super(message, cause);
  }

  /** Creates the exception with a message. */
  public AuditUnavailableException(String message) {
    super(message);
  }
}
