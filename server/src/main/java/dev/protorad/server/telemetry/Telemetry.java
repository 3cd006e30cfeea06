package dev.protorad.server.telemetry;

import static java.util.Objects.requireNonNull;

import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.metrics.DoubleHistogram;
import io.opentelemetry.exporter.prometheus.PrometheusHttpServer;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.autoconfigure.AutoConfiguredOpenTelemetrySdk;
import java.io.UncheckedIOException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The process's OpenTelemetry SDK, configured by the standard {@code OTEL_*} environment variables
 * and system properties (SDK autoconfiguration), plus an optional Prometheus scrape endpoint.
 *
 * <p>Unlike the SDK's own defaults, nothing is exported unless asked for: traces, metrics and logs
 * default to the {@code none} exporter, so a server without a collector neither fails nor retries
 * in the background. {@code OTEL_TRACES_EXPORTER=otlp} (with {@code OTEL_EXPORTER_OTLP_ENDPOINT})
 * turns on OTLP; {@code OTEL_SDK_DISABLED=true} turns everything off, the Prometheus endpoint
 * included.
 */
public final class Telemetry implements AutoCloseable {

  /** The instrumentation scope of every span and instrument the server creates. */
  public static final String SCOPE = "dev.protorad.server";

  /** The service name unless {@code OTEL_SERVICE_NAME} says otherwise. */
  public static final String DEFAULT_SERVICE_NAME = "protorad";

  private static final Map<String, String> DEFAULTS =
      Map.of(
          "otel.service.name", DEFAULT_SERVICE_NAME,
          "otel.traces.exporter", "none",
          "otel.metrics.exporter", "none",
          "otel.logs.exporter", "none");

  private final OpenTelemetry openTelemetry;
  private final AutoCloseable owned;

  private Telemetry(OpenTelemetry openTelemetry, AutoCloseable owned) {
    this.openTelemetry = openTelemetry;
    this.owned = owned;
  }

  /**
   * Configures the SDK from the environment, serving Prometheus metrics on {@code prometheusPort}
   * (all interfaces) unless it is 0.
   */
  public static Telemetry fromEnvironment(int prometheusPort) {
    return create(Map.of(), prometheusPort);
  }

  /**
   * Like {@link #fromEnvironment}, with {@code properties} ({@code otel.*} keys) as defaults that
   * the environment still overrides.
   */
  public static Telemetry create(Map<String, String> properties, int prometheusPort) {
    requireNonNull(properties, "properties");
    if (prometheusPort < 0 || prometheusPort > 65535) {
      throw new IllegalArgumentException(
          "prometheusPort: " + prometheusPort + " (expected: 0..65535, 0 = off)");
    }
    Map<String, String> defaults = new HashMap<>(DEFAULTS);
    defaults.putAll(properties);
    OpenTelemetrySdk sdk =
        AutoConfiguredOpenTelemetrySdk.builder()
            .addPropertiesSupplier(() -> defaults)
            .addMeterProviderCustomizer(
                (meters, config) ->
                    prometheusPort == 0
                        ? meters
                        : meters.registerMetricReader(prometheus(prometheusPort)))
            .disableShutdownHook()
            .build()
            .getOpenTelemetrySdk();
    return new Telemetry(sdk, sdk);
  }

  /** Wraps an SDK the caller owns (tests); {@link #close()} leaves it open. */
  public static Telemetry of(OpenTelemetry openTelemetry) {
    return new Telemetry(requireNonNull(openTelemetry, "openTelemetry"), () -> {});
  }

  /** Telemetry that records nothing. */
  public static Telemetry noop() {
    return of(OpenTelemetry.noop());
  }

  /** The API to create spans and instruments with. */
  public OpenTelemetry openTelemetry() {
    return openTelemetry;
  }

  /** A histogram of durations in seconds, in this server's scope, with advised bucket bounds. */
  static DoubleHistogram secondsHistogram(
      OpenTelemetry openTelemetry, String name, String description, List<Double> buckets) {
    return openTelemetry
        .getMeter(SCOPE)
        .histogramBuilder(name)
        .setDescription(description)
        .setUnit("s")
        .setExplicitBucketBoundariesAdvice(buckets)
        .build();
  }

  /**
   * OpenTelemetry's own Prometheus exporter on {@code port} of every interface: metrics are
   * collected when scraped, cumulatively, and named as the OpenTelemetry-to-Prometheus mapping says
   * (unit and {@code _total} suffixes, {@code otel_scope_name} labels, {@code target_info}).
   */
  private static PrometheusHttpServer prometheus(int port) {
    try {
      return PrometheusHttpServer.builder().setPort(port).build();
    } catch (UncheckedIOException e) {
      throw new UncheckedIOException(
          "prometheus endpoint: cannot listen on port " + port, e.getCause());
    }
  }

  /** Flushes and shuts down an SDK this object created, stopping the Prometheus endpoint. */
  @Override
  public void close() {
    try {
      owned.close();
    } catch (Exception e) {
      throw new IllegalStateException("telemetry shutdown failed", e);
    }
  }
}
