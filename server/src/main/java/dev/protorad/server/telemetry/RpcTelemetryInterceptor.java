package dev.protorad.server.telemetry;

import static java.util.Objects.requireNonNull;

import io.grpc.ForwardingServerCall;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.common.AttributesBuilder;
import io.opentelemetry.api.metrics.DoubleHistogram;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import io.opentelemetry.context.propagation.TextMapGetter;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jspecify.annotations.Nullable;

/**
 * One server span and one {@code rpc.server.call.duration} measurement per call, named and
 * attributed as OpenTelemetry's stable RPC semantic conventions say ({@code rpc.system.name},
 * {@code rpc.method}, {@code rpc.response.status_code}, {@code error.type}).
 *
 * <p>The span is current (OpenTelemetry context) while inner interceptors start the call and during
 * every listener callback, so the audit interceptor records its trace id and services' work becomes
 * child spans. Only the method, the status code and the principal id (added by the authentication
 * interceptor through {@link #PRINCIPAL}) become attributes: never headers, messages or status
 * descriptions, which could carry credentials or note text. Incoming W3C trace context is honoured
 * so that a caller's trace continues here.
 */
public final class RpcTelemetryInterceptor implements ServerInterceptor {

  /** The caller's principal id on the RPC span. */
  public static final AttributeKey<String> PRINCIPAL = AttributeKey.stringKey("enduser.id");

  /** {@code grpc}, on spans and metrics (OpenTelemetry RPC semantic conventions, stable). */
  static final AttributeKey<String> RPC_SYSTEM = AttributeKey.stringKey("rpc.system.name");

  /** The full method name ({@code protorad.v1.ProtocolService/AssignProtocol}). */
  static final AttributeKey<String> RPC_METHOD = AttributeKey.stringKey("rpc.method");

  /** The status code's name ({@code OK}, {@code PERMISSION_DENIED}). */
  static final AttributeKey<String> RPC_STATUS = AttributeKey.stringKey("rpc.response.status_code");

  /** The status code's name again when the call failed, as the conventions ask. */
  static final AttributeKey<String> ERROR_TYPE = AttributeKey.stringKey("error.type");

  private static final List<Double> LATENCY_BUCKETS =
      List.of(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0);

  private static final TextMapGetter<Metadata> HEADERS =
      new TextMapGetter<>() {
        @Override
        @SuppressWarnings("deprecation") // still abstract in the interface; OpenTelemetry calls get
        public Iterable<String> keys(Metadata carrier) {
          return carrier.keys();
        }

        @Override
        public @Nullable String get(@Nullable Metadata carrier, String key) {
          return carrier == null
              ? null
              : carrier.get(Metadata.Key.of(key, Metadata.ASCII_STRING_MARSHALLER));
        }
      };

  private final OpenTelemetry openTelemetry;
  private final Tracer tracer;
  private final DoubleHistogram duration;

  private RpcTelemetryInterceptor(OpenTelemetry openTelemetry) {
    this.openTelemetry = openTelemetry;
    this.tracer = openTelemetry.getTracer(Telemetry.SCOPE);
    this.duration =
        Telemetry.secondsHistogram(
            openTelemetry,
            "rpc.server.call.duration",
            "Server-side duration of protorad.v1 calls, audit included",
            LATENCY_BUCKETS);
  }

  /** An interceptor recording into {@code openTelemetry}. */
  public static RpcTelemetryInterceptor create(OpenTelemetry openTelemetry) {
    return new RpcTelemetryInterceptor(requireNonNull(openTelemetry, "openTelemetry"));
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(
      ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
    MethodDescriptor<Q, R> method = call.getMethodDescriptor();
    Context parent =
        openTelemetry
            .getPropagators()
            .getTextMapPropagator()
            .extract(Context.root(), headers, HEADERS);
    Span span =
        tracer
            .spanBuilder(method.getFullMethodName())
            .setParent(parent)
            .setSpanKind(SpanKind.SERVER)
            .setAttribute(RPC_SYSTEM, "grpc")
            .setAttribute(RPC_METHOD, method.getFullMethodName())
            .startSpan();
    Context context = parent.with(span);
    TracedCall<Q, R> traced = new TracedCall<>(call, span, System.nanoTime());
    ServerCall.Listener<Q> listener;
    try (Scope ignored = context.makeCurrent()) {
      listener = next.startCall(traced, headers);
    } catch (RuntimeException e) {
      traced.finish(Status.INTERNAL);
      throw e;
    }
    return new TracedListener<>(listener, context, traced);
  }

  private final class TracedCall<Q, R>
      extends ForwardingServerCall.SimpleForwardingServerCall<Q, R> {
    private final Span span;
    private final long startNanos;
    private final AtomicBoolean finished = new AtomicBoolean();

    TracedCall(ServerCall<Q, R> delegate, Span span, long startNanos) {
      super(delegate);
      this.span = span;
      this.startNanos = startNanos;
    }

    @Override
    public void close(Status status, Metadata trailers) {
      try {
        super.close(status, trailers);
      } finally {
        finish(status);
      }
    }

    void finish(Status status) {
      if (!finished.compareAndSet(false, true)) {
        return;
      }
      Status.Code code = status.getCode();
      AttributesBuilder attributes =
          Attributes.builder()
              .put(RPC_SYSTEM, "grpc")
              .put(RPC_METHOD, getMethodDescriptor().getFullMethodName())
              .put(RPC_STATUS, code.name());
      span.setAttribute(RPC_STATUS, code.name());
      if (code != Status.Code.OK) {
        // The code only: descriptions are meant to be PHI-free, but they are not ours to vouch for.
        span.setStatus(StatusCode.ERROR);
        span.setAttribute(ERROR_TYPE, code.name());
        attributes.put(ERROR_TYPE, code.name());
      }
      // The measurement before the span ends: whoever sees the span finished sees the measurement.
      duration.record((System.nanoTime() - startNanos) / 1e9, attributes.build());
      span.end();
    }
  }

  private static final class TracedListener<Q>
      extends ForwardingServerCallListener.SimpleForwardingServerCallListener<Q> {
    private final Context context;
    private final TracedCall<Q, ?> call;

    TracedListener(ServerCall.Listener<Q> delegate, Context context, TracedCall<Q, ?> call) {
      super(delegate);
      this.context = context;
      this.call = call;
    }

    @Override
    public void onMessage(Q message) {
      try (Scope ignored = context.makeCurrent()) {
        super.onMessage(message);
      }
    }

    @Override
    public void onHalfClose() {
      try (Scope ignored = context.makeCurrent()) {
        super.onHalfClose();
      }
    }

    @Override
    public void onCancel() {
      try (Scope ignored = context.makeCurrent()) {
        super.onCancel();
      } finally {
        call.finish(Status.CANCELLED);
      }
    }

    @Override
    public void onComplete() {
      try (Scope ignored = context.makeCurrent()) {
        super.onComplete();
      }
    }

    @Override
    public void onReady() {
      try (Scope ignored = context.makeCurrent()) {
        super.onReady();
      }
    }
  }
}
