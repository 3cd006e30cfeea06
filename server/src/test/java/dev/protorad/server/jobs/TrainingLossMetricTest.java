package dev.protorad.server.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.protorad.engine.checkpoint.BaseCheckpoint;
import dev.protorad.engine.model.EngineSettings;
import dev.protorad.engine.model.LlamaTokenizer;
import dev.protorad.engine.model.PromptTemplate;
import dev.protorad.server.adapters.AdapterStore;
import dev.protorad.server.telemetry.ServingMetrics;
import dev.protorad.testing.TinyBase;
import dev.protorad.training.FineTuner;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.metrics.SdkMeterProvider;
import io.opentelemetry.sdk.metrics.data.DoublePointData;
import io.opentelemetry.sdk.metrics.data.MetricData;
import io.opentelemetry.sdk.testing.exporter.InMemoryMetricReader;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code protorad.training.loss} follows the latest loss of a fine-tuning job. */
class TrainingLossMetricTest {

  @Test
  void trainingLoss_reportsTheLatestJobLoss(@TempDir Path dir) throws Exception {
    EngineSettings.applyDefaults();
    BaseCheckpoint base = TinyBase.create(3);
    InMemoryMetricReader reader = InMemoryMetricReader.create();
    try (LlamaTokenizer tokenizer = LlamaTokenizer.load(TinyBase.TOKENIZER);
        OpenTelemetrySdk sdk =
            OpenTelemetrySdk.builder()
                .setMeterProvider(SdkMeterProvider.builder().registerMetricReader(reader).build())
                .build()) {
      FineTuner tuner =
          FineTuner.create(base, tokenizer, TinyBase.CATALOG, PromptTemplate.DEFAULT, null);
      AdapterStore store = AdapterStore.open(dir, base.config(), base.fingerprint());
      try (FineTuneJobs jobs =
          FineTuneJobs.create(tuner, store, TinyBase.CATALOG, Clock.systemUTC(), null)) {
        ServingMetrics.observeTraining(sdk, jobs);
        assertThat(reader.collectAllMetrics())
            .noneMatch(m -> m.getName().equals("protorad.training.loss"));

        List<FineTuneEvent> events = FineTuneJobsTest.run(jobs, FineTuneJobsTest.quick(3), "tiny");

        double lastLoss =
            events.stream()
                .filter(e -> Double.isFinite(e.loss()))
                .reduce((a, b) -> b)
                .orElseThrow()
                .loss();
        MetricData loss =
            reader.collectAllMetrics().stream()
                .filter(m -> m.getName().equals("protorad.training.loss"))
                .findFirst()
                .orElseThrow();
        DoublePointData point = loss.getDoubleGaugeData().getPoints().iterator().next();
        assertThat(point.getValue()).isEqualTo(lastLoss);
        assertThat(point.getAttributes().get(AttributeKey.stringKey("adapter"))).isEqualTo("tiny");
      }
    }
  }
}
