package dev.protorad.server.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.protorad.api.v1.GetPredictionRequest;
import dev.protorad.api.v1.ProtocolServiceGrpc;
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
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.MetadataUtils;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RateLimitTest {

  @TempDir Path dir;

  @Test
  void tokenBucket_allowsABurstOfTwiceTheRate_thenRefillsWithTime() {
    AtomicLong now = new AtomicLong();
    RateLimiter limiter = RateLimiter.perSecond(2, now::get);

    int allowed = 0;
    for (int i = 0; i < 10; i++) {
      allowed += limiter.tryAcquire("a") ? 1 : 0;
    }
    boolean other = limiter.tryAcquire("b");
    now.addAndGet(TimeUnit.MILLISECONDS.toNanos(500));
    boolean afterHalfASecond = limiter.tryAcquire("a");
    boolean again = limiter.tryAcquire("a");

    assertThat(allowed).isEqualTo(4);
    assertThat(other).isTrue();
    assertThat(afterHalfASecond).isTrue();
    assertThat(again).isFalse();
  }

  @Test
  void aCallerPastItsRate_isResourceExhausted_audited_andOthersGoOn() throws Exception {
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
            .rateLimitPerSecond(0.5)
            .governance(policy, audit)
            .build()
            .start();
    ManagedChannel channel = InProcessChannelBuilder.forName(name).build();
    try {
      GetPredictionRequest missing = GetPredictionRequest.newBuilder().setPredictionId("x").build();
      var clinician = as(channel, fixture.keyByRole.get("clinician"));
      var radiologist = as(channel, fixture.keyByRole.get("radiologist"));

      // 0.5 calls a second, bursts of 1: the second call within two seconds is refused.
      assertThat(code(() -> clinician.getPrediction(missing))).isEqualTo(Status.Code.NOT_FOUND);
      assertThat(code(() -> clinician.getPrediction(missing)))
          .isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
      assertThat(code(() -> radiologist.getPrediction(missing))).isEqualTo(Status.Code.NOT_FOUND);
      assertThat(
              audit.query(AuditQuery.builder().pageSize(100).build()).events().stream()
                  .filter(e -> e.details().statusCode().equals("RESOURCE_EXHAUSTED")))
          .hasSize(1)
          .allMatch(e -> e.details().outcome().name().equals("DENIED"));
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      server.shutdown(Duration.ZERO);
      queue.close();
      predictions.close();
      audit.close();
    }
  }

  private static ProtocolServiceGrpc.ProtocolServiceBlockingStub as(ManagedChannel ch, String key) {
    Metadata h = new Metadata();
    h.put(AuthInterceptor.AUTHORIZATION, "Bearer " + key);
    return ProtocolServiceGrpc.newBlockingStub(ch)
        .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(h));
  }

  private static Status.Code code(Runnable call) {
    try {
      call.run();
      return Status.Code.OK;
    } catch (StatusRuntimeException e) {
      return e.getStatus().getCode();
    }
  }
}
