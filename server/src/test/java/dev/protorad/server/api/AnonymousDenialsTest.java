package dev.protorad.server.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.protorad.api.v1.AssignProtocolRequest;
import dev.protorad.api.v1.ProtocolServiceGrpc;
import dev.protorad.audit.AuditEvent;
import dev.protorad.audit.AuditQuery;
import dev.protorad.audit.FileAuditStore;
import io.grpc.StatusRuntimeException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** An anonymous flood writes a bounded number of audit events; authenticated denials do not. */
class AnonymousDenialsTest {

  @TempDir Path dir;

  @Test
  void unauthenticatedFlood_isRecordedAsTheFirstDenialPlusOneCount_andTheTrailVerifies()
      throws Exception {
    GovernanceFixture fixture = new GovernanceFixture();
    AssignProtocolRequest order =
        AssignProtocolRequest.newBuilder().setOrderId("F-1").setNote("RLQ pain").build();
    try (GovernedServer governed = GovernedServer.start(dir, fixture.policy())) {
      var anonymous = ProtocolServiceGrpc.newBlockingStub(governed.channel);
      var known =
          GovernedServer.withKey(
              ProtocolServiceGrpc.newBlockingStub(governed.channel),
              fixture.keyByRole.get("compliance-officer"));
      for (int i = 0; i < 50; i++) {
        assertThatThrownBy(() -> anonymous.assignProtocol(order))
            .isInstanceOf(StatusRuntimeException.class)
            .hasMessageContaining("UNAUTHENTICATED");
      }
      for (int i = 0; i < 3; i++) {
        assertThatThrownBy(() -> known.assignProtocol(order))
            .hasMessageContaining("PERMISSION_DENIED");
      }
      assertThat(denials(governed.audit, "UNAUTHENTICATED")).hasSize(1);

      governed.stopServing();

      List<AuditEvent> unauthenticated = denials(governed.audit, "UNAUTHENTICATED");
      assertThat(unauthenticated).hasSize(2);
      assertThat(unauthenticated.get(1).details().action()).isEqualTo(AnonymousDenials.ACTION);
      assertThat(unauthenticated.get(1).details().occurrences()).isEqualTo(49);
      assertThat(unauthenticated.stream().mapToLong(e -> e.details().occurrences()).sum())
          .isEqualTo(50);
      assertThat(denials(governed.audit, "PERMISSION_DENIED")).hasSize(3);
      assertThat(governed.audit.verify().valid()).isTrue();
    }
  }

  private static List<AuditEvent> denials(FileAuditStore audit, String status) {
    return audit.query(AuditQuery.builder().pageSize(1000).build()).events().stream()
        .filter(e -> e.details().statusCode().equals(status))
        .toList();
  }
}
