package dev.protorad.server.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.protorad.api.v1.AssignProtocolRequest;
import dev.protorad.api.v1.ProtocolServiceGrpc;
import dev.protorad.audit.CheckpointKeys;
import dev.protorad.audit.FileAuditStore;
import dev.protorad.audit.NoteHmac;
import dev.protorad.policy.BreakGlass;
import dev.protorad.policy.PolicyEngine;
import dev.protorad.server.serving.AdapterResolver;
import dev.protorad.server.serving.PredictionQueue;
import dev.protorad.server.serving.PredictionStore;
import dev.protorad.server.telemetry.ServingMetrics;
import dev.protorad.server.telemetry.Telemetry;
import dev.protorad.server.telemetry.TracedAuditStore;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.ServerBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.MetadataUtils;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.metrics.SdkMeterProvider;
import io.opentelemetry.sdk.metrics.data.MetricData;
import io.opentelemetry.sdk.metrics.data.PointData;
import io.opentelemetry.sdk.testing.exporter.InMemoryMetricReader;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Spans, metrics and the Prometheus endpoint over the real server, model, policy and audit. */
class TelemetryServerTest {

  private static final String CANARY = "ZEBRAQUOKKA";
  private static final String CANARY_NOTE =
      "58F " + CANARY + " h/o renal cell carcinoma, new flank pain, hematuria. eval for mass.";
  private static final String ASSIGN = "protorad.v1.ProtocolService/AssignProtocol";

  @TempDir Path dir;
  private final GovernanceFixture fixture = new GovernanceFixture();
  private final InMemorySpanExporter spans = InMemorySpanExporter.create();
  private final InMemoryMetricReader metrics = InMemoryMetricReader.create();
  private OpenTelemetrySdk sdk;
  private final Deque<AutoCloseable> closers = new ArrayDeque<>();
  private ProtoradServer server;
  private ManagedChannel channel;

  @BeforeEach
  void start() throws Exception {
    sdk =
        OpenTelemetrySdk.builder()
            .setTracerProvider(
                SdkTracerProvider.builder()
                    .addSpanProcessor(SimpleSpanProcessor.create(spans))
                    .build())
            .setMeterProvider(SdkMeterProvider.builder().registerMetricReader(metrics).build())
            .build();
    String name = InProcessServerBuilder.generateName();
    server = serve(InProcessServerBuilder.forName(name), sdk);
    channel = InProcessChannelBuilder.forName(name).build();
  }

  private ProtoradServer serve(ServerBuilder<?> transport, OpenTelemetry otel) throws Exception {
    FileAuditStore audit =
        FileAuditStore.builder(dir.resolve("audit-" + System.nanoTime()))
            .writerId("test")
            .checkpointKeys(CheckpointKeys.generateInMemory())
            .open();
    PolicyEngine policy = PolicyEngine.create(fixture.policy(), Clock.systemUTC());
    closers.push(audit);
    var predictor = TinyModel.shared().predictor().traced(otel);
    PredictionQueue queue = PredictionQueue.create(predictor, PredictionQueue.Settings.DEFAULTS);
    closers.push(queue);
    ServingMetrics.observeQueue(otel, queue);
    PredictionStore predictions =
        PredictionStore.open(
            "jdbc:h2:file:" + dir.resolve("predictions-" + System.nanoTime()), "sa", "");
    closers.push(predictions);
    var protocol =
        ProtocolServices.create(
            predictor,
            AdapterResolver.baseOnly(),
            queue,
            predictions,
            NoteHmac.ofBase64(Map.of("k1", NoteHmac.generateKey()), "k1"),
            policy,
            BreakGlass.create(policy, Clock.systemUTC(), new SecureRandom()),
            Clock.systemUTC());
    ProtoradServer started =
        ProtoradServer.builder(transport)
            .telemetry(otel)
            .protocolService(protocol)
            .governance(policy, TracedAuditStore.wrap(audit, otel))
            .build()
            .start();
    started.markServing();
    return started;
  }

  @AfterEach
  void stop() throws Exception {
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    server.shutdown(Duration.ZERO);
    while (!closers.isEmpty()) {
      closers.pop().close();
    }
    sdk.close();
  }

  private ProtocolServiceGrpc.ProtocolServiceBlockingStub as(String role, ManagedChannel ch) {
    Metadata h = new Metadata();
    h.put(AuthInterceptor.AUTHORIZATION, "Bearer " + fixture.keyByRole.get(role));
    return ProtocolServiceGrpc.newBlockingStub(ch)
        .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(h));
  }

  private static AssignProtocolRequest order(String note, int topK) {
    return AssignProtocolRequest.newBuilder()
        .setOrderId("ORD-7")
        .setPatientRef("PT-7")
        .setNote(note)
        .setTopK(topK)
        .build();
  }

  /** The RPC span ends just after the answer leaves; wait for it. */
  private SpanData rpcSpan(String method, int count) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (System.nanoTime() < deadline) {
      List<SpanData> found =
          spans.getFinishedSpanItems().stream().filter(s -> s.getName().equals(method)).toList();
      if (found.size() >= count) {
        return found.get(found.size() - 1);
      }
      Thread.sleep(10);
    }
    throw new AssertionError("no span for " + method + " in " + spans.getFinishedSpanItems());
  }

  private List<SpanData> childrenOf(SpanData parent) {
    return spans.getFinishedSpanItems().stream()
        .filter(s -> s.getParentSpanId().equals(parent.getSpanId()))
        .toList();
  }

  private static Optional<MetricData> metric(Collection<MetricData> all, String name) {
    return all.stream().filter(m -> m.getName().equals(name)).findFirst();
  }

  @Test
  void assignProtocol_recordsServerSpanWithScoreAndAuditChildren() throws Exception {
    as("clinician", channel).assignProtocol(order(CANARY_NOTE, 3));

    SpanData rpc = rpcSpan(ASSIGN, 1);
    assertThat(rpc.getKind()).isEqualTo(SpanKind.SERVER);
    Attributes a = rpc.getAttributes();
    assertThat(a.get(AttributeKey.stringKey("rpc.system.name"))).isEqualTo("grpc");
    assertThat(a.get(AttributeKey.stringKey("rpc.method"))).isEqualTo(ASSIGN);
    assertThat(a.get(AttributeKey.stringKey("rpc.response.status_code"))).isEqualTo("OK");
    assertThat(a.get(AttributeKey.stringKey("error.type"))).isNull();
    assertThat(a.get(AttributeKey.stringKey("enduser.id")))
        .isEqualTo(GovernanceFixture.principalOf("clinician"));

    List<SpanData> children = childrenOf(rpc);
    assertThat(children).extracting(SpanData::getName).contains("score", "audit.append");
    SpanData score = children.stream().filter(s -> s.getName().equals("score")).findFirst().get();
    assertThat(score.getAttributes().get(AttributeKey.longKey("protorad.labels"))).isPositive();
    assertThat(score.getAttributes().get(AttributeKey.longKey("protorad.prompt_tokens")))
        .isPositive();
    assertThat(score.getTraceId()).isEqualTo(rpc.getTraceId());
    assertThat(score.getEvents())
        .extracting(e -> e.getName())
        .containsExactly("tokenized", "prefilled");
  }

  @Test
  void deniedCall_spanCarriesPermissionDeniedAndIsStillAudited() throws Exception {
    assertThatThrownBy(
            () -> as("compliance-officer", channel).assignProtocol(order(CANARY_NOTE, 3)))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED));

    SpanData rpc = rpcSpan(ASSIGN, 1);
    assertThat(rpc.getAttributes().get(AttributeKey.stringKey("rpc.response.status_code")))
        .isEqualTo("PERMISSION_DENIED");
    assertThat(rpc.getAttributes().get(AttributeKey.stringKey("error.type")))
        .isEqualTo("PERMISSION_DENIED");
    assertThat(rpc.getStatus().getDescription()).isEmpty();
    assertThat(childrenOf(rpc)).extracting(SpanData::getName).containsExactly("audit.append");
  }

  @Test
  void calls_recordDurationTokensAuditLatencyAndQueueDepth() throws Exception {
    as("clinician", channel).assignProtocol(order(CANARY_NOTE, 3));
    assertThatThrownBy(() -> as("clinician", channel).assignProtocol(order(CANARY_NOTE, 99)))
        .isInstanceOf(StatusRuntimeException.class);
    rpcSpan(ASSIGN, 2);

    Collection<MetricData> all = metrics.collectAllMetrics();
    MetricData duration = metric(all, "rpc.server.call.duration").orElseThrow();
    assertThat(duration.getUnit()).isEqualTo("s");
    assertThat(duration.getHistogramData().getPoints())
        .extracting(p -> p.getAttributes().get(AttributeKey.stringKey("rpc.response.status_code")))
        .containsExactlyInAnyOrder("OK", "INVALID_ARGUMENT");
    assertThat(duration.getHistogramData().getPoints())
        .allSatisfy(
            p -> {
              assertThat(p.getAttributes().get(AttributeKey.stringKey("rpc.method")))
                  .isEqualTo(ASSIGN);
              assertThat(p.getAttributes().get(AttributeKey.stringKey("rpc.system.name")))
                  .isEqualTo("grpc");
            });
    assertThat(metric(all, "protorad.prompt.tokens").orElseThrow().getLongSumData().getPoints())
        .singleElement()
        .satisfies(p -> assertThat(p.getValue()).isPositive());
    assertThat(
            metric(all, "protorad.audit.append.duration")
                .orElseThrow()
                .getHistogramData()
                .getPoints())
        .singleElement()
        .satisfies(p -> assertThat(p.getCount()).isEqualTo(2));
    assertThat(metric(all, "protorad.queue.depth").orElseThrow().getLongGaugeData().getPoints())
        .singleElement()
        .satisfies(p -> assertThat(p.getValue()).isZero());
    // One prediction ran (the other call was refused before the queue).
    assertThat(metric(all, "protorad.queue.predictions").orElseThrow().getLongSumData().getPoints())
        .singleElement()
        .satisfies(p -> assertThat(p.getValue()).isEqualTo(1));
    assertThat(metric(all, "protorad.queue.batches").orElseThrow().getLongSumData().getPoints())
        .singleElement()
        .satisfies(p -> assertThat(p.getValue()).isEqualTo(1));
    for (String time : List.of("wait_time", "model_time", "answer_time")) {
      assertThat(metric(all, "protorad.queue." + time).orElseThrow().getDoubleSumData().getPoints())
          .as(time)
          .singleElement()
          .satisfies(p -> assertThat(p.getValue()).isNotNegative());
    }
  }

  @Test
  void canaryNote_neverAppearsInSpansEventsStatusesOrMetricAttributes() throws Exception {
    as("clinician", channel).assignProtocol(order(CANARY_NOTE, 3));
    assertThatThrownBy(() -> as("clinician", channel).assignProtocol(order(CANARY_NOTE, 11)))
        .isInstanceOf(StatusRuntimeException.class);
    assertThatThrownBy(
            () -> as("compliance-officer", channel).assignProtocol(order(CANARY_NOTE, 3)))
        .isInstanceOf(StatusRuntimeException.class);
    rpcSpan(ASSIGN, 3);

    List<String> seen = new ArrayList<>();
    for (SpanData s : spans.getFinishedSpanItems()) {
      seen.add(s.getName());
      seen.add(s.getStatus().getDescription());
      s.getAttributes().forEach((k, v) -> seen.add(k.getKey() + "=" + v));
      s.getEvents()
          .forEach(
              e -> {
                seen.add(e.getName());
                e.getAttributes().forEach((k, v) -> seen.add(k.getKey() + "=" + v));
              });
    }
    for (MetricData m : metrics.collectAllMetrics()) {
      seen.add(m.getName() + " " + m.getDescription());
      for (PointData p : m.getData().getPoints()) {
        p.getAttributes().forEach((k, v) -> seen.add(k.getKey() + "=" + v));
      }
    }
    assertThat(seen).isNotEmpty().noneMatch(t -> t.contains(CANARY) || t.contains("carcinoma"));
  }

  @Test
  void prometheusEndpoint_servesRpcDurationAfterACall() throws Exception {
    int port = freePort();
    try (Telemetry telemetry = Telemetry.create(Map.of(), port)) {
      String name = InProcessServerBuilder.generateName();
      ProtoradServer second =
          serve(InProcessServerBuilder.forName(name), telemetry.openTelemetry());
      ManagedChannel ch = InProcessChannelBuilder.forName(name).build();
      try {
        as("clinician", ch).assignProtocol(order(CANARY_NOTE, 3));
        String body = scrape(port);
        assertThat(body)
            .contains("# TYPE rpc_server_call_duration_seconds histogram")
            .contains("rpc_server_call_duration_seconds_bucket{")
            .contains("rpc_method=\"" + ASSIGN + "\"")
            .contains("rpc_response_status_code=\"OK\"")
            .contains("protorad_prompt_tokens_total")
            .doesNotContain(CANARY);
      } finally {
        ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        second.shutdown(Duration.ZERO);
      }
    }
  }

  @Test
  void sdkDisabled_recordsNothingAndServesNoEndpoint() throws Exception {
    int port = freePort();
    try (Telemetry telemetry = Telemetry.create(Map.of("otel.sdk.disabled", "true"), port)) {
      assertThat(
              telemetry
                  .openTelemetry()
                  .getTracer("x")
                  .spanBuilder("s")
                  .startSpan()
                  .getSpanContext()
                  .isValid())
          .isFalse();
      assertThatThrownBy(() -> scrape(port)).isInstanceOf(java.io.IOException.class);
    }
  }

  private static String scrape(int port) throws Exception {
    HttpResponse<String> r =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(200);
    return r.body();
  }

  private static int freePort() throws Exception {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }
}
