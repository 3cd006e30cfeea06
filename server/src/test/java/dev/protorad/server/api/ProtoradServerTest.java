package dev.protorad.server.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.protorad.api.v1.AdapterServiceGrpc;
import dev.protorad.api.v1.AssignProtocolRequest;
import dev.protorad.api.v1.AssignProtocolResponse;
import dev.protorad.api.v1.AuditServiceGrpc;
import dev.protorad.api.v1.ListAdaptersRequest;
import dev.protorad.api.v1.ProtocolServiceGrpc;
import dev.protorad.api.v1.QueryAuditEventsRequest;
import dev.protorad.api.v1.TrainingServiceGrpc;
import dev.protorad.api.v1.VerifyAuditLogRequest;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.reflection.v1.ServerReflectionGrpc;
import io.grpc.reflection.v1.ServerReflectionRequest;
import io.grpc.reflection.v1.ServerReflectionResponse;
import io.grpc.reflection.v1.ServiceResponse;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class ProtoradServerTest {

  @RegisterExtension final GrpcCleanup grpc = new GrpcCleanup();

  private final String name = InProcessServerBuilder.generateName();
  private ProtoradServer server;

  @AfterEach
  void stopServer() throws InterruptedException {
    if (server != null) {
      server.shutdown(Duration.ZERO);
    }
  }

  private ManagedChannel start(ProtoradServer.Builder builder) throws Exception {
    server = builder.build().start();
    return grpc.register(InProcessChannelBuilder.forName(name).build());
  }

  private ProtoradServer.Builder builder() {
    return ProtoradServer.builder(InProcessServerBuilder.forName(name));
  }

  private static ServingStatus health(ManagedChannel channel, String service) {
    return HealthGrpc.newBlockingStub(channel)
        .check(HealthCheckRequest.newBuilder().setService(service).build())
        .getStatus();
  }

  @Test
  void health_isNotServingUntilMarkedServing() throws Exception {
    ManagedChannel channel = start(builder());

    assertThat(health(channel, "")).isEqualTo(ServingStatus.NOT_SERVING);
    server.markServing();

    assertThat(health(channel, "")).isEqualTo(ServingStatus.SERVING);
    assertThat(health(channel, ProtocolServiceGrpc.SERVICE_NAME)).isEqualTo(ServingStatus.SERVING);
  }

  @Test
  void health_isNotServingOnceShutdownBegins() throws Exception {
    ManagedChannel channel = start(builder());
    server.markServing();
    CountDownLatch watching = new CountDownLatch(1);
    LinkedBlockingQueue<ServingStatus> seen = new LinkedBlockingQueue<>();
    HealthGrpc.newStub(channel)
        .watch(
            HealthCheckRequest.getDefaultInstance(),
            new StreamObserver<>() {
              @Override
              public void onNext(io.grpc.health.v1.HealthCheckResponse value) {
                seen.add(value.getStatus());
                watching.countDown();
              }

              @Override
              public void onError(Throwable t) {}

              @Override
              public void onCompleted() {}
            });
    assertThat(watching.await(5, TimeUnit.SECONDS)).isTrue();

    server.shutdown(Duration.ofSeconds(1));

    assertThat(seen).startsWith(ServingStatus.SERVING).contains(ServingStatus.NOT_SERVING);
  }

  @Test
  void reflection_listsEveryService() throws Exception {
    ManagedChannel channel = start(builder());
    CompletableFuture<List<ServiceResponse>> services = new CompletableFuture<>();

    StreamObserver<ServerReflectionRequest> requests =
        ServerReflectionGrpc.newStub(channel)
            .serverReflectionInfo(
                new StreamObserver<>() {
                  @Override
                  public void onNext(ServerReflectionResponse value) {
                    services.complete(value.getListServicesResponse().getServiceList());
                  }

                  @Override
                  public void onError(Throwable t) {
                    services.completeExceptionally(t);
                  }

                  @Override
                  public void onCompleted() {}
                });
    requests.onNext(ServerReflectionRequest.newBuilder().setListServices("").build());
    requests.onCompleted();

    assertThat(services.get(5, TimeUnit.SECONDS))
        .extracting(ServiceResponse::getName)
        .contains(
            ProtocolServiceGrpc.SERVICE_NAME,
            AdapterServiceGrpc.SERVICE_NAME,
            TrainingServiceGrpc.SERVICE_NAME,
            AuditServiceGrpc.SERVICE_NAME,
            "grpc.health.v1.Health",
            "grpc.reflection.v1.ServerReflection");
  }

  @Test
  void unbuiltRpcs_answerUnimplemented() throws Exception {
    ManagedChannel channel = start(builder());

    assertThatThrownBy(
            () ->
                ProtocolServiceGrpc.newBlockingStub(channel)
                    .assignProtocol(AssignProtocolRequest.getDefaultInstance()))
        .isInstanceOf(StatusRuntimeException.class)
        .extracting(e -> ((StatusRuntimeException) e).getStatus().getCode())
        .isEqualTo(Status.Code.UNIMPLEMENTED);
    assertThatThrownBy(
            () ->
                AdapterServiceGrpc.newBlockingStub(channel)
                    .listAdapters(ListAdaptersRequest.getDefaultInstance()))
        .extracting(e -> ((StatusRuntimeException) e).getStatus().getCode())
        .isEqualTo(Status.Code.UNIMPLEMENTED);
    assertThatThrownBy(
            () ->
                AuditServiceGrpc.newBlockingStub(channel)
                    .queryAuditEvents(QueryAuditEventsRequest.getDefaultInstance()))
        .extracting(e -> ((StatusRuntimeException) e).getStatus().getCode())
        .isEqualTo(Status.Code.UNIMPLEMENTED);
    assertThatThrownBy(
            () ->
                AuditServiceGrpc.newBlockingStub(channel)
                    .verifyAuditLog(VerifyAuditLogRequest.getDefaultInstance()))
        .extracting(e -> ((StatusRuntimeException) e).getStatus().getCode())
        .isEqualTo(Status.Code.UNIMPLEMENTED);
  }

  @Test
  void shutdown_letsCallInFlightFinishAndRefusesNewCalls() throws Exception {
    SlowProtocolService slow = new SlowProtocolService();
    ManagedChannel channel = start(builder().protocolService(slow));
    var inFlight =
        ProtocolServiceGrpc.newFutureStub(channel)
            .assignProtocol(AssignProtocolRequest.newBuilder().setOrderId("o-1").build());
    assertThat(slow.entered.await(5, TimeUnit.SECONDS)).isTrue();

    CompletableFuture<Boolean> drained =
        CompletableFuture.supplyAsync(() -> shutdownQuietly(Duration.ofSeconds(10)));
    awaitShutdownStarted(channel);
    slow.release.countDown();

    assertThat(inFlight.get(5, TimeUnit.SECONDS).getPredictionId()).isEqualTo("o-1");
    assertThat(drained.get(5, TimeUnit.SECONDS)).isTrue();
  }

  @Test
  void shutdown_cancelsCallsStillRunningAfterGrace() throws Exception {
    SlowProtocolService slow = new SlowProtocolService();
    ManagedChannel channel = start(builder().protocolService(slow));
    var inFlight =
        ProtocolServiceGrpc.newFutureStub(channel)
            .assignProtocol(AssignProtocolRequest.newBuilder().setOrderId("o-2").build());
    assertThat(slow.entered.await(5, TimeUnit.SECONDS)).isTrue();

    boolean clean = server.shutdown(Duration.ofMillis(200));

    assertThat(clean).isFalse();
    assertThatThrownBy(() -> inFlight.get(5, TimeUnit.SECONDS))
        .hasCauseInstanceOf(StatusRuntimeException.class);
    slow.release.countDown();
  }

  private void awaitShutdownStarted(ManagedChannel channel) throws InterruptedException {
    for (int i = 0; i < 100; i++) {
      try {
        ProtocolServiceGrpc.newBlockingStub(channel)
            .withDeadlineAfter(1, TimeUnit.SECONDS)
            .getPrediction(dev.protorad.api.v1.GetPredictionRequest.getDefaultInstance());
      } catch (StatusRuntimeException e) {
        if (e.getStatus().getCode() == Status.Code.UNAVAILABLE) {
          return;
        }
      }
      Thread.sleep(20);
    }
    throw new AssertionError("server never refused new calls");
  }

  private boolean shutdownQuietly(Duration grace) {
    try {
      return server.shutdown(grace);
    } catch (InterruptedException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A protocol service whose AssignProtocol blocks until released, to hold a call in flight. */
  private static final class SlowProtocolService
      extends ProtocolServiceGrpc.ProtocolServiceImplBase {
    final CountDownLatch entered = new CountDownLatch(1);
    final CountDownLatch release = new CountDownLatch(1);

    @Override
    public void assignProtocol(
        AssignProtocolRequest request, StreamObserver<AssignProtocolResponse> response) {
      entered.countDown();
      try {
        release.await(30, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      response.onNext(
          AssignProtocolResponse.newBuilder().setPredictionId(request.getOrderId()).build());
      response.onCompleted();
    }
  }
}
