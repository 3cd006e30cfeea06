package dev.protorad.policy;

import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.SecureRandom;
import java.security.interfaces.ECPublicKey;
import java.time.Instant;
import java.util.stream.Collectors;

/**
 * A realistic policy with every credential kind, written to a real file. Keys are generated once
 * per test run.
 */
final class Fixture {
  static final String ISSUER = "https://idp.hospital.test";
  static final String AUDIENCE = "protorad";
  static final Instant NOW = Instant.parse("2026-11-27T12:00:00Z");

  static final KeyPair GATEWAY_RSA = TestKeys.rsa();
  static final KeyPair GATEWAY_EC = TestKeys.ec();
  static final KeyPair GATEWAY_ED25519 = TestKeys.ed25519();
  static final KeyPair OTHER_RSA = TestKeys.rsa();

  private static final SecureRandom RANDOM = new SecureRandom();
  static final ApiKeys.ApiKey INTAKE_KEY = ApiKeys.generate(RANDOM);
  static final ApiKeys.ApiKey PORTAL_KEY = ApiKeys.generate(RANDOM);
  static final ApiKeys.ApiKey TRAINER_KEY = ApiKeys.generate(RANDOM);
  static final ApiKeys.ApiKey ER_DOC_KEY = ApiKeys.generate(RANDOM);

  static final String ROLES =
      """
      roles:
        order-intake: [note:submit]
        clinician: [note:submit, label:read, prediction:read]
        radiologist: [note:submit, label:read, prediction:read, prediction:review]
        technologist: [label:read, prediction:read]
        ml-engineer: [training:run, adapter:read, adapter:manage]
        ml-lead: [training:run, adapter:read, adapter:manage, adapter:promote]
        compliance-officer: [audit:read, audit:verify]
        gateway: [identity:assert]
        emergency: [breakglass:invoke]
      """;

  private Fixture() {}

  static String yaml() {
    return "version: 1\n" + ROLES + principals() + "breakGlass:\n  maxDuration: 30m\n";
  }

  static String principals() {
    return """
        principals:
          - id: intake
            kind: service
            roles: [order-intake]
            apiKeyHashes: [%s]
          - id: trainer
            kind: service
            roles: [ml-engineer]
            apiKeyHashes: [%s]
          - id: er-doc
            kind: user
            roles: [order-intake, emergency]
            apiKeyHashes: [%s]
          - id: scanner
            kind: service
            roles: [technologist]
            certificates:
              subjects: ["CN=scanner, O=Hospital"]
              sans: [dns:scanner.internal, uri:spiffe://hospital/ns/imaging/sa/scanner]
          - id: portal
            kind: gateway
            roles: [gateway]
            apiKeyHashes: [%s]
            gateway:
              issuer: %s
              audience: %s
              keys:
                - kid: rsa-1
                  pem: |
        %s
                - jwk: %s
                - jwk: %s
              assertableRoles: [clinician, radiologist, technologist, emergency]
              maxTokenLifetime: 15m
              clockSkew: 30s
        """
        .formatted(
            INTAKE_KEY.hash(),
            TRAINER_KEY.hash(),
            ER_DOC_KEY.hash(),
            PORTAL_KEY.hash(),
            ISSUER,
            AUDIENCE,
            indent(TestKeys.pem(GATEWAY_RSA.getPublic()), 12),
            ecJwk(),
            TestKeys.ed25519Jwk(GATEWAY_ED25519.getPublic(), "ed-1"));
  }

  private static String ecJwk() {
    return new ECKey.Builder(Curve.P_256, (ECPublicKey) GATEWAY_EC.getPublic())
        .keyID("ec-1")
        .build()
        .toJSONString();
  }

  static String indent(String text, int spaces) {
    String pad = " ".repeat(spaces);
    return text.lines().map(line -> pad + line).collect(Collectors.joining("\n"));
  }

  static Path write(Path dir, String yaml) {
    try {
      Path file = dir.resolve("policy.yaml");
      Files.writeString(file, yaml);
      return file;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static Policy policy() {
    try {
      return PolicyLoader.parse(yaml(), "policy.yaml");
    } catch (PolicyException e) {
      throw new AssertionError(e.getMessage(), e);
    }
  }
}
