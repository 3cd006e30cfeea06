package dev.protorad.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.protorad.api.v1.AssignProtocolRequest;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The alert rules and the dashboard under {@code k8s/monitoring} name only series a running server
 * exports: each {@code protorad_*} and {@code rpc_server_*} name in them is a line of the server's
 * {@code /metrics} after it has answered a prediction.
 */
class MonitoringAssetsTest {

  private static final Path MONITORING = Path.of("..", "k8s", "monitoring");
  private static final Pattern NAME = Pattern.compile("(?:protorad|rpc_server)_[a-z_]+");

  @TempDir Path dir;

  @Test
  void alertsAndDashboard_nameOnlySeriesTheServerExports() throws Exception {
    Set<String> named = new TreeSet<>();
    for (String file : new String[] {"alerts.yaml", "dashboard.json"}) {
      Matcher m = NAME.matcher(Files.readString(MONITORING.resolve(file)));
      while (m.find()) {
        named.add(m.group());
      }
    }
    assertThat(
            new ObjectMapper()
                .readTree(MONITORING.resolve("dashboard.json").toFile())
                .get("panels"))
        .isNotEmpty();
    assertThat(named)
        .contains(
            "protorad_queue_needs_review_total",
            "protorad_queue_depth",
            "rpc_server_call_duration_seconds_bucket");

    int port;
    try (ServerSocket free = new ServerSocket(0)) {
      port = free.getLocalPort();
    }
    Path config =
        Files.writeString(dir.resolve("protorad.yaml"), "telemetry:\n  prometheus_port: " + port);
    String exposition;
    try (DemoServer server = DemoServer.start(dir, config)) {
      server
          .as("clinician")
          .assignProtocol(
              AssignProtocolRequest.newBuilder()
                  .setOrderId("M-1")
                  .setNote("ct head, fall")
                  .build());
      exposition =
          HttpClient.newHttpClient()
              .send(
                  HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics"))
                      .build(),
                  HttpResponse.BodyHandlers.ofString())
              .body();
    }
    Set<String> exported = new TreeSet<>();
    for (String line : exposition.lines().toList()) {
      Matcher m = NAME.matcher(line);
      if (!line.startsWith("#") && m.lookingAt()) {
        exported.add(m.group());
      }
    }
    assertThat(exported).containsAll(named);
  }
}
