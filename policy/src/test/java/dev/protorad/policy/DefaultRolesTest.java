package dev.protorad.policy;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class DefaultRolesTest {
  private static final PolicyEngine ENGINE =
      PolicyEngine.create(
          PolicyHolder.of(PolicyLoader.defaults()), Clock.fixed(Fixture.NOW, ZoneOffset.UTC));

  static Stream<Arguments> defaultRoles() {
    return Stream.of(
        Arguments.of("order-intake", Set.of("note:submit")),
        Arguments.of("clinician", Set.of("note:submit", "label:read", "prediction:read")),
        Arguments.of(
            "radiologist",
            Set.of(
                "note:submit", "note:read", "label:read", "prediction:read", "prediction:review")),
        Arguments.of("technologist", Set.of("label:read", "prediction:read")),
        Arguments.of("ml-engineer", Set.of("training:run", "adapter:read", "adapter:manage")),
        Arguments.of(
            "ml-lead", Set.of("training:run", "adapter:read", "adapter:manage", "adapter:promote")),
        Arguments.of("compliance-officer", Set.of("audit:read", "audit:verify")),
        Arguments.of("gateway", Set.of("identity:assert")));
  }

  @ParameterizedTest(name = "{0} holds exactly {1}")
  @MethodSource("defaultRoles")
  void isPermitted_defaultRole_grantsExactlyItsPermissions(String role, Set<String> expected) {
    Identity identity = Identity.of("someone", PrincipalKind.USER, Set.of(role));

    List<String> granted =
        Permissions.ALL.stream().filter(p -> ENGINE.isPermitted(identity, p)).toList();

    assertThat(granted).containsExactlyInAnyOrderElementsOf(expected);
  }

  @Test
  void defaults_defineExactlyTheDesignRoles_andNoPrincipals() {
    Policy policy = PolicyLoader.defaults();

    assertThat(policy.roles())
        .containsExactlyInAnyOrder(
            "order-intake",
            "clinician",
            "radiologist",
            "technologist",
            "ml-engineer",
            "ml-lead",
            "compliance-officer",
            "gateway");
    assertThat(policy.principalIds()).isEmpty();
    assertThat(policy.breakGlassMaxDuration()).hasMinutes(30);
  }

  @Test
  void isPermitted_complianceOfficer_neverReadsNoteTextOrLabels() {
    Identity officer = Identity.of("officer", PrincipalKind.USER, Set.of("compliance-officer"));

    assertThat(ENGINE.isPermitted(officer, Permissions.NOTE_SUBMIT)).isFalse();
    assertThat(ENGINE.isPermitted(officer, Permissions.NOTE_READ)).isFalse();
    assertThat(ENGINE.isPermitted(officer, Permissions.LABEL_READ)).isFalse();
    assertThat(ENGINE.isPermitted(officer, Permissions.PREDICTION_READ)).isFalse();
  }

  @Test
  void isPermitted_noRoles_deniesEverything() {
    Identity nobody = Identity.of("nobody", PrincipalKind.SERVICE, Set.of());

    assertThat(Permissions.ALL).noneMatch(p -> ENGINE.isPermitted(nobody, p));
  }

  @Test
  void isPermitted_unknownRole_deniesEverything() {
    Identity stranger = Identity.of("stranger", PrincipalKind.SERVICE, Set.of("superuser"));

    assertThat(Permissions.ALL).noneMatch(p -> ENGINE.isPermitted(stranger, p));
  }

  @Test
  void isPermitted_permissionNotInPolicy_isDenied() {
    Identity lead = Identity.of("lead", PrincipalKind.USER, Set.of("ml-lead"));

    assertThat(ENGINE.isPermitted(lead, "adapter:delete")).isFalse();
    assertThat(ENGINE.isPermitted(lead, "note:submit")).isFalse();
  }

  @Test
  void isPermitted_instancePermission_isImpliedByDomainAction() {
    Identity lead = Identity.of("lead", PrincipalKind.USER, Set.of("ml-lead"));

    assertThat(ENGINE.isPermitted(lead, "adapter:promote:chest-ct")).isTrue();
  }
}
