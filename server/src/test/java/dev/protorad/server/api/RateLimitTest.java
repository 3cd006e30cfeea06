package dev.protorad.server.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.protorad.api.v1.GetPredictionRequest;
import dev.protorad.api.v1.ProtocolServiceGrpc;
import dev.protorad.audit.AuditQuery;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.file.Path;
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
    try (GovernedServer governed = GovernedServer.start(dir, fixture.policy(), 0.5)) {
      GetPredictionRequest missing = GetPredictionRequest.newBuilder().setPredictionId("x").build();
      var clinician =
          GovernedServer.withKey(
              ProtocolServiceGrpc.newBlockingStub(governed.channel),
              fixture.keyByRole.get("clinician"));
      var radiologist =
          GovernedServer.withKey(
              ProtocolServiceGrpc.newBlockingStub(governed.channel),
              fixture.keyByRole.get("radiologist"));

      // 0.5 calls a second, bursts of 1: the second call within two seconds is refused.
      assertThat(code(() -> clinician.getPrediction(missing))).isEqualTo(Status.Code.NOT_FOUND);
      assertThat(code(() -> clinician.getPrediction(missing)))
          .isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
      assertThat(code(() -> radiologist.getPrediction(missing))).isEqualTo(Status.Code.NOT_FOUND);
      assertThat(
              governed.audit.query(AuditQuery.builder().pageSize(100).build()).events().stream()
                  .filter(e -> e.details().statusCode().equals("RESOURCE_EXHAUSTED")))
          .hasSize(1)
          .allMatch(e -> e.details().outcome().name().equals("DENIED"));
    }
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
