package dev.protorad.policy;

import static java.util.Objects.requireNonNull;

/**
 * A break-glass grant was refused. Map {@link Reason#NOT_PERMITTED} to PERMISSION_DENIED and the
 * other reasons to INVALID_ARGUMENT. The message never contains the stated reason text.
 */
public final class BreakGlassException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** Why the grant was refused. */
  public enum Reason {
    /** The caller lacks {@code breakglass:invoke}. */
    NOT_PERMITTED,
    /** The stated reason is blank, too long or contains control characters. */
    INVALID_REASON,
    /** The requested duration is not positive or exceeds the policy's maximum. */
    INVALID_DURATION
  }

  private final Reason reason;

  BreakGlassException(Reason reason, String detail) {
    super(requireNonNull(reason, "reason") + ": " + detail);
    this.reason = reason;
  }

  /** Why the grant was refused. */
  public Reason reason() {
    return reason;
  }
}
