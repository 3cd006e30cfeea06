package dev.protorad.server.telemetry.logging;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Clock;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import org.slf4j.Marker;
import org.slf4j.event.Level;
import org.slf4j.helpers.LegacyAbstractLogger;
import org.slf4j.helpers.MessageFormatter;

/**
 * A logger writing one line per event: {@code TIME [thread] LEVEL logger - message} followed by the
 * stack trace, or one JSON object with {@code time}, {@code level}, {@code logger}, {@code thread},
 * {@code message}, {@code trace_id} and {@code span_id} (when a span is current) and {@code error}
 * (the exception's class: its message and stack may quote what a library was given, and JSON logs
 * are shipped off the host).
 */
final class LineLogger extends LegacyAbstractLogger {

  private static final long serialVersionUID = 1L;
  private static final ObjectMapper JSON = new ObjectMapper();

  private final transient Level threshold;
  private final boolean json;
  private final transient Supplier<PrintStream> out;
  private final transient Clock clock;

  /**
   * @param out where lines go, asked at each event (standard error as it is then, so that a
   *     redirection made after the logger was created is followed)
   */
  LineLogger(String name, Level threshold, boolean json, Supplier<PrintStream> out, Clock clock) {
    this.name = name;
    this.threshold = threshold;
    this.json = json;
    this.out = out;
    this.clock = clock;
  }

  private boolean enabled(Level level) {
    return level.toInt() >= threshold.toInt();
  }

  @Override
  public boolean isTraceEnabled() {
    return enabled(Level.TRACE);
  }

  @Override
  public boolean isDebugEnabled() {
    return enabled(Level.DEBUG);
  }

  @Override
  public boolean isInfoEnabled() {
    return enabled(Level.INFO);
  }

  @Override
  public boolean isWarnEnabled() {
    return enabled(Level.WARN);
  }

  @Override
  public boolean isErrorEnabled() {
    return enabled(Level.ERROR);
  }

  @Override
  protected @Nullable String getFullyQualifiedCallerName() {
    return null;
  }

  @Override
  protected void handleNormalizedLoggingCall(
      Level level,
      @Nullable Marker marker,
      @Nullable String pattern,
      @Nullable Object @Nullable [] arguments,
      @Nullable Throwable throwable) {
    String message = MessageFormatter.basicArrayFormat(pattern, arguments);
    String line = json ? json(level, message, throwable) : text(level, message, throwable);
    PrintStream stream = out.get();
    synchronized (stream) {
      stream.println(line);
      stream.flush();
    }
  }

  private String text(Level level, @Nullable String message, @Nullable Throwable throwable) {
    StringBuilder sb =
        new StringBuilder()
            .append(clock.instant())
            .append(" [")
            .append(Thread.currentThread().getName())
            .append("] ")
            .append(level)
            .append(' ')
            .append(name)
            .append(" - ")
            .append(message);
    if (throwable != null) {
      StringWriter trace = new StringWriter();
      throwable.printStackTrace(new PrintWriter(trace));
      sb.append(System.lineSeparator()).append(trace.toString().stripTrailing());
    }
    return sb.toString();
  }

  private String json(Level level, @Nullable String message, @Nullable Throwable throwable) {
    ObjectNode n = JSON.createObjectNode();
    n.put("time", clock.instant().toString());
    n.put("level", level.toString());
    n.put("logger", name);
    n.put("thread", Thread.currentThread().getName());
    n.put("message", message);
    SpanContext span = Span.current().getSpanContext();
    if (span.isValid()) {
      n.put("trace_id", span.getTraceId());
      n.put("span_id", span.getSpanId());
    }
    if (throwable != null) {
      n.put("error", throwable.getClass().getName());
    }
    return n.toString();
  }
}
