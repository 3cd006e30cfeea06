package dev.protorad.server.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.protorad.api.v1.AssignProtocolRequest;
import dev.protorad.api.v1.AssignProtocolResponse;
import dev.protorad.api.v1.ProtocolServiceGrpc;
import dev.protorad.audit.CheckpointKeys;
import dev.protorad.audit.FileAuditStore;
import dev.protorad.policy.PolicyEngine;
import io.grpc.Context;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Two users' calls interleaved on one server thread never see each other's identity. */
class IdentityIsolationTest {

  @TempDir Path dir;

  @Test
  void interleavedCallsOnOneExecutor_keepTheirOwnIdentity() throws Exception {
    GovernanceFixture fixture = new GovernanceFixture();
    ExecutorService oneThread = Executors.newSingleThreadExecutor();
    ScheduledExecutorService later = Executors.newScheduledThreadPool(2);
    String name = InProcessServerBuilder.generateName();
    try (FileAuditStore audit =
        FileAuditStore.builder(dir)
            .writerId("iso")
            .checkpointKeys(CheckpointKeys.generateInMemory())
            .open()) {
      ProtoradServer server =
          ProtoradServer.builder(InProcessServerBuilder.forName(name).executor(oneThread))
              .protocolService(new EchoIdentity(later))
              .governance(PolicyEngine.create(fixture.policy(), Clock.systemUTC()), audit)
              .build()
              .start();
      ManagedChannel channel = InProcessChannelBuilder.forName(name).build();
      try {
        List<String> roles = List.of("clinician", "radiologist");
        List<com.google.common.util.concurrent.ListenableFuture<AssignProtocolResponse>> calls =
            new ArrayList<>();
        List<String> expected = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
          String role = roles.get(i % 2);
          calls.add(stubAs(channel, fixture.keyByRole.get(role)).assignProtocol(request(i)));
          expected.add(GovernanceFixture.principalOf(role));
        }
        for (int i = 0; i < calls.size(); i++) {
          String seen = calls.get(i).get(30, TimeUnit.SECONDS).getPredictionId();
          assertThat(seen).isEqualTo(expected.get(i) + "|" + expected.get(i));
        }
      } finally {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        server.shutdown(Duration.ZERO);
      }
    } finally {
      later.shutdownNow();
      oneThread.shutdownNow();
    }
  }

  private static ProtocolServiceGrpc.ProtocolServiceFutureStub stubAs(
      ManagedChannel channel, String key) {
    Metadata h = new Metadata();
    h.put(AuthInterceptor.AUTHORIZATION, "Bearer " + key);
    return ProtocolServiceGrpc.newFutureStub(channel)
        .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(h));
  }

  private static AssignProtocolRequest request(int i) {
    return AssignProtocolRequest.newBuilder().setOrderId("O-" + i).setNote("n").build();
  }

  /**
   * Answers with the identity seen on entry and the one seen later, on another thread, after a
   * random delay, so that calls of both users interleave.
   */
  private static final class EchoIdentity extends ProtocolServiceGrpc.ProtocolServiceImplBase {
    private final ScheduledExecutorService later;

    EchoIdentity(ScheduledExecutorService later) {
      this.later = later;
    }

    @Override
    public void assignProtocol(
        AssignProtocolRequest request, StreamObserver<AssignProtocolResponse> response) {
      String atEntry = CallIdentity.current().principalId();
      Runnable finish =
          Context.current()
              .wrap(
                  () -> {
                    String afterwards = CallIdentity.current().principalId();
                    response.onNext(
                        AssignProtocolResponse.newBuilder()
                            .setPredictionId(atEntry + "|" + afterwards)
                            .build());
                    response.onCompleted();
                  });
      var unused =
          later.schedule(finish, ThreadLocalRandom.current().nextInt(5), TimeUnit.MILLISECONDS);
    }
  }
}
