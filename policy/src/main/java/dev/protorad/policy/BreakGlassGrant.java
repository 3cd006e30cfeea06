package dev.protorad.policy;

import static java.util.Objects.requireNonNull;

import java.time.Instant;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * An emergency-access grant: while active, its holder may read labels it normally cannot.
 *
 * @param id a random id that audit events of the grant's start and each access refer to
 * @param principalId the principal that opened it
 * @param onBehalfOf the end user who opened it through a gateway, or {@code null}
 * @param reason the stated reason, stripped, bounded in length
 * @param openedAt when it started
 * @param expiresAt when it ends (exclusive)
 */
public record BreakGlassGrant(
    String id,
    String principalId,
    @Nullable String onBehalfOf,
    String reason,
    Instant openedAt,
    Instant expiresAt) {

  /** Validates the fields. */
  public BreakGlassGrant {
    requireNonNull(id, "id");
    requireNonNull(principalId, "principalId");
    requireNonNull(reason, "reason");
    requireNonNull(openedAt, "openedAt");
    requireNonNull(expiresAt, "expiresAt");
    if (!expiresAt.isAfter(openedAt)) {
      throw new IllegalArgumentException(
          "expiresAt: " + expiresAt + " (expected: after openedAt " + openedAt + ")");
    }
  }

  /** Whether the grant is in force at {@code now}. */
  public boolean isActiveAt(Instant now) {
    return !now.isBefore(openedAt) && now.isBefore(expiresAt);
  }

  /** Whether the grant was opened by {@code identity} (same principal and same end user). */
  public boolean belongsTo(Identity identity) {
    return principalId.equals(identity.principalId())
        && Objects.equals(onBehalfOf, identity.onBehalfOf());
  }
}
