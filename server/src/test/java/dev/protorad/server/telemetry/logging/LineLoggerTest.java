package dev.protorad.server.telemetry.logging;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.TraceFlags;
import io.opentelemetry.api.trace.TraceState;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;
import org.slf4j.event.Level;

class LineLoggerTest {

  private static final Clock CLOCK =
      Clock.fixed(Instant.parse("2026-12-07T10:00:00Z"), ZoneOffset.UTC);
  private static final String TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
  private static final String SPAN = "00f067aa0ba902b7";

  private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
  private final PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);

  @Test
  void json_carriesTheCurrentTraceAndSpan_andOnlyTheErrorsClass() throws Exception {
    LineLogger log = new LineLogger("dev.protorad.x", Level.INFO, true, () -> out, CLOCK);
    Span span =
        Span.wrap(
            SpanContext.create(TRACE, SPAN, TraceFlags.getSampled(), TraceState.getDefault()));

    try (var scope = span.makeCurrent()) {
      log.warn("audit append took {} ms", 42, new IllegalStateException("SECRET-NOTE-TEXT"));
    }
    log.debug("not logged at info");

    String line = bytes.toString(StandardCharsets.UTF_8).strip();
    assertThat(line.lines()).hasSize(1);
    JsonNode n = new ObjectMapper().readTree(line);
    assertThat(n.get("time").asText()).isEqualTo("2026-12-07T10:00:00Z");
    assertThat(n.get("level").asText()).isEqualTo("WARN");
    assertThat(n.get("logger").asText()).isEqualTo("dev.protorad.x");
    assertThat(n.get("message").asText()).isEqualTo("audit append took 42 ms");
    assertThat(n.get("trace_id").asText()).isEqualTo(TRACE);
    assertThat(n.get("span_id").asText()).isEqualTo(SPAN);
    assertThat(n.get("error").asText()).isEqualTo("java.lang.IllegalStateException");
    assertThat(line).doesNotContain("SECRET");
  }

  @Test
  void text_isOneLinePerEvent_withTheStackTraceAfterIt_andNoTraceIdOutsideASpan() {
    LineLogger log = new LineLogger("dev.protorad.x", Level.INFO, false, () -> out, CLOCK);

    log.info("ready on {}:{}", "127.0.0.1", 50051);
    log.error("failed", new IllegalStateException("boom"));

    String text = bytes.toString(StandardCharsets.UTF_8);
    assertThat(text)
        .startsWith("2026-12-07T10:00:00Z [main] INFO dev.protorad.x - ready on 127.0.0.1:50051")
        .contains("ERROR dev.protorad.x - failed")
        .contains("java.lang.IllegalStateException: boom")
        .doesNotContain("trace_id");
  }

  @Test
  void settings_takeTheLongestMatchingPrefix_andTheFormatFromTheEnvironment() {
    Properties p = new Properties();
    p.setProperty("level", "info");
    p.setProperty("level.ai.djl", "warn");
    p.setProperty("level.ai.djl.util.cuda", "error");
    LogSettings s = LogSettings.of(p, "JSON");

    assertThat(s.json()).isTrue();
    assertThat(s.levelOf("dev.protorad.server.app.ServerProcess")).isEqualTo(Level.INFO);
    assertThat(s.levelOf("ai.djl.pytorch.engine")).isEqualTo(Level.WARN);
    assertThat(s.levelOf("ai.djl.util.cuda.CudaUtils")).isEqualTo(Level.ERROR);
    assertThat(s.levelOf("ai.djlx")).isEqualTo(Level.INFO);
    assertThat(LogSettings.of(p, null).json()).isFalse();
  }

  @Test
  void theServersLoggers_comeFromThisProvider() {
    assertThat(LoggerFactory.getLogger("dev.protorad.test")).isInstanceOf(LineLogger.class);
  }
}
