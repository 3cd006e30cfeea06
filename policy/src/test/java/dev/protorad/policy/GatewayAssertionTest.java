package dev.protorad.policy;

import static dev.protorad.policy.Fixture.AUDIENCE;
import static dev.protorad.policy.Fixture.ISSUER;
import static dev.protorad.policy.Fixture.NOW;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.protorad.policy.IdentityAssertionException.Reason;
import dev.protorad.testing.MutableClock;
import java.security.KeyPair;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.RSAPublicKey;
import java.time.Duration;
import java.util.Date;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class GatewayAssertionTest {
  private static final long FIVE_MINUTES = 300;

  private MutableClock clock;
  private PolicyEngine engine;
  private Identity portal;

  @BeforeEach
  void setUp() {
    clock = new MutableClock(NOW);
    engine = PolicyEngine.create(PolicyHolder.of(Fixture.policy()), clock);
    portal = engine.authenticateApiKey(Fixture.PORTAL_KEY.key()).orElseThrow();
  }

  private static JWTClaimsSet.Builder claims() {
    return TestKeys.claims(ISSUER, AUDIENCE, "dr.house", NOW, FIVE_MINUTES)
        .claim("roles", List.of("clinician"));
  }

  private static String rsaToken(JWTClaimsSet claims) {
    return TestKeys.sign(Fixture.GATEWAY_RSA, claims);
  }

  private Reason rejection(Identity caller, String token) {
    IdentityAssertionException e =
        catchThrowableOfType(
            IdentityAssertionException.class, () -> engine.assertEndUser(caller, token));
    assertThat(e).as("expected the assertion to be refused").isNotNull();
    if (!token.isEmpty()) {
      assertThat(e.getMessage()).doesNotContain(token);
    }
    return e.reason();
  }

  @Test
  void assertEndUser_validRsaToken_yieldsEndUserWithItsRoles() {
    Identity user = engine.assertEndUser(portal, rsaToken(claims().build()));

    assertThat(user)
        .isEqualTo(
            new Identity("portal", PrincipalKind.GATEWAY, Set.of("clinician"), "dr.house", true));
    assertThat(engine.isPermitted(user, Permissions.LABEL_READ)).isTrue();
    assertThat(engine.isPermitted(user, Permissions.IDENTITY_ASSERT)).isFalse();
  }

  @Test
  void assertEndUser_validEcToken_isAccepted() {
    String token = TestKeys.sign(Fixture.GATEWAY_EC, claims().build());

    assertThat(engine.assertEndUser(portal, token).onBehalfOf()).isEqualTo("dr.house");
  }

  @Test
  void assertEndUser_validEd25519Token_isAccepted() {
    String token = TestKeys.signEd25519(Fixture.GATEWAY_ED25519, claims().build());

    assertThat(engine.assertEndUser(portal, token).roles()).containsExactly("clinician");
  }

  @Test
  void assertEndUser_rolesBeyondGatewayAllowance_areCut() {
    JWTClaimsSet claims =
        claims().claim("roles", List.of("radiologist", "ml-lead", "compliance-officer")).build();

    Identity user = engine.assertEndUser(portal, rsaToken(claims));

    assertThat(user.roles()).containsExactly("radiologist");
    assertThat(engine.isPermitted(user, Permissions.ADAPTER_PROMOTE)).isFalse();
    assertThat(engine.isPermitted(user, Permissions.AUDIT_READ)).isFalse();
  }

  @Test
  void assertEndUser_gatewayRoleInToken_isCutAway() {
    Identity user =
        engine.assertEndUser(portal, rsaToken(claims().claim("roles", List.of("gateway")).build()));

    assertThat(user.roles()).isEmpty();
    assertThat(engine.isPermitted(user, Permissions.IDENTITY_ASSERT)).isFalse();
  }

  @Test
  void assertEndUser_noRolesClaim_yieldsUserWithoutPermissions() {
    JWTClaimsSet claims = TestKeys.claims(ISSUER, AUDIENCE, "dr.house", NOW, FIVE_MINUTES).build();

    Identity user = engine.assertEndUser(portal, rsaToken(claims));

    assertThat(user.roles()).isEmpty();
    assertThat(Permissions.ALL).noneMatch(p -> engine.isPermitted(user, p));
  }

  @Test
  void assertEndUser_unknownRole_isRejected() {
    String token = rsaToken(claims().claim("roles", List.of("clinician", "god-mode")).build());

    assertThat(rejection(portal, token)).isEqualTo(Reason.UNKNOWN_ROLES);
  }

  @Test
  void assertEndUser_expiredToken_isRejected() {
    clock.advance(Duration.ofMinutes(10));

    assertThat(rejection(portal, rsaToken(claims().build()))).isEqualTo(Reason.EXPIRED);
  }

  @Test
  void assertEndUser_expiredWithinSkew_isAccepted() {
    clock.set(NOW.plusSeconds(FIVE_MINUTES + 30));

    assertThat(engine.assertEndUser(portal, rsaToken(claims().build())).onBehalfOf())
        .isEqualTo("dr.house");
  }

  @Test
  void assertEndUser_oneSecondBeyondSkew_isRejected() {
    clock.set(NOW.plusSeconds(FIVE_MINUTES + 31));

    assertThat(rejection(portal, rsaToken(claims().build()))).isEqualTo(Reason.EXPIRED);
  }

  @Test
  void assertEndUser_notBeforeInFuture_isRejected() {
    JWTClaimsSet claims = claims().notBeforeTime(Date.from(NOW.plusSeconds(120))).build();

    assertThat(rejection(portal, rsaToken(claims))).isEqualTo(Reason.NOT_YET_VALID);
  }

  @Test
  void assertEndUser_notBeforeWithinSkew_isAccepted() {
    JWTClaimsSet claims = claims().notBeforeTime(Date.from(NOW.plusSeconds(30))).build();

    assertThat(engine.assertEndUser(portal, rsaToken(claims)).onBehalfOf()).isEqualTo("dr.house");
  }

  @Test
  void assertEndUser_notBeforeOneSecondBeyondSkew_isRejected() {
    JWTClaimsSet claims = claims().notBeforeTime(Date.from(NOW.plusSeconds(31))).build();

    assertThat(rejection(portal, rsaToken(claims))).isEqualTo(Reason.NOT_YET_VALID);
  }

  @Test
  void assertEndUser_issuedInFuture_isRejected() {
    JWTClaimsSet claims =
        TestKeys.claims(ISSUER, AUDIENCE, "dr.house", NOW.plusSeconds(600), FIVE_MINUTES).build();

    assertThat(rejection(portal, rsaToken(claims))).isEqualTo(Reason.NOT_YET_VALID);
  }

  @Test
  void assertEndUser_lifetimeTooLong_isRejected() {
    JWTClaimsSet claims = TestKeys.claims(ISSUER, AUDIENCE, "dr.house", NOW, 16 * 60).build();

    assertThat(rejection(portal, rsaToken(claims))).isEqualTo(Reason.LIFETIME_TOO_LONG);
  }

  @Test
  void assertEndUser_lifetimeAtMaximum_isAccepted() {
    JWTClaimsSet claims = TestKeys.claims(ISSUER, AUDIENCE, "dr.house", NOW, 15 * 60).build();

    assertThat(engine.assertEndUser(portal, rsaToken(claims)).onBehalfOf()).isEqualTo("dr.house");
  }

  @Test
  void assertEndUser_wrongIssuer_isRejected() {
    JWTClaimsSet claims = claims().issuer("https://evil.test").build();

    assertThat(rejection(portal, rsaToken(claims))).isEqualTo(Reason.WRONG_ISSUER);
  }

  @Test
  void assertEndUser_wrongAudience_isRejected() {
    JWTClaimsSet claims = claims().audience("another-service").build();

    assertThat(rejection(portal, rsaToken(claims))).isEqualTo(Reason.WRONG_AUDIENCE);
  }

  @Test
  void assertEndUser_audienceListContainingOurs_isAccepted() {
    JWTClaimsSet claims = claims().audience(List.of("another-service", AUDIENCE)).build();

    assertThat(engine.assertEndUser(portal, rsaToken(claims)).onBehalfOf()).isEqualTo("dr.house");
  }

  @Test
  void assertEndUser_signedByAnotherKey_isRejected() {
    String token = TestKeys.sign(Fixture.OTHER_RSA, claims().build());

    assertThat(rejection(portal, token)).isEqualTo(Reason.BAD_SIGNATURE);
  }

  @Test
  void assertEndUser_tamperedPayload_isRejected() {
    String token = rsaToken(claims().build());
    String forged = rsaToken(claims().claim("roles", List.of("radiologist")).build());
    String[] parts = token.split("\\.", -1);
    String spliced = parts[0] + "." + forged.split("\\.", -1)[1] + "." + parts[2];

    assertThat(rejection(portal, spliced)).isEqualTo(Reason.BAD_SIGNATURE);
  }

  @Test
  void assertEndUser_algNone_isRejected() {
    assertThat(rejection(portal, TestKeys.unsigned(claims().build())))
        .isEqualTo(Reason.BAD_SIGNATURE);
  }

  @Test
  void assertEndUser_hmacSignedWithPublicKeyBytes_isRejected() throws JOSEException {
    // The classic algorithm-confusion attack: HS256 keyed with the gateway's public key.
    SignedJWT jwt = new SignedJWT(new JWSHeader(JWSAlgorithm.HS256), claims().build());
    jwt.sign(new MACSigner(Fixture.GATEWAY_RSA.getPublic().getEncoded()));

    assertThat(rejection(portal, jwt.serialize())).isEqualTo(Reason.BAD_SIGNATURE);
  }

  @Test
  void assertEndUser_kidOfAnotherKey_isRejected() throws JOSEException {
    KeyPair ec = Fixture.GATEWAY_EC;
    SignedJWT jwt =
        new SignedJWT(
            new JWSHeader.Builder(JWSAlgorithm.ES256).keyID("rsa-1").build(), claims().build());
    jwt.sign(new ECDSASigner((ECPrivateKey) ec.getPrivate()));

    assertThat(rejection(portal, jwt.serialize())).isEqualTo(Reason.BAD_SIGNATURE);
  }

  @Test
  void assertEndUser_garbage_isMalformed() {
    assertThat(rejection(portal, "not.a.jwt")).isEqualTo(Reason.MALFORMED);
    assertThat(rejection(portal, "")).isEqualTo(Reason.MALFORMED);
  }

  @Test
  void assertEndUser_missingSubject_isMalformed() {
    JWTClaimsSet claims = claims().subject(null).build();

    assertThat(rejection(portal, rsaToken(claims))).isEqualTo(Reason.MALFORMED);
  }

  @Test
  void assertEndUser_missingExpiry_isMalformed() {
    JWTClaimsSet claims = claims().expirationTime(null).build();

    assertThat(rejection(portal, rsaToken(claims))).isEqualTo(Reason.MALFORMED);
  }

  @Test
  void assertEndUser_fromPrincipalWithoutIdentityAssert_isPermissionDenied() {
    Identity trainer = engine.authenticateApiKey(Fixture.TRAINER_KEY.key()).orElseThrow();

    IdentityAssertionException e =
        catchThrowableOfType(
            IdentityAssertionException.class,
            () -> engine.assertEndUser(trainer, rsaToken(claims().build())));

    assertThat(e.reason()).isEqualTo(Reason.CALLER_NOT_GATEWAY);
    assertThat(e.isPermissionDenied()).isTrue();
  }

  @Test
  void assertEndUser_byAnAssertedUser_isPermissionDenied() {
    Identity user = engine.assertEndUser(portal, rsaToken(claims().build()));

    assertThat(rejection(user, rsaToken(claims().build()))).isEqualTo(Reason.CALLER_NOT_GATEWAY);
  }

  @Test
  void assertEndUser_gatewayRoleWithoutGatewaySettings_isPermissionDenied() {
    Identity impostor = Identity.of("intake", PrincipalKind.SERVICE, Set.of("gateway"));

    assertThat(rejection(impostor, rsaToken(claims().build())))
        .isEqualTo(Reason.CALLER_NOT_GATEWAY);
  }

  @Test
  void assertEndUser_keysGivenTheOtherWay_verifyToo() throws Exception {
    String rsaJwk =
        new RSAKey.Builder((RSAPublicKey) Fixture.GATEWAY_RSA.getPublic()).build().toJSONString();
    String yaml =
        """
        version: 1
        principals:
          - id: gw
            kind: gateway
            roles: [gateway]
            gateway:
              issuer: %s
              audience: %s
              assertableRoles: [clinician]
              keys:
                - jwk: %s
                - pem: |
        %s
                - pem: |
        %s
        """
            .formatted(
                ISSUER,
                AUDIENCE,
                rsaJwk,
                Fixture.indent(TestKeys.pem(Fixture.GATEWAY_EC.getPublic()), 12),
                Fixture.indent(TestKeys.pem(Fixture.GATEWAY_ED25519.getPublic()), 12));
    PolicyEngine other =
        PolicyEngine.create(PolicyHolder.of(PolicyLoader.parse(yaml, "policy.yaml")), clock);
    Identity gw = Identity.of("gw", PrincipalKind.GATEWAY, Set.of("gateway"));

    assertThat(
            List.of(
                TestKeys.sign(Fixture.GATEWAY_RSA, claims().build()),
                TestKeys.sign(Fixture.GATEWAY_EC, claims().build()),
                TestKeys.signEd25519(Fixture.GATEWAY_ED25519, claims().build())))
        .allSatisfy(
            token ->
                assertThat(other.assertEndUser(gw, token).roles()).containsExactly("clinician"));
  }

  @Test
  void reasons_onlyCallerNotGateway_isAPermissionProblem() {
    assertThat(Reason.values())
        .filteredOn(Reason::isPermissionDenied)
        .containsExactly(Reason.CALLER_NOT_GATEWAY);
  }
}
