package dev.protorad.server.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.common.util.concurrent.ListenableFuture;
import dev.protorad.api.v1.AssignProtocolRequest;
import dev.protorad.api.v1.AssignProtocolResponse;
import dev.protorad.api.v1.GetPredictionRequest;
import dev.protorad.api.v1.ProtocolServiceGrpc;
import dev.protorad.audit.AuditEvent;
import dev.protorad.audit.AuditQuery;
import dev.protorad.audit.NoteHmac;
import dev.protorad.client.ProtoradClient;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ClientInterceptors;
import io.grpc.ForwardingClientCall;
import io.grpc.ForwardingClientCallListener;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Retries under an idempotency key, on the governed server (real policy, file audit, H2 store, the
 * tiny model): one prediction per key and principal, however often and however concurrently it is
 * sent, across a restart too; each replay audited; a key reused for another request refused.
 */
class IdempotencyKeyTest {

  private static final String NOTE = "ct head, fall on apixaban, r/o bleed";
  private static final String ASSIGN = "protorad.v1.ProtocolService/AssignProtocol";

  @TempDir Path dir;
  private final GovernanceFixture fixture = new GovernanceFixture();
  private final NoteHmac hmac = NoteHmac.ofBase64(Map.of("k1", NoteHmac.generateKey()), "k1");

  @Test
  void aRetryAfterALostResponse_answersTheFirstPrediction_acrossARestart_andAuditsTheReplay()
      throws Exception {
    AssignProtocolResponse first;
    try (GovernedServer governed = start()) {
      first = clinician(governed).assignProtocol(request("O-1", NOTE, "job-1:O-1"));
    }
    // The response was lost with the server; the client retries against a new one.
    try (GovernedServer governed = start()) {
      AssignProtocolResponse retry =
          clinician(governed).assignProtocol(request("O-1", NOTE, "job-1:O-1"));

      assertThat(retry).isEqualTo(first);
      assertThat(retry.getAlternativesCount()).isEqualTo(3);
      List<AuditEvent> events = assignEvents(governed);
      assertThat(events)
          .extracting(e -> e.details().action())
          .containsExactly(ASSIGN, ASSIGN + CallAudit.REPLAY_SUFFIX);
      assertThat(events)
          .allSatisfy(
              e -> {
                assertThat(e.details().predictionId()).isEqualTo(first.getPredictionId());
                assertThat(e.details().orderId()).isEqualTo("O-1");
                assertThat(e.details().statusCode()).isEqualTo("OK");
              });
      assertThat(events.get(0).eventId()).isEqualTo(first.getAuditEventId());
      assertThat(
              clinician(governed)
                  .getPrediction(
                      GetPredictionRequest.newBuilder()
                          .setPredictionId(first.getPredictionId())
                          .build())
                  .getPrediction()
                  .getOrderId())
          .isEqualTo("O-1");
    }
  }

  @Test
  void theSdk_retryingAfterItsAnswerWasLost_getsTheOnePredictionTheServerMade() throws Exception {
    try (GovernedServer governed = start()) {
      AtomicInteger lost = new AtomicInteger(1);
      ProtoradClient client =
          ProtoradClient.builder(ClientInterceptors.intercept(governed.channel, losing(lost)))
              .apiKey(fixture.keyByRole.get("clinician"))
              .retryBackoff(Duration.ZERO)
              .build();

      AssignProtocolResponse answer =
          client.assignProtocol(
              AssignProtocolRequest.newBuilder().setOrderId("O-6").setNote(NOTE).build());

      assertThat(lost).as("one attempt lost, one retried").hasValue(-1);
      List<AuditEvent> events = assignEvents(governed);
      assertThat(events)
          .extracting(e -> e.details().action())
          .containsExactly(ASSIGN, ASSIGN + CallAudit.REPLAY_SUFFIX);
      assertThat(events)
          .extracting(e -> e.details().predictionId())
          .containsOnly(answer.getPredictionId());
    }
  }

  /**
   * Lets the first {@code lost} calls reach the server, then drops their answers as UNAVAILABLE.
   */
  private static ClientInterceptor losing(AtomicInteger lost) {
    return new ClientInterceptor() {
      @Override
      public <Q, R> ClientCall<Q, R> interceptCall(
          MethodDescriptor<Q, R> method, CallOptions options, Channel next) {
        if (lost.getAndDecrement() <= 0) {
          return next.newCall(method, options);
        }
        return new ForwardingClientCall.SimpleForwardingClientCall<>(
            next.newCall(method, options)) {
          @Override
          public void start(Listener<R> listener, Metadata headers) {
            super.start(
                new ForwardingClientCallListener.SimpleForwardingClientCallListener<>(listener) {
                  @Override
                  public void onMessage(R message) {}

                  @Override
                  public void onClose(Status status, Metadata trailers) {
                    super.onClose(
                        Status.UNAVAILABLE.withDescription("connection reset"), new Metadata());
                  }
                },
                headers);
          }
        };
      }
    };
  }

  @Test
  void concurrentCallsWithOneKey_makeOnePrediction() throws Exception {
    try (GovernedServer governed = start()) {
      var stub =
          GovernedServer.withKey(
              ProtocolServiceGrpc.newFutureStub(governed.channel),
              fixture.keyByRole.get("clinician"));
      List<ListenableFuture<AssignProtocolResponse>> calls = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        calls.add(stub.assignProtocol(request("O-2", NOTE, "same")));
      }
      List<String> ids = new ArrayList<>();
      for (ListenableFuture<AssignProtocolResponse> call : calls) {
        ids.add(call.get(60, TimeUnit.SECONDS).getPredictionId());
      }

      assertThat(ids).containsOnly(ids.get(0));
      assertThat(assignEvents(governed))
          .extracting(e -> e.details().action())
          .containsOnlyOnce(ASSIGN)
          .filteredOn(a -> a.endsWith(CallAudit.REPLAY_SUFFIX))
          .hasSize(7);
    }
  }

  @Test
  void twoReplicasOnOneStore_racingOnOneKey_answerWithOnePrediction() throws Exception {
    String shared = "jdbc:h2:file:" + dir.resolve("shared-predictions");
    try (GovernedServer a =
            GovernedServer.start(dir.resolve("a"), fixture.policy(), 1000, hmac, shared);
        GovernedServer b =
            GovernedServer.start(dir.resolve("b"), fixture.policy(), 1000, hmac, shared)) {
      List<ListenableFuture<AssignProtocolResponse>> fromA = new ArrayList<>();
      List<ListenableFuture<AssignProtocolResponse>> fromB = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        fromA.add(futureStub(a).assignProtocol(request("O-7", NOTE, "race-" + i)));
        fromB.add(futureStub(b).assignProtocol(request("O-7", NOTE, "race-" + i)));
      }
      for (int i = 0; i < 4; i++) {
        assertThat(fromB.get(i).get(60, TimeUnit.SECONDS).getPredictionId())
            .isEqualTo(fromA.get(i).get(60, TimeUnit.SECONDS).getPredictionId());
      }
    }
  }

  @Test
  void theSameKeyForAnotherRequest_isFailedPrecondition_andScoresNothing() throws Exception {
    try (GovernedServer governed = start()) {
      var stub = clinician(governed);
      stub.assignProtocol(request("O-3", NOTE, "k-3"));

      assertThatThrownBy(() -> stub.assignProtocol(request("O-3", "mri brain ms", "k-3")))
          .isInstanceOfSatisfying(
              StatusRuntimeException.class,
              e -> {
                assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
                assertThat(e.getStatus().getDescription())
                    .contains("idempotency_key")
                    .doesNotContain("mri brain");
              });
      assertThat(assignEvents(governed))
          .extracting(e -> e.details().statusCode())
          .containsExactly("OK", "FAILED_PRECONDITION");
    }
  }

  @Test
  void oneKeyFromTwoPrincipals_isTwoPredictions() throws Exception {
    try (GovernedServer governed = start()) {
      String mine = clinician(governed).assignProtocol(request("O-4", NOTE, "k")).getPredictionId();
      String theirs =
          GovernedServer.withKey(
                  ProtocolServiceGrpc.newBlockingStub(governed.channel),
                  fixture.keyByRole.get("radiologist"))
              .assignProtocol(request("O-4", NOTE, "k"))
              .getPredictionId();

      assertThat(theirs).isNotEqualTo(mine);
    }
  }

  @Test
  void withoutAKey_eachCallIsANewPrediction_andABadKeyIsInvalidArgument() throws Exception {
    try (GovernedServer governed = start()) {
      var stub = clinician(governed);
      String a = stub.assignProtocol(request("O-5", NOTE, "")).getPredictionId();
      String b = stub.assignProtocol(request("O-5", NOTE, "")).getPredictionId();
      assertThat(a).isNotEqualTo(b);

      assertThatThrownBy(() -> stub.assignProtocol(request("O-5", NOTE, "has space")))
          .isInstanceOfSatisfying(
              StatusRuntimeException.class,
              e -> {
                assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
                assertThat(e.getStatus().getDescription()).startsWith("idempotency_key");
              });
      assertThatThrownBy(() -> stub.assignProtocol(request("O-5", NOTE, "k".repeat(257))))
          .isInstanceOf(StatusRuntimeException.class)
          .hasMessageContaining("INVALID_ARGUMENT");
    }
  }

  private GovernedServer start() throws Exception {
    return GovernedServer.start(dir, fixture.policy(), 1000, hmac);
  }

  private ProtocolServiceGrpc.ProtocolServiceFutureStub futureStub(GovernedServer governed) {
    return GovernedServer.withKey(
        ProtocolServiceGrpc.newFutureStub(governed.channel), fixture.keyByRole.get("clinician"));
  }

  private ProtocolServiceGrpc.ProtocolServiceBlockingStub clinician(GovernedServer governed) {
    return GovernedServer.withKey(
        ProtocolServiceGrpc.newBlockingStub(governed.channel), fixture.keyByRole.get("clinician"));
  }

  private static AssignProtocolRequest request(String orderId, String note, String key) {
    return AssignProtocolRequest.newBuilder()
        .setOrderId(orderId)
        .setNote(note)
        .setIdempotencyKey(key)
        .build();
  }

  private static List<AuditEvent> assignEvents(GovernedServer governed) {
    return governed
        .audit
        .query(AuditQuery.builder().pageSize(AuditQuery.MAX_PAGE_SIZE).build())
        .events()
        .stream()
        .filter(e -> e.details().action().startsWith(ASSIGN))
        .toList();
  }
}
