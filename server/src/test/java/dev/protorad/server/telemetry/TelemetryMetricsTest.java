package dev.protorad.server.telemetry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.protorad.server.config.ConfigException;
import dev.protorad.server.config.ConfigLoader;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.metrics.SdkMeterProvider;
import io.opentelemetry.sdk.metrics.data.MetricData;
import io.opentelemetry.sdk.testing.exporter.InMemoryMetricReader;
import java.util.Collection;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Adapter cache counters, the model gauge and the Prometheus port configuration key. */
class TelemetryMetricsTest {

  private final InMemoryMetricReader reader = InMemoryMetricReader.create();
  private final OpenTelemetrySdk sdk =
      OpenTelemetrySdk.builder()
          .setMeterProvider(SdkMeterProvider.builder().registerMetricReader(reader).build())
          .build();

  @AfterEach
  void close() {
    sdk.close();
  }

  private static long counter(Collection<MetricData> all, String name) {
    return all.stream()
        .filter(m -> m.getName().equals(name))
        .findFirst()
        .orElseThrow()
        .getLongSumData()
        .getPoints()
        .iterator()
        .next()
        .getValue();
  }

  private static long gauge(Collection<MetricData> all, String name) {
    return all.stream()
        .filter(m -> m.getName().equals(name))
        .findFirst()
        .orElseThrow()
        .getLongGaugeData()
        .getPoints()
        .iterator()
        .next()
        .getValue();
  }

  @Test
  void adapterCache_exportsHitsMissesEvictionsAndSize() {
    Cache<String, String> cache = Caffeine.newBuilder().maximumSize(1).recordStats().build();
    ServingMetrics.observeAdapterCache(sdk, cache::stats, cache::estimatedSize);
    assertThat(cache.get("a", k -> "A")).isEqualTo("A");
    assertThat(cache.get("a", k -> "A")).isEqualTo("A");
    assertThat(cache.get("b", k -> "B")).isEqualTo("B");
    cache.cleanUp();

    Collection<MetricData> all = reader.collectAllMetrics();
    assertThat(counter(all, "protorad.adapter_cache.hits")).isEqualTo(1);
    assertThat(counter(all, "protorad.adapter_cache.misses")).isEqualTo(2);
    assertThat(counter(all, "protorad.adapter_cache.evictions")).isEqualTo(1);
    assertThat(gauge(all, "protorad.adapter_cache.size")).isEqualTo(1);
  }

  @Test
  void model_exportsItsLiveNativeArrays() {
    int[] live = {41};
    ServingMetrics.observeModel(sdk, () -> live[0]);
    assertThat(gauge(reader.collectAllMetrics(), "protorad.model.native_arrays")).isEqualTo(41);
    live[0] = 43;
    assertThat(gauge(reader.collectAllMetrics(), "protorad.model.native_arrays")).isEqualTo(43);
  }

  @Test
  void prometheusPort_isAConfigKeyWithRange() {
    assertThat(
            ConfigLoader.withEnvironment(Map.of("PROTORAD_TELEMETRY_PROMETHEUS_PORT", "9464"))
                .load(null)
                .prometheusPort())
        .isEqualTo(9464);
    assertThat(ConfigLoader.withEnvironment(Map.of()).load(null).prometheusPort()).isZero();
    assertThatThrownBy(
            () ->
                ConfigLoader.withEnvironment(Map.of("PROTORAD_TELEMETRY_PROMETHEUS_PORT", "70000"))
                    .load(null))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("telemetry.prometheus_port");
  }

  @Test
  void defaults_exportNothingAndNeedNoCollector() {
    try (Telemetry telemetry = Telemetry.create(Map.of(), 0)) {
      telemetry.openTelemetry().getTracer("t").spanBuilder("s").startSpan().end();
      assertThat(telemetry.openTelemetry()).isInstanceOf(OpenTelemetrySdk.class);
    }
  }
}
