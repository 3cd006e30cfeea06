package dev.protorad.server.api;

import static java.util.Objects.requireNonNull;

import dev.protorad.audit.AuditStore;
import dev.protorad.audit.AuditUnavailableException;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.ForwardingServerCall;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor.MethodType;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import java.net.SocketAddress;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes exactly one audit event per call, allowed, denied or failed, and fails closed.
 *
 * <p>Registered outermost, so that denials by the authentication interceptor are recorded too. For
 * calls with a single response the response is held back until the call closes, the event is
 * appended (durably: the store returns only after its group commit), and only then is the response
 * released. If the store cannot write, the response is dropped and the call ends UNAVAILABLE:
 * nothing unaudited leaves. A call the client cancels is recorded as CANCELLED. Calls refused
 * before anyone was authenticated are aggregated per source and interval ({@link
 * AnonymousDenials}), so that an anonymous flood cannot fill the disk.
 */
final class AuditInterceptor implements ServerInterceptor {

  private static final Logger log = LoggerFactory.getLogger(AuditInterceptor.class);

  private final AuditStore store;
  private final Runnable onUnavailable;
  private final AnonymousDenials anonymous;

  AuditInterceptor(AuditStore store) {
    this(store, () -> {});
  }

  /**
   * @param onUnavailable told each time the store could not make an event durable (the server
   *     reports NOT_SERVING until the store takes writes again)
   */
  AuditInterceptor(AuditStore store, Runnable onUnavailable) {
    this.store = requireNonNull(store, "store");
    this.onUnavailable = requireNonNull(onUnavailable, "onUnavailable");
    this.anonymous = new AnonymousDenials(store, java.time.Clock.systemUTC());
  }

  /** Records the anonymous denials counted so far (on a timer and at shutdown). */
  void flushAnonymousDenials() {
    anonymous.flush();
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(
      ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
    CallAudit audit =
        new CallAudit(
            call.getMethodDescriptor().getFullMethodName(), clientAddress(call), store, traceId());
    AuditedCall<Q, R> audited = new AuditedCall<>(call, audit, clientHost(call));
    Context context = Context.current().withValue(CallAudit.KEY, audit);
    ServerCall.Listener<Q> listener = Contexts.interceptCall(context, audited, headers, next);
    return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(listener) {
      @Override
      public void onCancel() {
        audited.recordCancelled();
        super.onCancel();
      }
    };
  }

  private static String clientAddress(ServerCall<?, ?> call) {
    SocketAddress remote = call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR);
    return remote == null ? "" : remote.toString();
  }

  private static String clientHost(ServerCall<?, ?> call) {
    SocketAddress remote = call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR);
    if (remote instanceof java.net.InetSocketAddress inet && inet.getAddress() != null) {
      return inet.getAddress().getHostAddress();
    }
    return remote == null ? "" : remote.toString();
  }

  private static String traceId() {
    SpanContext span = Span.current().getSpanContext();
    return span.isValid() ? span.getTraceId() : "";
  }

  private final class AuditedCall<Q, R>
      extends ForwardingServerCall.SimpleForwardingServerCall<Q, R> {
    private final CallAudit audit;
    private final boolean holdResponse;
    private final boolean serverStreaming;
    private volatile boolean aborted;
    private final AtomicBoolean closed = new AtomicBoolean();
    private @Nullable R held;

    private final String clientHost;

    AuditedCall(ServerCall<Q, R> delegate, CallAudit audit, String clientHost) {
      super(delegate);
      this.audit = audit;
      this.clientHost = clientHost;
      MethodType type = delegate.getMethodDescriptor().getType();
      this.holdResponse = type == MethodType.UNARY || type == MethodType.CLIENT_STREAMING;
      this.serverStreaming = type == MethodType.SERVER_STREAMING;
    }

    @Override
    public void sendMessage(R message) {
      if (aborted) {
        return;
      }
      if (holdResponse) {
        held = message;
        return;
      }
      if (serverStreaming && !audit.isRecorded()) {
        // Evidence first: a stream's messages leave only once its event is durable.
        try {
          audit.recordBeforeEffect();
        } catch (AuditUnavailableException e) {
          log.error(
              "audit append failed for {}; failing the call closed",
              getMethodDescriptor().getFullMethodName());
          onUnavailable.run();
          aborted = true;
          closed.set(true);
          super.close(
              Status.UNAVAILABLE.withDescription("audit store unavailable; call not completed"),
              new Metadata());
          return;
        }
      }
      super.sendMessage(message);
    }

    @Override
    public void close(Status status, Metadata trailers) {
      if (aborted) {
        return;
      }
      if (!record(status)) {
        held = null;
        super.close(
            Status.UNAVAILABLE.withDescription("audit store unavailable; call not completed"),
            new Metadata());
        return;
      }
      if (held != null) {
        super.sendMessage(held);
        held = null;
      }
      super.close(status, trailers);
    }

    void recordCancelled() {
      record(Status.CANCELLED);
    }

    /**
     * Records the call's event unless the service already did; false when the store could not make
     * it durable.
     */
    private boolean record(Status status) {
      if (!closed.compareAndSet(false, true)) {
        return true;
      }
      try {
        if (audit.isRecorded()) {
          if (audit.recordedBeforeEffect() && !status.isOk()) {
            audit.recordFailureAfter(status);
          }
          return true;
        }
        if (status.getCode() == Status.Code.UNAUTHENTICATED
            && audit.isAnonymous()
            && !anonymous.offer(clientHost)) {
          // Counted into the source's aggregate event for this interval, not written one by one.
          return true;
        }
        audit.record(status);
        return true;
      } catch (AuditUnavailableException e) {
        log.error(
            "audit append failed for {}; failing the call closed",
            getMethodDescriptor().getFullMethodName());
        onUnavailable.run();
        return false;
      }
    }
  }
}
