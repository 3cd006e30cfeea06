package dev.protorad.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.nimbusds.jwt.JWTClaimsSet;
import dev.protorad.policy.BreakGlassException.Reason;
import dev.protorad.testing.MutableClock;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BreakGlassTest {
  private static final String REASON = "Trauma bay 2: unconscious patient, prior imaging needed";

  @TempDir Path dir;
  private Path file;
  private MutableClock clock;
  private PolicyHolder holder;
  private PolicyEngine engine;
  private BreakGlass breakGlass;
  private Identity erDoc;

  @BeforeEach
  void setUp() throws PolicyException {
    file = Fixture.write(dir, Fixture.yaml());
    clock = new MutableClock(Fixture.NOW);
    holder = PolicyHolder.load(file);
    engine = PolicyEngine.create(holder, clock);
    breakGlass = BreakGlass.create(engine, clock, new SecureRandom());
    erDoc = engine.authenticateApiKey(Fixture.ER_DOC_KEY.key()).orElseThrow();
  }

  private Reason refusal(Identity identity, String reason, Duration duration) {
    BreakGlassException e =
        catchThrowableOfType(
            BreakGlassException.class, () -> breakGlass.open(identity, reason, duration));
    assertThat(e).as("expected the grant to be refused").isNotNull();
    return e.reason();
  }

  @Test
  void open_withBreakglassInvoke_grantsLabelReadForTheDuration() {
    assertThat(engine.isPermitted(erDoc, Permissions.LABEL_READ)).isFalse();

    BreakGlassGrant grant = breakGlass.open(erDoc, "  " + REASON + "  ", Duration.ofMinutes(10));

    assertThat(grant.principalId()).isEqualTo("er-doc");
    assertThat(grant.onBehalfOf()).isNull();
    assertThat(grant.reason()).isEqualTo(REASON);
    assertThat(grant.openedAt()).isEqualTo(Fixture.NOW);
    assertThat(grant.expiresAt()).isEqualTo(Fixture.NOW.plus(Duration.ofMinutes(10)));
    assertThat(grant.id()).startsWith("bg-");
    assertThat(breakGlass.coveringGrant(erDoc, Permissions.LABEL_READ)).contains(grant);
  }

  @Test
  void coveringGrant_otherPermissions_areNotCovered() {
    breakGlass.open(erDoc, REASON);

    assertThat(breakGlass.coveringGrant(erDoc, Permissions.PREDICTION_REVIEW)).isEmpty();
    assertThat(breakGlass.coveringGrant(erDoc, Permissions.AUDIT_READ)).isEmpty();
  }

  @Test
  void coveringGrant_afterExpiry_isEmpty() {
    breakGlass.open(erDoc, REASON, Duration.ofMinutes(10));
    clock.advance(Duration.ofMinutes(10).minusSeconds(1));
    assertThat(breakGlass.coveringGrant(erDoc, Permissions.LABEL_READ)).isPresent();

    clock.advance(Duration.ofSeconds(1));

    assertThat(breakGlass.coveringGrant(erDoc, Permissions.LABEL_READ)).isEmpty();
    assertThat(breakGlass.activeGrants()).isEmpty();
  }

  @Test
  void open_withoutDuration_usesPolicyMaximum() {
    BreakGlassGrant grant = breakGlass.open(erDoc, REASON);

    assertThat(Duration.between(grant.openedAt(), grant.expiresAt())).hasMinutes(30);
  }

  @Test
  void open_withoutBreakglassInvoke_isDenied() {
    Identity intake = engine.authenticateApiKey(Fixture.INTAKE_KEY.key()).orElseThrow();

    assertThat(refusal(intake, REASON, Duration.ofMinutes(5))).isEqualTo(Reason.NOT_PERMITTED);
    assertThat(breakGlass.activeGrants()).isEmpty();
    assertThat(breakGlass.coveringGrant(intake, Permissions.LABEL_READ)).isEmpty();
  }

  @Test
  void open_blankReason_isRefused() {
    assertThat(refusal(erDoc, " \t ", Duration.ofMinutes(5))).isEqualTo(Reason.INVALID_REASON);
  }

  @Test
  void open_reasonTooLong_isRefused() {
    assertThat(refusal(erDoc, "x".repeat(501), Duration.ofMinutes(5)))
        .isEqualTo(Reason.INVALID_REASON);
  }

  @Test
  void open_reasonWithControlCharacters_isRefused() {
    assertThat(refusal(erDoc, "line one\nforged audit line", Duration.ofMinutes(5)))
        .isEqualTo(Reason.INVALID_REASON);
  }

  @Test
  void open_durationBeyondMaximum_isRefused() {
    assertThat(refusal(erDoc, REASON, Duration.ofMinutes(31))).isEqualTo(Reason.INVALID_DURATION);
    assertThat(refusal(erDoc, REASON, Duration.ZERO)).isEqualTo(Reason.INVALID_DURATION);
  }

  @Test
  void coveringGrant_otherCaller_isNotCovered() {
    breakGlass.open(erDoc, REASON);
    Identity intake = engine.authenticateApiKey(Fixture.INTAKE_KEY.key()).orElseThrow();

    assertThat(breakGlass.coveringGrant(intake, Permissions.LABEL_READ)).isEmpty();
  }

  @Test
  void open_endUserThroughGateway_isScopedToThatUser() {
    Identity portal = engine.authenticateApiKey(Fixture.PORTAL_KEY.key()).orElseThrow();
    Identity alice = assertUser(portal, "alice");
    Identity bob = assertUser(portal, "bob");

    BreakGlassGrant grant = breakGlass.open(alice, REASON);

    assertThat(grant.onBehalfOf()).isEqualTo("alice");
    assertThat(breakGlass.coveringGrant(alice, Permissions.LABEL_READ)).contains(grant);
    assertThat(breakGlass.coveringGrant(bob, Permissions.LABEL_READ)).isEmpty();
    assertThat(breakGlass.coveringGrant(portal, Permissions.LABEL_READ)).isEmpty();
  }

  private Identity assertUser(Identity portal, String subject) {
    JWTClaimsSet claims =
        TestKeys.claims(Fixture.ISSUER, Fixture.AUDIENCE, subject, Fixture.NOW, 300)
            .claim("roles", List.of("emergency"))
            .build();
    return engine.assertEndUser(portal, TestKeys.sign(Fixture.GATEWAY_RSA, claims));
  }

  @Test
  void activeGrants_listsOpenGrantsOldestFirst() {
    BreakGlassGrant first = breakGlass.open(erDoc, REASON, Duration.ofMinutes(5));
    clock.advance(Duration.ofMinutes(1));
    BreakGlassGrant second = breakGlass.open(erDoc, "second look", Duration.ofMinutes(20));
    clock.advance(Duration.ofMinutes(5));

    assertThat(breakGlass.activeGrants()).containsExactly(second);
    assertThat(first.isActiveAt(clock.instant())).isFalse();
  }

  @Test
  void revoke_endsTheGrant() {
    BreakGlassGrant grant = breakGlass.open(erDoc, REASON);

    assertThat(breakGlass.revoke(grant.id())).isTrue();

    assertThat(breakGlass.coveringGrant(erDoc, Permissions.LABEL_READ)).isEmpty();
    assertThat(breakGlass.revoke(grant.id())).isFalse();
  }

  @Test
  void coveringGrant_afterPolicyWithdrawsBreakglassInvoke_isEmpty() throws IOException {
    breakGlass.open(erDoc, REASON);
    Files.writeString(
        file, Fixture.yaml().replace("emergency: [breakglass:invoke]", "emergency: []"));

    holder.reload();

    assertThat(breakGlass.coveringGrant(erDoc, Permissions.LABEL_READ)).isEmpty();
  }

  @Test
  void open_maxDurationFromReloadedPolicy_isEnforced() throws IOException {
    Files.writeString(file, Fixture.yaml().replace("maxDuration: 30m", "maxDuration: 5m"));
    holder.reload();

    assertThat(refusal(erDoc, REASON, Duration.ofMinutes(6))).isEqualTo(Reason.INVALID_DURATION);
  }
}
