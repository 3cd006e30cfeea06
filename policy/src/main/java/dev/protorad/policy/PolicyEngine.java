package dev.protorad.policy;

import static java.util.Objects.requireNonNull;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.protorad.policy.IdentityAssertionException.Reason;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.Collection;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Authenticates callers against the current policy and decides permissions; the facade the server's
 * interceptors call. Thread-safe. Each call reads one policy snapshot from the {@link
 * PolicyHolder}, so a reload never changes the rules in the middle of a decision.
 *
 * <p>Decisions are cached with Caffeine by (policy snapshot, roles, permission); a reload clears
 * the cache, and since the snapshot is part of the key, no decision of an old policy can be served
 * after a swap even while the cache is being cleared.
 */
public final class PolicyEngine {
  /** Default bound of the decision cache; distinct role sets are few in practice. */
  public static final long DEFAULT_CACHE_SIZE = 10_000;

  private static final Logger log = LoggerFactory.getLogger(PolicyEngine.class);

  private final PolicyHolder holder;
  private final Clock clock;
  private final Cache<DecisionKey, Boolean> decisions;

  private record DecisionKey(Policy policy, Set<String> roles, String permission) {}

  private PolicyEngine(PolicyHolder holder, Clock clock, long cacheSize) {
    this.holder = holder;
    this.clock = clock;
    this.decisions = Caffeine.newBuilder().maximumSize(cacheSize).build();
    holder.addListener(decisionInvalidator());
  }

  /** Drops every cached decision when a new policy is applied. */
  private PolicyListener decisionInvalidator() {
    return new PolicyListener() {
      @Override
      public void onApplied(Policy policy) {
        decisions.invalidateAll();
      }
    };
  }

  /**
   * An engine over {@code holder}'s current policy.
   *
   * @param clock the time used to check token expiry
   */
  public static PolicyEngine create(PolicyHolder holder, Clock clock) {
    return create(holder, clock, DEFAULT_CACHE_SIZE);
  }

  /** As {@link #create(PolicyHolder, Clock)} with a bound on the number of cached decisions. */
  public static PolicyEngine create(PolicyHolder holder, Clock clock, long cacheSize) {
    requireNonNull(holder, "holder");
    requireNonNull(clock, "clock");
    return new PolicyEngine(holder, clock, checkCacheSize(cacheSize));
  }

  private static long checkCacheSize(long cacheSize) {
    if (cacheSize < 1) {
      throw new IllegalArgumentException("cacheSize: " + cacheSize + " (expected: >= 1)");
    }
    return cacheSize;
  }

  /** The policy snapshot in force now. */
  public Policy policy() {
    return holder.current();
  }

  /**
   * The principal whose stored hash matches {@code presentedKey}, or empty. Every stored hash is
   * compared in constant time.
   */
  public Optional<Identity> authenticateApiKey(String presentedKey) {
    requireNonNull(presentedKey, "presentedKey");
    if (presentedKey.isBlank() || presentedKey.length() > ApiKeys.MAX_KEY_LENGTH) {
      return Optional.empty();
    }
    return holder
        .current()
        .principalForKeyHash(ApiKeys.digest(presentedKey))
        .map(PolicyPrincipal::identity);
  }

  /**
   * The principal that {@code certificate}'s subject DN or one of its SANs maps to, or empty when
   * none does or when it maps to more than one principal. The certificate must already have been
   * validated against the trust store by the TLS layer; this only maps it.
   */
  public Optional<Identity> authenticateCertificate(X509Certificate certificate) {
    requireNonNull(certificate, "certificate");
    Collection<PolicyPrincipal> matches;
    try {
      matches = holder.current().principalsForCertificate(certificate);
    } catch (CertificateParsingException e) {
      log.warn("client certificate has unparseable subject alternative names; refused");
      return Optional.empty();
    }
    if (matches.size() > 1) {
      log.warn("client certificate maps to {} principals; refused as ambiguous", matches.size());
      return Optional.empty();
    }
    return matches.stream().findFirst().map(PolicyPrincipal::identity);
  }

  /**
   * The end user that {@code gateway} asserts with {@code jwt}, with the token's roles cut to what
   * that gateway may assert.
   *
   * @param gateway the already authenticated caller that sent the end-user token
   * @param jwt the compact JWS the gateway forwarded
   * @throws IdentityAssertionException naming the failed check; {@link
   *     IdentityAssertionException#isPermissionDenied()} tells a caller without the right to assert
   *     apart from a bad token
   */
  public Identity assertEndUser(Identity gateway, String jwt) {
    requireNonNull(gateway, "gateway");
    requireNonNull(jwt, "jwt");
    Policy policy = holder.current();
    GatewaySettings settings = gatewaySettings(policy, gateway);
    return GatewayTokenVerifier.verify(
        gateway.principalId(), settings, policy, jwt, clock.instant());
  }

  private GatewaySettings gatewaySettings(Policy policy, Identity caller) {
    if (caller.viaGateway() || !permits(policy, caller, Permissions.IDENTITY_ASSERT)) {
      throw new IdentityAssertionException(
          Reason.CALLER_NOT_GATEWAY, "caller lacks identity:assert");
    }
    return policy
        .principal(caller.principalId())
        .map(PolicyPrincipal::gateway)
        .orElseThrow(
            () ->
                new IdentityAssertionException(
                    Reason.CALLER_NOT_GATEWAY, "caller has no gateway settings in the policy"));
  }

  /**
   * Whether the policy grants {@code permission} to {@code identity}'s roles. Deny by default:
   * unknown roles grant nothing. Break-glass grants are not considered here; see {@link
   * BreakGlass#coveringGrant}.
   *
   * @param permission a well-formed {@code domain:action[:instance]} string
   * @throws IllegalArgumentException if {@code permission} is not well formed
   */
  public boolean isPermitted(Identity identity, String permission) {
    requireNonNull(identity, "identity");
    Permissions.requireWellFormed(permission);
    return permits(holder.current(), identity, permission);
  }

  private boolean permits(Policy policy, Identity identity, String permission) {
    return decisions.get(
        new DecisionKey(policy, identity.roles(), permission),
        key -> policy.permits(key.roles(), key.permission()));
  }
}
