package dev.protorad.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class IdentityTest {

  @Test
  void of_copiesRoles_soLaterChangesDoNotLeakIn() {
    Set<String> roles = new HashSet<>(Set.of("clinician"));
    Identity identity = Identity.of("svc", PrincipalKind.SERVICE, roles);

    roles.add("ml-lead");

    assertThat(identity.roles()).containsExactly("clinician");
    assertThat(identity.viaGateway()).isFalse();
    assertThat(identity.onBehalfOf()).isNull();
  }

  @Test
  void endUser_recordsGatewayAndUser() {
    Identity user = Identity.endUser("portal", "dr.house", Set.of("clinician"));

    assertThat(user.principalId()).isEqualTo("portal");
    assertThat(user.kind()).isEqualTo(PrincipalKind.GATEWAY);
    assertThat(user.onBehalfOf()).isEqualTo("dr.house");
    assertThat(user.viaGateway()).isTrue();
  }

  @Test
  void new_viaGatewayWithoutUser_isRefused() {
    assertThatIllegalArgumentException()
        .isThrownBy(() -> new Identity("portal", PrincipalKind.GATEWAY, Set.of(), null, true));
    assertThatIllegalArgumentException()
        .isThrownBy(() -> new Identity("svc", PrincipalKind.SERVICE, Set.of(), "someone", false));
  }
}
