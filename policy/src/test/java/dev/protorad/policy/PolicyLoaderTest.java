package dev.protorad.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import java.nio.file.Path;
import java.security.KeyPairGenerator;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PolicyLoaderTest {
  @TempDir Path dir;

  private List<String> errorsOf(String yaml) {
    PolicyException e =
        catchThrowableOfType(
            PolicyException.class, () -> PolicyLoader.load(Fixture.write(dir, yaml)));
    assertThat(e).as("expected the policy to be refused").isNotNull();
    return e.errors().stream().map(PolicyError::toString).toList();
  }

  @Test
  void load_fixture_isValid() throws PolicyException {
    Policy policy = PolicyLoader.load(Fixture.write(dir, Fixture.yaml()));

    assertThat(policy.principalIds())
        .containsExactlyInAnyOrder("intake", "trainer", "er-doc", "scanner", "portal");
    assertThat(policy.source()).isEqualTo("policy.yaml");
    assertThat(policy.digest()).hasSize(64);
  }

  @Test
  void load_withoutRoles_usesDefaultRoles() throws PolicyException {
    Policy policy =
        PolicyLoader.load(
            Fixture.write(
                dir,
                """
                version: 1
                principals:
                  - id: intake
                    kind: service
                    roles: [order-intake]
                """));

    assertThat(policy.roles()).isEqualTo(PolicyLoader.defaults().roles());
    assertThat(policy.permissionsOf("clinician"))
        .containsExactlyInAnyOrder("note:submit", "label:read", "prediction:read");
  }

  @Test
  void load_manyProblems_reportsEveryOneWithItsLine() {
    List<String> errors =
        errorsOf(
            """
            version: 1
            roles:
              reader: [label:read, "Label:Read", "note"]
            principals:
              - id: intake
                kind: service
                roles: [reader, admin]
                apiKeyHashes: [prk_this-is-a-raw-key]
                colour: blue
              - id: intake
                kind: robot
            """);

    assertThat(errors)
        .containsExactly(
            "policy.yaml:3: bad permission 'Label:Read' (expected domain:action[:instance], lower"
                + " case)",
            "policy.yaml:3: bad permission 'note' (expected domain:action[:instance], lower case)",
            "policy.yaml:7: principal intake.roles: unknown role 'admin'",
            "policy.yaml:8: principal intake: malformed API key hash (expected sha256:<64"
                + " lower-case hex>; never the key)",
            "policy.yaml:9: unknown key 'colour' in a principal (expected one of apiKeyHashes,"
                + " certificates, gateway, id, kind, roles)",
            "policy.yaml:11: principal intake: kind 'robot' is invalid (expected service, gateway"
                + " or user)");
  }

  @Test
  void load_malformedHash_neverEchoesTheValue() {
    List<String> errors =
        errorsOf(
            """
            version: 1
            principals:
              - id: intake
                kind: service
                apiKeyHashes: [prk_SECRET_KEY_MATERIAL]
            """);

    assertThat(errors).hasSize(1);
    assertThat(errors.get(0)).startsWith("policy.yaml:5:").doesNotContain("SECRET");
  }

  @Test
  void load_duplicatePrincipal_namesBothLines() {
    List<String> errors =
        errorsOf(
            """
            version: 1
            principals:
              - id: intake
                kind: service
              - id: intake
                kind: service
            """);

    assertThat(errors)
        .containsExactly("policy.yaml:5: duplicate principal 'intake' (first on line 3)");
  }

  @Test
  void load_duplicateKeyHash_acrossPrincipals_isRefused() {
    String hash = ApiKeys.hash("prk_shared");
    List<String> errors =
        errorsOf(
            """
            version: 1
            principals:
              - id: a
                kind: service
                apiKeyHashes: [%s]
              - id: b
                kind: service
                apiKeyHashes: [%s]
            """
                .formatted(hash, hash));

    assertThat(errors)
        .containsExactly("policy.yaml:8: principal b: duplicate API key hash (first on line 5)");
  }

  @Test
  void load_duplicateYamlKey_isRefused() {
    List<String> errors =
        errorsOf(
            """
            version: 1
            roles:
              reader: [label:read]
              reader: [note:submit]
            """);

    assertThat(errors).containsExactly("policy.yaml:4: duplicate key 'reader' (first on line 3)");
  }

  @Test
  void load_unknownRootKey_isRefused() {
    List<String> errors = errorsOf("version: 1\nprincipal: []\n");

    assertThat(errors)
        .containsExactly(
            "policy.yaml:2: unknown key 'principal' in the policy (expected one of breakGlass,"
                + " principals, roles, version)");
  }

  @Test
  void load_wrongVersion_isRefused() {
    assertThat(errorsOf("version: 2\n")).containsExactly("policy.yaml:1: version: 2 (expected: 1)");
  }

  @Test
  void load_yamlSyntaxError_carriesItsLine() {
    List<String> errors = errorsOf("version: 1\nroles:\n  a: [x:y\n  b: c\n: :\n");

    assertThat(errors).hasSize(1);
    assertThat(errors.get(0)).matches("policy\\.yaml:\\d+: YAML syntax error: .*");
  }

  @Test
  void load_emptyFile_isRefused() {
    assertThat(errorsOf("")).containsExactly("policy.yaml: the policy is empty");
  }

  @Test
  void load_missingFile_isRefused() {
    PolicyException e =
        catchThrowableOfType(
            PolicyException.class, () -> PolicyLoader.load(dir.resolve("absent.yaml")));

    assertThat(e.errors())
        .singleElement()
        .hasToString("absent.yaml: cannot read the file (NoSuchFileException)");
  }

  @Test
  void load_gatewayWithoutGatewayBlock_isRefused() {
    List<String> errors =
        errorsOf(
            """
            version: 1
            principals:
              - id: portal
                kind: gateway
                roles: [gateway]
            """);

    assertThat(errors)
        .containsExactly(
            "policy.yaml:3: principal portal: a principal of kind gateway needs a 'gateway' block");
  }

  @Test
  void load_badGatewaySettings_reportsEachProblem() {
    List<String> errors =
        errorsOf(
            """
            version: 1
            principals:
              - id: portal
                kind: gateway
                gateway:
                  issuer: https://idp
                  keys:
                    - pem: not-a-key
                    - jwk: {kty: RSA, n: abc}
                    - jwk: %s
                  assertableRoles: [gateway, clinician]
                  clockSkew: 10m
                  maxTokenLifetime: forever
            """
                .formatted(privateEcJwk()));

    assertThat(errors)
        .containsExactly(
            "policy.yaml:5: principal portal.gateway: 'audience' is required",
            "policy.yaml:8: principal portal.gateway.keys: not a PEM public key (bad base64)",
            "policy.yaml:9: principal portal.gateway.keys: not a valid JWK",
            "policy.yaml:10: principal portal.gateway.keys: private key material is not allowed;"
                + " configure the public JWK",
            "policy.yaml:11: principal portal.gateway: role 'gateway' grants identity:assert and"
                + " cannot be asserted",
            "policy.yaml:12: principal portal.gateway.clockSkew: PT10M (expected: PT0S..PT5M)",
            "policy.yaml:13: principal portal.gateway.maxTokenLifetime: 'forever' is not a"
                + " duration (expected e.g. 30m or PT30M)");
  }

  @Test
  void load_shortRsaKey_isRefused() throws Exception {
    KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
    generator.initialize(1024);
    String pem = TestKeys.pem(generator.generateKeyPair().getPublic());
    List<String> errors =
        errorsOf(
            """
            version: 1
            principals:
              - id: portal
                kind: gateway
                gateway:
                  issuer: https://idp
                  audience: protorad
                  keys:
                    - pem: |
            %s
            """
                .formatted(Fixture.indent(pem, 12)));

    assertThat(errors)
        .containsExactly(
            "policy.yaml:9: principal portal.gateway.keys: RSA key shorter than 2048 bits");
  }

  @Test
  void load_badCertificateMappings_areRefused() {
    List<String> errors =
        errorsOf(
            """
            version: 1
            principals:
              - id: a
                kind: service
                certificates:
                  subjects: ["CN=a,O=Hospital", "not a = = dn,,"]
                  sans: [dns:a.internal, ftp:a]
              - id: b
                kind: service
                certificates:
                  subjects: ["cn=A, o=hospital"]
                  sans: [DNS:x, dns:A.INTERNAL]
            """);

    assertThat(errors)
        .containsExactly(
            "policy.yaml:6: principal a: 'not a = = dn,,' is not an X.500 distinguished name",
            "policy.yaml:7: principal a: SAN 'ftp:a' is invalid (expected dns:, uri: or email:)",
            "policy.yaml:11: principal b: subject is already mapped (first on line 6)",
            "policy.yaml:12: principal b: SAN 'DNS:x' is invalid (expected dns:, uri: or email:)",
            "policy.yaml:12: principal b: SAN is already mapped (first on line 7)");
  }

  @Test
  void load_breakGlassOutOfBounds_isRefused() {
    List<String> errors =
        errorsOf(
            """
            version: 1
            breakGlass:
              maxDuration: 48h
              maxReasonLength: 0
            """);

    assertThat(errors)
        .containsExactly(
            "policy.yaml:3: breakGlass.maxDuration: PT48H (expected: PT1M..PT12H)",
            "policy.yaml:4: breakGlass.maxReasonLength: 0 (expected: 1..4000)");
  }

  private static String privateEcJwk() {
    try {
      return new ECKeyGenerator(Curve.P_256).generate().toJSONString();
    } catch (JOSEException e) {
      throw new AssertionError(e);
    }
  }
}
