package dev.protorad.policy;

import java.time.Duration;
import java.util.List;
import java.util.Set;

/** How a gateway's end-user tokens are checked. */
record GatewaySettings(
    String issuer,
    String audience,
    List<GatewayKey> keys,
    Set<String> assertableRoles,
    Duration maxTokenLifetime,
    Duration clockSkew,
    String rolesClaim) {

  static final Duration DEFAULT_MAX_TOKEN_LIFETIME = Duration.ofMinutes(15);
  static final Duration MAX_MAX_TOKEN_LIFETIME = Duration.ofHours(24);
  static final Duration DEFAULT_CLOCK_SKEW = Duration.ofSeconds(60);
  static final Duration MAX_CLOCK_SKEW = Duration.ofMinutes(5);
  static final String DEFAULT_ROLES_CLAIM = "roles";

  GatewaySettings {
    keys = List.copyOf(keys);
    assertableRoles = Set.copyOf(assertableRoles);
  }
}
