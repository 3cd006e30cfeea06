package dev.protorad.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.protorad.api.v1.AssignProtocolRequest;
import dev.protorad.api.v1.AssignProtocolResponse;
import dev.protorad.api.v1.GetPredictionRequest;
import dev.protorad.api.v1.GetPredictionResponse;
import dev.protorad.api.v1.ProtocolServiceGrpc;
import io.grpc.Context;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class ProtoradClientTest {

  private final AtomicReference<Metadata> lastHeaders = new AtomicReference<>();
  private final AtomicLong lastDeadlineMillis = new AtomicLong(-1);
  private final List<String> attemptKeys = new CopyOnWriteArrayList<>();
  private final AtomicInteger failuresLeft = new AtomicInteger();
  private final AtomicReference<Status> failWith = new AtomicReference<>(Status.UNAVAILABLE);
  private Server server;
  private ManagedChannel channel;

  @BeforeEach
  void start() throws Exception {
    String name = InProcessServerBuilder.generateName();
    ServerInterceptor capture =
        new ServerInterceptor() {
          @Override
          public <Q, R> ServerCall.Listener<Q> interceptCall(
              ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
            lastHeaders.set(headers);
            var deadline = Context.current().getDeadline();
            lastDeadlineMillis.set(
                deadline == null ? -1 : deadline.timeRemaining(TimeUnit.MILLISECONDS));
            return next.startCall(call, headers);
          }
        };
    server =
        InProcessServerBuilder.forName(name)
            .directExecutor()
            .addService(ServerInterceptors.intercept(new EchoService(), capture))
            .build()
            .start();
    channel = InProcessChannelBuilder.forName(name).directExecutor().build();
  }

  @AfterEach
  void stop() throws InterruptedException {
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
  }

  @Test
  void assignProtocol_sendsBearerKeyAndReturnsTypedResponse() {
    ProtoradClient client = ProtoradClient.builder(channel).apiKey("k-123").build();

    AssignProtocolResponse response =
        client.assignProtocol(AssignProtocolRequest.newBuilder().setOrderId("A-1").build());

    assertThat(response.getPredictionId()).isEqualTo("p-A-1");
    assertThat(lastHeaders.get().get(ProtoradHeaders.AUTHORIZATION)).isEqualTo("Bearer k-123");
    assertThat(lastHeaders.get().get(ProtoradHeaders.END_USER_TOKEN)).isNull();
  }

  @Test
  void gatewayClient_sendsEndUserToken() {
    ProtoradClient client =
        ProtoradClient.builder(channel).apiKey("gw-key").endUserToken("a.b.c").build();

    client.assignProtocol(AssignProtocolRequest.newBuilder().setOrderId("A-2").build());

    assertThat(lastHeaders.get().get(ProtoradHeaders.END_USER_TOKEN)).isEqualTo("a.b.c");
  }

  @Test
  void everyCall_carriesTheConfiguredDeadline() {
    ProtoradClient client =
        ProtoradClient.builder(channel).apiKey("k").deadline(Duration.ofSeconds(7)).build();

    client.assignProtocol(AssignProtocolRequest.newBuilder().setOrderId("A-3").build());

    assertThat(lastDeadlineMillis.get()).isBetween(1L, 7_000L);
  }

  @Test
  void errorStatus_surfacesAsProtoradExceptionWithCode() {
    ProtoradClient client = ProtoradClient.builder(channel).apiKey("k").build();

    assertThatThrownBy(
            () ->
                client.getPrediction(
                    GetPredictionRequest.newBuilder().setPredictionId("x").build()))
        .isInstanceOf(ProtoradException.class)
        .satisfies(
            e -> assertThat(((ProtoradException) e).code()).isEqualTo(Status.Code.NOT_FOUND));
  }

  @Test
  void unbuiltRpc_surfacesUnimplemented() {
    ProtoradClient client = ProtoradClient.builder(channel).apiKey("k").build();

    assertThatThrownBy(
            () ->
                client.reviewPrediction(
                    dev.protorad.api.v1.ReviewPredictionRequest.getDefaultInstance()))
        .isInstanceOf(ProtoradException.class)
        .satisfies(
            e -> assertThat(((ProtoradException) e).code()).isEqualTo(Status.Code.UNIMPLEMENTED));
  }

  @Test
  void assignProtocol_afterLostAnswers_retriesWithOneKeyOnEveryAttempt() {
    ProtoradClient client =
        ProtoradClient.builder(channel).apiKey("k").retryBackoff(Duration.ZERO).build();
    failuresLeft.set(2);

    AssignProtocolResponse response =
        client.assignProtocol(AssignProtocolRequest.newBuilder().setOrderId("A-4").build());

    assertThat(response.getPredictionId()).isEqualTo("p-A-4");
    assertThat(attemptKeys).hasSize(3).containsOnly(attemptKeys.get(0));
    assertThat(attemptKeys.get(0)).startsWith("sdk-");
  }

  @Test
  void assignProtocol_keepsTheCallersKey_andDrawsANewOneForEachCall() {
    ProtoradClient client = ProtoradClient.builder(channel).apiKey("k").build();

    client.assignProtocol(
        AssignProtocolRequest.newBuilder()
            .setOrderId("A-5")
            .setIdempotencyKey("job-1:A-5")
            .build());
    client.assignProtocol(AssignProtocolRequest.newBuilder().setOrderId("A-5").build());
    client.assignProtocol(AssignProtocolRequest.newBuilder().setOrderId("A-5").build());

    assertThat(attemptKeys.get(0)).isEqualTo("job-1:A-5");
    assertThat(attemptKeys.get(1)).isNotEqualTo(attemptKeys.get(2));
  }

  @Test
  void assignProtocol_givesUpAfterMaxAttempts_andNeverRetriesARefusal() {
    ProtoradClient client =
        ProtoradClient.builder(channel)
            .apiKey("k")
            .maxAttempts(2)
            .retryBackoff(Duration.ZERO)
            .build();
    failuresLeft.set(5);
    assertThatThrownBy(
            () -> client.assignProtocol(AssignProtocolRequest.newBuilder().setOrderId("A").build()))
        .satisfies(
            e -> assertThat(((ProtoradException) e).code()).isEqualTo(Status.Code.UNAVAILABLE));
    assertThat(attemptKeys).hasSize(2);

    attemptKeys.clear();
    failWith.set(Status.INVALID_ARGUMENT);
    assertThatThrownBy(
            () -> client.assignProtocol(AssignProtocolRequest.newBuilder().setOrderId("A").build()))
        .satisfies(
            e ->
                assertThat(((ProtoradException) e).code()).isEqualTo(Status.Code.INVALID_ARGUMENT));
    assertThat(attemptKeys).hasSize(1);
  }

  @Test
  void builder_rejectsBadArguments() {
    var builder = ProtoradClient.builder(channel);

    assertThatThrownBy(() -> builder.apiKey(" ")).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> builder.apiKey("has space"))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> builder.deadline(Duration.ZERO))
        .hasMessage("deadline: PT0S (expected: > 0)");
    assertThatThrownBy(() -> builder.maxAttempts(0)).hasMessage("maxAttempts: 0 (expected: 1..10)");
    assertThatThrownBy(() -> builder.retryBackoff(Duration.ofMillis(-1)))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> ProtoradClient.builder(channel).endUserToken("a.b.c").build())
        .isInstanceOf(IllegalStateException.class);
  }

  /** Answers AssignProtocol with the order id and GetPrediction with NOT_FOUND. */
  private final class EchoService extends ProtocolServiceGrpc.ProtocolServiceImplBase {
    @Override
    public void assignProtocol(
        AssignProtocolRequest request, StreamObserver<AssignProtocolResponse> response) {
      attemptKeys.add(request.getIdempotencyKey());
      if (failuresLeft.getAndDecrement() > 0) {
        response.onError(failWith.get().withDescription("try again").asRuntimeException());
        return;
      }
      response.onNext(
          AssignProtocolResponse.newBuilder().setPredictionId("p-" + request.getOrderId()).build());
      response.onCompleted();
    }

    @Override
    public void getPrediction(
        GetPredictionRequest request, StreamObserver<GetPredictionResponse> response) {
      response.onError(Status.NOT_FOUND.withDescription("no such prediction").asRuntimeException());
    }
  }
}
