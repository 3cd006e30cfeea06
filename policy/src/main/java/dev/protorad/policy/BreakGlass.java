package dev.protorad.policy;

import static java.util.Objects.requireNonNull;

import dev.protorad.policy.BreakGlassException.Reason;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Emergency access ("break-glass"): a caller holding {@code breakglass:invoke} opens a time-boxed
 * grant with a stated reason, during which it may read labels ({@code label:read}) even without
 * that permission. Grants expire by the injected clock; the server audits the opening and every
 * access made under a grant. Grants live in memory of this process.
 */
public final class BreakGlass {
  /** The permissions an active grant adds. */
  public static final Set<String> COVERED_PERMISSIONS = Set.of(Permissions.LABEL_READ);

  private static final int ID_BYTES = 16;

  private final PolicyEngine engine;
  private final Clock clock;
  private final Supplier<String> ids;
  private final BreakGlassGrants grants;

  private BreakGlass(
      PolicyEngine engine, Clock clock, Supplier<String> ids, BreakGlassGrants grants) {
    this.engine = engine;
    this.clock = clock;
    this.ids = ids;
    this.grants = grants;
  }

  /**
   * Break-glass over {@code engine}'s policy (its limits and the {@code breakglass:invoke} check).
   *
   * @param clock decides when grants start and expire
   * @param random the source of grant ids
   */
  public static BreakGlass create(PolicyEngine engine, Clock clock, SecureRandom random) {
    return create(engine, clock, random, BreakGlassGrants.inMemory());
  }

  /** As {@link #create(PolicyEngine, Clock, SecureRandom)}, keeping grants in {@code grants}. */
  public static BreakGlass create(
      PolicyEngine engine, Clock clock, SecureRandom random, BreakGlassGrants grants) {
    requireNonNull(engine, "engine");
    requireNonNull(clock, "clock");
    requireNonNull(random, "random");
    requireNonNull(grants, "grants");
    return new BreakGlass(engine, clock, () -> randomId(random), grants);
  }

  /** Opens a grant for the policy's maximum duration. */
  public BreakGlassGrant open(Identity identity, String reason) {
    return open(identity, reason, engine.policy().breakGlassMaxDuration());
  }

  /**
   * Opens a grant for {@code identity}.
   *
   * @param reason why access is needed; non-blank, at most the policy's maximum length, one line
   * @param duration how long the grant lasts; positive and at most the policy's maximum
   * @throws BreakGlassException if the caller lacks {@code breakglass:invoke} or an argument is out
   *     of bounds
   */
  public BreakGlassGrant open(Identity identity, String reason, Duration duration) {
    requireNonNull(identity, "identity");
    requireNonNull(reason, "reason");
    requireNonNull(duration, "duration");
    if (!engine.isPermitted(identity, Permissions.BREAKGLASS_INVOKE)) {
      throw new BreakGlassException(Reason.NOT_PERMITTED, "caller lacks breakglass:invoke");
    }
    BreakGlassSettings settings = engine.policy().breakGlass();
    String stated = checkReason(reason, settings.maxReasonLength());
    checkDuration(duration, settings.maxDuration());
    Instant now = clock.instant();
    BreakGlassGrant grant =
        new BreakGlassGrant(
            ids.get(),
            identity.principalId(),
            identity.onBehalfOf(),
            stated,
            now,
            now.plus(duration));
    grants.add(grant);
    return grant;
  }

  /**
   * The active grant that lets {@code identity} use {@code permission}, if any: the one ending
   * last. A grant stops covering its holder as soon as the policy no longer gives the holder {@code
   * breakglass:invoke}.
   */
  public Optional<BreakGlassGrant> coveringGrant(Identity identity, String permission) {
    requireNonNull(identity, "identity");
    requireNonNull(permission, "permission");
    if (!COVERED_PERMISSIONS.contains(permission)) {
      return Optional.empty();
    }
    Instant now = clock.instant();
    Optional<BreakGlassGrant> grant =
        grants.active(now).stream()
            .filter(g -> g.belongsTo(identity))
            .max(Comparator.comparing(BreakGlassGrant::expiresAt));
    return grant.filter(g -> engine.isPermitted(identity, Permissions.BREAKGLASS_INVOKE));
  }

  /** The grants active now, oldest first. */
  public List<BreakGlassGrant> activeGrants() {
    Instant now = clock.instant();
    return grants.active(now).stream()
        .sorted(Comparator.comparing(BreakGlassGrant::openedAt).thenComparing(BreakGlassGrant::id))
        .toList();
  }

  /** Ends a grant early; returns whether it existed. */
  public boolean revoke(String grantId) {
    return grants.remove(requireNonNull(grantId, "grantId"));
  }

  private static String checkReason(String reason, int maxLength) {
    String stated = reason.strip();
    if (stated.isEmpty()) {
      throw new BreakGlassException(Reason.INVALID_REASON, "reason is blank");
    }
    if (stated.length() > maxLength) {
      throw new BreakGlassException(
          Reason.INVALID_REASON, "reason longer than " + maxLength + " characters");
    }
    if (stated.chars().anyMatch(Character::isISOControl)) {
      throw new BreakGlassException(Reason.INVALID_REASON, "reason contains control characters");
    }
    return stated;
  }

  private static void checkDuration(Duration duration, Duration max) {
    if (duration.isNegative() || duration.isZero() || duration.compareTo(max) > 0) {
      throw new BreakGlassException(
          Reason.INVALID_DURATION, "duration: " + duration + " (expected: > 0 and <= " + max + ")");
    }
  }

  private static String randomId(SecureRandom random) {
    byte[] bytes = new byte[ID_BYTES];
    random.nextBytes(bytes);
    return "bg-" + HexFormat.of().formatHex(bytes);
  }
}
