package dev.protorad.server.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.protorad.api.v1.AssignProtocolRequest;
import dev.protorad.api.v1.ProtocolServiceGrpc;
import dev.protorad.audit.AuditEvent;
import dev.protorad.audit.AuditQuery;
import dev.protorad.audit.CheckpointKeys;
import dev.protorad.audit.FileAuditStore;
import dev.protorad.audit.NoteHmac;
import dev.protorad.policy.BreakGlass;
import dev.protorad.policy.PolicyEngine;
import dev.protorad.server.serving.AdapterResolver;
import dev.protorad.server.serving.PredictionQueue;
import dev.protorad.server.serving.PredictionStore;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.MetadataUtils;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** An anonymous flood writes a bounded number of audit events; authenticated denials do not. */
class AnonymousDenialsTest {

  @TempDir Path dir;

  @Test
  void unauthenticatedFlood_isRecordedAsTheFirstDenialPlusOneCount_andTheTrailVerifies()
      throws Exception {
    GovernanceFixture fixture = new GovernanceFixture();
    FileAuditStore audit =
        FileAuditStore.builder(dir.resolve("audit"))
            .writerId("test")
            .checkpointKeys(CheckpointKeys.generateInMemory())
            .open();
    PolicyEngine policy = PolicyEngine.create(fixture.policy(), Clock.systemUTC());
    PredictionQueue queue =
        PredictionQueue.create(TinyModel.shared().predictor(), PredictionQueue.Settings.DEFAULTS);
    PredictionStore predictions =
        PredictionStore.open("jdbc:h2:file:" + dir.resolve("predictions"), "sa", "");
    String name = InProcessServerBuilder.generateName();
    ProtoradServer server =
        ProtoradServer.builder(InProcessServerBuilder.forName(name))
            .protocolService(
                ProtocolServices.create(
                    TinyModel.shared().predictor(),
                    AdapterResolver.baseOnly(),
                    queue,
                    predictions,
                    NoteHmac.ofBase64(Map.of("k1", NoteHmac.generateKey()), "k1"),
                    policy,
                    BreakGlass.create(policy, Clock.systemUTC(), new SecureRandom()),
                    Clock.systemUTC()))
            .governance(policy, audit)
            .build()
            .start();
    server.markServing();
    ManagedChannel channel = InProcessChannelBuilder.forName(name).build();
    AssignProtocolRequest order =
        AssignProtocolRequest.newBuilder().setOrderId("F-1").setNote("RLQ pain").build();
    try {
      var anonymous = ProtocolServiceGrpc.newBlockingStub(channel);
      Metadata h = new Metadata();
      h.put(AuthInterceptor.AUTHORIZATION, "Bearer " + fixture.keyByRole.get("compliance-officer"));
      var known =
          ProtocolServiceGrpc.newBlockingStub(channel)
              .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(h));
      for (int i = 0; i < 50; i++) {
        assertThatThrownBy(() -> anonymous.assignProtocol(order))
            .isInstanceOf(StatusRuntimeException.class)
            .hasMessageContaining("UNAUTHENTICATED");
      }
      for (int i = 0; i < 3; i++) {
        assertThatThrownBy(() -> known.assignProtocol(order))
            .hasMessageContaining("PERMISSION_DENIED");
      }
      assertThat(denials(audit, "UNAUTHENTICATED")).hasSize(1);
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      server.shutdown(Duration.ZERO);
      queue.close();
      predictions.close();
    }

    List<AuditEvent> unauthenticated = denials(audit, "UNAUTHENTICATED");
    assertThat(unauthenticated).hasSize(2);
    assertThat(unauthenticated.get(1).details().action()).isEqualTo(AnonymousDenials.ACTION);
    assertThat(unauthenticated.get(1).details().occurrences()).isEqualTo(49);
    assertThat(unauthenticated.stream().mapToLong(e -> e.details().occurrences()).sum())
        .isEqualTo(50);
    assertThat(denials(audit, "PERMISSION_DENIED")).hasSize(3);
    assertThat(audit.verify().valid()).isTrue();
    audit.close();
  }

  private static List<AuditEvent> denials(FileAuditStore audit, String status) {
    return audit.query(AuditQuery.builder().pageSize(1000).build()).events().stream()
        .filter(e -> e.details().statusCode().equals(status))
        .toList();
  }
}
