package dev.protorad.policy;

import static java.util.Objects.requireNonNull;

import java.util.Set;
import org.jspecify.annotations.NullUnmarked;

/**
 * An authenticated caller.
 *
 * <p>For a direct caller {@code principalId} names the policy principal and {@code roles} are its
 * roles. For an end user asserted by a gateway, {@code principalId} and {@code kind} are the
 * gateway's, {@code onBehalfOf} is the user's subject from the token, {@code viaGateway} is true
 * and {@code roles} are the user's asserted roles, already cut to what that gateway may assert
 * (never the gateway's own roles).
 *
 * @param principalId the policy principal that presented the credential
 * @param kind the kind of that principal
 * @param roles the roles that authorization uses
 * @param onBehalfOf the end user's subject, or {@code null} when the caller acts for itself
 * @param viaGateway whether the identity was asserted by a gateway
 */
// Unmarked: onBehalfOf is null for a caller acting for itself, and a type-use @Nullable on this
// record's component makes Jazzer 0.24's instrumentation of it fail (NoSuchFieldError) in the
// gateway-token fuzz target.
@NullUnmarked
public record Identity(
    String principalId,
    PrincipalKind kind,
    Set<String> roles,
    String onBehalfOf,
    boolean viaGateway) {

  /** Validates and copies the roles. */
  public Identity {
    requireNonNull(principalId, "principalId");
    requireNonNull(kind, "kind");
    roles = Set.copyOf(requireNonNull(roles, "roles"));
    if (viaGateway != (onBehalfOf != null)) {
      throw new IllegalArgumentException(
          "onBehalfOf: " + onBehalfOf + " (expected: set exactly when viaGateway)");
    }
  }

  /** A caller acting for itself. */
  public static Identity of(String principalId, PrincipalKind kind, Set<String> roles) {
    return new Identity(principalId, kind, roles, null, false);
  }

  /** An end user asserted by the gateway {@code gatewayId}. */
  public static Identity endUser(String gatewayId, String userSubject, Set<String> roles) {
    requireNonNull(userSubject, "userSubject");
    return new Identity(gatewayId, PrincipalKind.GATEWAY, roles, userSubject, true);
  }
}
