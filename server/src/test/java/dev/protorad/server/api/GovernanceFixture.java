package dev.protorad.server.api;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.protorad.policy.ApiKeys;
import dev.protorad.policy.PolicyHolder;
import dev.protorad.policy.PolicyLoader;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.security.interfaces.RSAPublicKey;
import java.time.Instant;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A real policy for server tests: one service principal per default role (each with its own API
 * key), a gateway principal with an RSA signing key, and a principal allowed to break glass.
 */
final class GovernanceFixture {

  static final List<String> ROLES =
      List.of(
          "order-intake",
          "clinician",
          "radiologist",
          "technologist",
          "ml-engineer",
          "ml-lead",
          "compliance-officer",
          "gateway");
  static final String ROLES_YAML =
      """
      roles:
        order-intake: [note:submit]
        clinician: [note:submit, label:read, prediction:read]
        radiologist: [note:submit, note:read, label:read, prediction:read, prediction:review]
        technologist: [label:read, prediction:read]
        ml-engineer: [training:run, adapter:read, adapter:manage]
        ml-lead: [training:run, adapter:read, adapter:manage, adapter:promote]
        compliance-officer: [audit:read, audit:verify]
        gateway: [identity:assert]
        emergency: [breakglass:invoke]
      """;
  static final String ISSUER = "https://idp.hospital.test";
  static final String AUDIENCE = "protorad";
  static final List<String> ASSERTABLE = List.of("clinician", "radiologist", "technologist");

  final Map<String, String> keyByRole = new LinkedHashMap<>();
  final KeyPair gatewayKeys = rsa();
  final KeyPair otherKeys = rsa();

  GovernanceFixture() {
    SecureRandom random = new SecureRandom();
    for (String role : ROLES) {
      keyByRole.put(role, ApiKeys.generate(random).key());
    }
  }

  /** The principal id that holds {@code role}. */
  static String principalOf(String role) {
    return "svc-" + role;
  }

  /** A user who may only submit notes, but may break glass to read labels in an emergency. */
  static final String ER_DOC = "er-doc";

  final String erDocKey = ApiKeys.generate(new SecureRandom()).key();

  String yaml() {
    StringBuilder y = new StringBuilder("version: 1\n").append(ROLES_YAML).append("principals:\n");
    y.append("  - id: ").append(ER_DOC).append("\n    kind: user\n");
    y.append("    roles: [order-intake, emergency]\n");
    y.append("    apiKeyHashes: [").append(ApiKeys.hash(erDocKey)).append("]\n");
    for (String role : ROLES) {
      y.append("  - id: ").append(principalOf(role)).append('\n');
      y.append("    kind: ").append(role.equals("gateway") ? "gateway" : "service").append('\n');
      y.append("    roles: [").append(role).append("]\n");
      y.append("    apiKeyHashes: [").append(ApiKeys.hash(keyByRole.get(role))).append("]\n");
      if (role.equals("gateway")) {
        y.append("    gateway:\n");
        y.append("      issuer: ").append(ISSUER).append('\n');
        y.append("      audience: ").append(AUDIENCE).append('\n');
        y.append("      keys:\n        - jwk: ").append(jwk()).append("\n");
        y.append("      assertableRoles: ").append(ASSERTABLE).append('\n');
        y.append("      maxTokenLifetime: 15m\n      clockSkew: 30s\n");
      }
    }
    return y.toString();
  }

  PolicyHolder policy() {
    try {
      return PolicyHolder.of(PolicyLoader.parse(yaml(), "policy.yaml"));
    } catch (dev.protorad.policy.PolicyException e) {
      throw new AssertionError(e.errors().toString(), e);
    }
  }

  /** An end-user token for {@code user} with {@code roles}, valid now unless shifted. */
  String token(KeyPair signer, String user, List<String> roles, Instant issuedAt) {
    JWTClaimsSet claims =
        new JWTClaimsSet.Builder()
            .issuer(ISSUER)
            .audience(AUDIENCE)
            .subject(user)
            .issueTime(Date.from(issuedAt))
            .expirationTime(Date.from(issuedAt.plusSeconds(300)))
            .claim("roles", roles)
            .build();
    try {
      SignedJWT jwt = new SignedJWT(new JWSHeader(JWSAlgorithm.RS256), claims);
      jwt.sign(new RSASSASigner(signer.getPrivate()));
      return jwt.serialize();
    } catch (JOSEException e) {
      throw new AssertionError(e);
    }
  }

  String validToken(String user, List<String> roles) {
    return token(gatewayKeys, user, roles, Instant.now().minusSeconds(5));
  }

  String expiredToken(String user, List<String> roles) {
    return token(gatewayKeys, user, roles, Instant.now().minusSeconds(3600));
  }

  String foreignToken(String user, List<String> roles) {
    return token(otherKeys, user, roles, Instant.now().minusSeconds(5));
  }

  private String jwk() {
    return new RSAKey.Builder((RSAPublicKey) gatewayKeys.getPublic())
        .keyID("gw-1")
        .build()
        .toJSONString();
  }

  private static KeyPair rsa() {
    try {
      KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
      g.initialize(2048);
      return g.generateKeyPair();
    } catch (NoSuchAlgorithmException e) {
      throw new AssertionError(e);
    }
  }
}
