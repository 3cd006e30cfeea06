package dev.protorad.server.telemetry;

import static java.util.Objects.requireNonNull;

import dev.protorad.audit.AuditEvent;
import dev.protorad.audit.AuditPage;
import dev.protorad.audit.AuditQuery;
import dev.protorad.audit.AuditStore;
import dev.protorad.audit.EventDraft;
import dev.protorad.audit.VerifyResult;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.metrics.DoubleHistogram;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Scope;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * An {@link AuditStore} that times every append: an {@code audit.append} span (a child of the RPC
 * span) and the {@code protorad.audit.append.duration} histogram, labelled by success only. The
 * event itself (principal, order, note HMAC) never becomes an attribute.
 */
public final class TracedAuditStore implements AuditStore {

  static final AttributeKey<String> OUTCOME = AttributeKey.stringKey("outcome");

  private static final Attributes OK = Attributes.of(OUTCOME, "ok");
  private static final Attributes FAILED = Attributes.of(OUTCOME, "failed");
  private static final List<Double> BUCKETS =
      List.of(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0);

  private final AuditStore delegate;
  private final Tracer tracer;
  private final DoubleHistogram appendDuration;

  private TracedAuditStore(AuditStore delegate, OpenTelemetry openTelemetry) {
    this.delegate = delegate;
    this.tracer = openTelemetry.getTracer(Telemetry.SCOPE);
    this.appendDuration =
        Telemetry.secondsHistogram(
            openTelemetry,
            "protorad.audit.append.duration",
            "Time until an audit event is durable",
            BUCKETS);
  }

  /** {@code store} with its appends traced and timed in {@code openTelemetry}. */
  public static AuditStore wrap(AuditStore store, OpenTelemetry openTelemetry) {
    requireNonNull(store, "store");
    requireNonNull(openTelemetry, "openTelemetry");
    return new TracedAuditStore(store, openTelemetry);
  }

  @Override
  public AuditEvent append(EventDraft draft) {
    Span span = tracer.spanBuilder("audit.append").startSpan();
    long start = System.nanoTime();
    try (Scope ignored = span.makeCurrent()) {
      AuditEvent event = delegate.append(draft);
      finish(span, start, true);
      return event;
    } catch (RuntimeException e) {
      finish(span, start, false);
      throw e;
    }
  }

  @Override
  public CompletableFuture<AuditEvent> appendAsync(EventDraft draft) {
    Span span = tracer.spanBuilder("audit.append").startSpan();
    long start = System.nanoTime();
    try (Scope ignored = span.makeCurrent()) {
      return delegate
          .appendAsync(draft)
          .whenComplete((event, failure) -> finish(span, start, failure == null));
    } catch (RuntimeException e) {
      finish(span, start, false);
      throw e;
    }
  }

  private void finish(Span span, long startNanos, boolean ok) {
    if (!ok) {
      span.setStatus(StatusCode.ERROR);
    }
    span.end();
    appendDuration.record((System.nanoTime() - startNanos) / 1e9, ok ? OK : FAILED);
  }

  @Override
  public AuditPage query(AuditQuery query) {
    return delegate.query(query);
  }

  @Override
  public VerifyResult verify() {
    return delegate.verify();
  }

  @Override
  public long purgeExpired() {
    return delegate.purgeExpired();
  }

  @Override
  public boolean seal() {
    return delegate.seal();
  }

  @Override
  public void close() {
    delegate.close();
  }
}
