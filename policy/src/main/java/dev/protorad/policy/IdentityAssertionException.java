package dev.protorad.policy;

import static java.util.Objects.requireNonNull;

/**
 * A gateway's end-user assertion was refused. {@link #reason()} says why; the message names the
 * failed check only and never contains the token. Map {@link #isPermissionDenied()} to
 * PERMISSION_DENIED and every other reason to UNAUTHENTICATED, with a generic description.
 */
public final class IdentityAssertionException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** Why the assertion was refused. */
  public enum Reason {
    /**
     * The caller may not assert identities: it lacks {@code identity:assert}, has no gateway
     * settings in the policy, or is itself an asserted identity. The caller is authenticated, so
     * this is a permission problem (and must be audited).
     */
    CALLER_NOT_GATEWAY(true),
    /**
     * Not a compact JWS, claims not parseable, or {@code sub}, {@code exp} or {@code iat} missing.
     */
    MALFORMED(false),
    /** Not signed by a key of this gateway, including unsigned ({@code alg: none}) tokens. */
    BAD_SIGNATURE(false),
    /** {@code iss} is not the gateway's issuer. */
    WRONG_ISSUER(false),
    /** {@code aud} does not contain the gateway's audience. */
    WRONG_AUDIENCE(false),
    /** {@code exp} is past, beyond the allowed clock skew. */
    EXPIRED(false),
    /** {@code nbf} or {@code iat} is in the future, beyond the allowed clock skew. */
    NOT_YET_VALID(false),
    /** {@code exp - iat} exceeds the gateway's maximum token lifetime. */
    LIFETIME_TOO_LONG(false),
    /** The token asserts a role that the policy does not define. */
    UNKNOWN_ROLES(false);

    private final boolean permissionDenied;

    Reason(boolean permissionDenied) {
      this.permissionDenied = permissionDenied;
    }

    /** Whether this is a permission problem of an authenticated caller, not a bad token. */
    public boolean isPermissionDenied() {
      return permissionDenied;
    }
  }

  private final Reason reason;

  IdentityAssertionException(Reason reason, String detail) {
    super(requireNonNull(reason, "reason") + ": " + detail);
    this.reason = reason;
  }

  /** Why the assertion was refused. */
  public Reason reason() {
    return reason;
  }

  /** Shorthand for {@code reason().isPermissionDenied()}. */
  public boolean isPermissionDenied() {
    return reason.isPermissionDenied();
  }
}
