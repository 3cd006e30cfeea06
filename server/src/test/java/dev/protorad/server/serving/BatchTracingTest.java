package dev.protorad.server.serving;

import static org.assertj.core.api.Assertions.assertThat;

import dev.protorad.server.api.TinyModel;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Scope;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.LinkData;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** A batch's score span, seen from each caller's trace, over the real tiny model. */
class BatchTracingTest {

  @Test
  void batchedRequests_scoreSpanLinksToEveryCallersSpan() throws Exception {
    InMemorySpanExporter spans = InMemorySpanExporter.create();
    try (OpenTelemetrySdk sdk =
        OpenTelemetrySdk.builder()
            .setTracerProvider(
                SdkTracerProvider.builder()
                    .addSpanProcessor(SimpleSpanProcessor.create(spans))
                    .build())
            .build()) {
      Tracer tracer = sdk.getTracer("test");
      ProtocolPredictor predictor = TinyModel.shared().predictor().traced(sdk);
      // One worker and a long wait: the three requests are taken as one batch.
      try (PredictionQueue queue =
          PredictionQueue.create(
              predictor, new PredictionQueue.Settings(1, 8, 3, Duration.ofSeconds(5)))) {
        List<Span> callers = new ArrayList<>();
        List<CompletableFuture<ProtocolAnswer>> results = new ArrayList<>();
        for (String note : List.of("r/o PE, SOB", "RLQ pain r/o appy", "head trauma on warfarin")) {
          Span caller = tracer.spanBuilder("caller").startSpan();
          callers.add(caller);
          try (Scope ignored = caller.makeCurrent()) {
            results.add(queue.submit(note, ResolvedAdapter.BASE, 3));
          }
        }
        for (CompletableFuture<ProtocolAnswer> r : results) {
          r.get(60, TimeUnit.SECONDS);
        }
        callers.forEach(Span::end);

        SpanData score =
            spans.getFinishedSpanItems().stream()
                .filter(s -> s.getName().equals("score"))
                .findFirst()
                .orElseThrow();
        assertThat(score.getAttributes().get(AttributeKey.longKey("protorad.batch_size")))
            .isEqualTo(3L);
        assertThat(score.getParentSpanId()).isEqualTo(callers.get(0).getSpanContext().getSpanId());
        assertThat(score.getLinks())
            .extracting(LinkData::getSpanContext)
            .containsExactlyElementsOf(callers.stream().map(Span::getSpanContext).toList());
      }
    }
  }
}
