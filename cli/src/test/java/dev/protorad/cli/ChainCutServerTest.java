package dev.protorad.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.protorad.api.v1.AssignProtocolRequest;
import dev.protorad.api.v1.AuditEvent;
import dev.protorad.api.v1.QueryAuditEventsRequest;
import dev.protorad.api.v1.VerifyAuditLogRequest;
import dev.protorad.api.v1.VerifyAuditLogResponse;
import dev.protorad.server.governance.Governance;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A server restarted on an audit log cut back behind its witnessed head (everyone with the files
 * but not the witness can do that) records the finding as an audit event, does not seal over it,
 * and verification keeps failing after the server has written and sealed past the old head.
 */
class ChainCutServerTest {

  @TempDir Path dir;

  @Test
  void restartOnACutLog_recordsAChainCutEvent_andVerificationKeepsFailing() throws Exception {
    Path config = Files.writeString(dir.resolve("protorad.yaml"), "audit:\n  writer_id: w1\n");
    try (DemoServer server = DemoServer.start(dir, config)) {
      for (int i = 0; i < 3; i++) {
        server.as("clinician").assignProtocol(order("CUT-" + i));
      }
    }
    Path audit = dir.resolve("data").resolve("audit");
    try (Stream<Path> files = Files.list(audit)) {
      for (Path f : files.toList()) {
        Files.delete(f); // the whole log, checkpoints included
      }
    }

    try (DemoServer server = DemoServer.start(dir, config)) {
      for (int i = 0; i < 20; i++) {
        server.as("clinician").assignProtocol(order("AFTER-" + i));
      }
      List<AuditEvent> cut =
          server
              .as("compliance-officer")
              .queryAuditEvents(
                  QueryAuditEventsRequest.newBuilder().setAction(Governance.CHAIN_CUT).build())
              .getEventsList();
      VerifyAuditLogResponse verify =
          server
              .as("compliance-officer")
              .verifyAuditLog(VerifyAuditLogRequest.getDefaultInstance());

      assertThat(cut).hasSize(1);
      assertThat(cut.get(0).getPrincipal()).isEqualTo("protorad-server");
      assertThat(verify.getValid()).isFalse();
      assertThat(verify.getProblem()).contains("found on reopening", "before its witnessed head");
    }
  }

  private static AssignProtocolRequest order(String id) {
    return AssignProtocolRequest.newBuilder()
        .setOrderId(id)
        .setNote("RLQ pain, fever, ?appendicitis")
        .build();
  }
}
