package dev.protorad.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AuthenticationTest {
  @TempDir Path dir;
  private Path file;
  private PolicyEngine engine;

  @BeforeEach
  void setUp() throws PolicyException {
    file = Fixture.write(dir, Fixture.yaml());
    engine = PolicyEngine.create(PolicyHolder.load(file), Clock.fixed(Fixture.NOW, ZoneOffset.UTC));
  }

  @Test
  void authenticateApiKey_validKey_yieldsPrincipalWithItsRoles() {
    assertThat(engine.authenticateApiKey(Fixture.INTAKE_KEY.key()))
        .contains(Identity.of("intake", PrincipalKind.SERVICE, Set.of("order-intake")));
  }

  @Test
  void authenticateApiKey_policyFile_storesOnlyTheHash() throws Exception {
    String text = Files.readString(file);

    assertThat(text).contains(Fixture.INTAKE_KEY.hash()).doesNotContain(Fixture.INTAKE_KEY.key());
  }

  @Test
  void authenticateApiKey_wrongKey_isRejected() {
    String almost = Fixture.INTAKE_KEY.key().substring(0, Fixture.INTAKE_KEY.key().length() - 1);

    assertThat(engine.authenticateApiKey(almost + "x")).isEmpty();
    assertThat(engine.authenticateApiKey(ApiKeys.generate(new SecureRandom()).key())).isEmpty();
  }

  @Test
  void authenticateApiKey_hashPresentedAsKey_isRejected() {
    assertThat(engine.authenticateApiKey(Fixture.INTAKE_KEY.hash())).isEmpty();
  }

  @Test
  void authenticateApiKey_blankOrHugeKey_isRejected() {
    assertThat(engine.authenticateApiKey("")).isEmpty();
    assertThat(engine.authenticateApiKey("   ")).isEmpty();
    assertThat(engine.authenticateApiKey("k".repeat(10_000))).isEmpty();
  }

  @Test
  void authenticateApiKey_eachKey_mapsToItsOwnPrincipal() {
    assertThat(engine.authenticateApiKey(Fixture.TRAINER_KEY.key()))
        .map(Identity::principalId)
        .contains("trainer");
    assertThat(engine.authenticateApiKey(Fixture.PORTAL_KEY.key()))
        .contains(Identity.of("portal", PrincipalKind.GATEWAY, Set.of("gateway")));
  }

  @Test
  void authenticateCertificate_subjectMatch_yieldsPrincipal() {
    X509Certificate cert = TestKeys.selfSigned("CN=scanner,O=Hospital", List.of(), List.of());

    assertThat(engine.authenticateCertificate(cert))
        .contains(Identity.of("scanner", PrincipalKind.SERVICE, Set.of("technologist")));
  }

  @Test
  void authenticateCertificate_dnsSanMatch_yieldsPrincipal() {
    X509Certificate cert =
        TestKeys.selfSigned("CN=something-else", List.of("Scanner.Internal"), List.of());

    assertThat(engine.authenticateCertificate(cert)).map(Identity::principalId).contains("scanner");
  }

  @Test
  void authenticateCertificate_spiffeUriSanMatch_yieldsPrincipal() {
    X509Certificate cert =
        TestKeys.selfSigned(
            "CN=pod-1234", List.of(), List.of("spiffe://hospital/ns/imaging/sa/scanner"));

    assertThat(engine.authenticateCertificate(cert)).map(Identity::principalId).contains("scanner");
  }

  @Test
  void authenticateCertificate_unmappedCertificate_isRejected() {
    X509Certificate cert =
        TestKeys.selfSigned("CN=scanner,O=Elsewhere", List.of("scanner.external"), List.of());

    assertThat(engine.authenticateCertificate(cert)).isEmpty();
  }

  @Test
  void authenticateCertificate_mappedToTwoPrincipals_isRejectedAsAmbiguous() throws Exception {
    String yaml =
        """
        version: 1
        principals:
          - id: a
            kind: service
            certificates: {subjects: ["CN=a"]}
          - id: b
            kind: service
            certificates: {sans: ["dns:b.internal"]}
        """;
    PolicyEngine ambiguous =
        PolicyEngine.create(
            PolicyHolder.of(PolicyLoader.parse(yaml, "policy.yaml")), Clock.systemUTC());

    assertThat(
            ambiguous.authenticateCertificate(
                TestKeys.selfSigned("CN=a", List.of("b.internal"), List.of())))
        .isEmpty();
    assertThat(ambiguous.authenticateCertificate(TestKeys.selfSigned("CN=a", List.of(), List.of())))
        .map(Identity::principalId)
        .contains("a");
  }

  @Test
  void isPermitted_authenticatedPrincipal_followsItsRoles() {
    Identity intake = engine.authenticateApiKey(Fixture.INTAKE_KEY.key()).orElseThrow();

    assertThat(engine.isPermitted(intake, Permissions.NOTE_SUBMIT)).isTrue();
    assertThat(engine.isPermitted(intake, Permissions.LABEL_READ)).isFalse();
  }

  @Test
  void isPermitted_malformedPermission_isRefused() {
    Identity intake = engine.authenticateApiKey(Fixture.INTAKE_KEY.key()).orElseThrow();

    assertThatIllegalArgumentException()
        .isThrownBy(() -> engine.isPermitted(intake, "note:submit:../../etc"));
  }
}
