package dev.protorad.server.telemetry;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.metrics.InstrumentType;
import io.opentelemetry.sdk.metrics.data.AggregationTemporality;
import io.opentelemetry.sdk.metrics.export.CollectionRegistration;
import io.opentelemetry.sdk.metrics.export.MetricReader;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * A pull {@link MetricReader} that serves the Prometheus text format on {@code GET /metrics} from a
 * JDK HTTP server: metrics are collected when scraped, cumulatively, as Prometheus expects. (The
 * OpenTelemetry Prometheus exporter's jar is not on Maven Central as reached from here.)
 */
final class PrometheusEndpoint implements MetricReader {

  private final HttpServer server;
  private final ExecutorService executor;
  private volatile CollectionRegistration registration = CollectionRegistration.noop();

  private PrometheusEndpoint(HttpServer server, ExecutorService executor) {
    this.server = server;
    this.executor = executor;
  }

  /** Starts serving on {@code port} of every interface. */
  static PrometheusEndpoint start(int port) {
    HttpServer server;
    try {
      server = HttpServer.create(new InetSocketAddress(port), 0);
    } catch (IOException e) {
      throw new UncheckedIOException("prometheus endpoint: cannot listen on port " + port, e);
    }
    ExecutorService executor =
        Executors.newSingleThreadExecutor(
            r -> {
              Thread t = new Thread(r, "protorad-prometheus");
              t.setDaemon(true);
              return t;
            });
    PrometheusEndpoint endpoint = new PrometheusEndpoint(server, executor);
    server.createContext("/metrics", endpoint::handle);
    server.setExecutor(executor);
    server.start();
    return endpoint;
  }

  /** The port it listens on. */
  int port() {
    return server.getAddress().getPort();
  }

  private void handle(HttpExchange exchange) throws IOException {
    try (exchange) {
      if (!"GET".equals(exchange.getRequestMethod())) {
        exchange.sendResponseHeaders(405, -1);
        return;
      }
      byte[] body =
          PrometheusText.write(registration.collectAllMetrics()).getBytes(StandardCharsets.UTF_8);
      exchange.getResponseHeaders().set("Content-Type", PrometheusText.CONTENT_TYPE);
      exchange.sendResponseHeaders(200, body.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(body);
      }
    }
  }

  @Override
  public void register(CollectionRegistration newRegistration) {
    this.registration = newRegistration;
  }

  @Override
  public AggregationTemporality getAggregationTemporality(InstrumentType instrumentType) {
    return AggregationTemporality.CUMULATIVE;
  }

  @Override
  public CompletableResultCode forceFlush() {
    return CompletableResultCode.ofSuccess();
  }

  @Override
  public CompletableResultCode shutdown() {
    server.stop(0);
    executor.shutdownNow();
    return CompletableResultCode.ofSuccess();
  }
}
