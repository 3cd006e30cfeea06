package dev.protorad.server.api;

import dev.protorad.audit.AuditUnavailableException;
import dev.protorad.engine.peft.AdapterException;
import dev.protorad.engine.safetensors.SafetensorsException;
import dev.protorad.server.serving.PredictionQueue;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.util.NoSuchElementException;
import java.util.concurrent.CancellationException;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one place where exceptions become gRPC statuses. Descriptions are written here or come from
 * this project's own argument checks, which name a field and its expected value; they never carry
 * note text. A library's exception of the same kind gets a generic description (its message may
 * quote its input), and anything unexpected becomes INTERNAL, logged by type only.
 */
final class Statuses {

  private static final Logger log = LoggerFactory.getLogger(Statuses.class);

  private Statuses() {}

  /** Runs {@code body} and completes {@code response} with its result or its mapped status. */
  static <T> void respond(StreamObserver<T> response, Supplier<T> body) {
    T result;
    try {
      result = body.get();
    } catch (RuntimeException e) {
      response.onError(toException(e));
      return;
    }
    response.onNext(result);
    response.onCompleted();
  }

  /** The exception to send: a status exception as thrown (keeping its details), else mapped. */
  static StatusRuntimeException toException(Throwable e) {
    return e instanceof StatusRuntimeException s ? s : toStatus(e).asRuntimeException();
  }

  static Status toStatus(Throwable e) {
    if (e instanceof StatusRuntimeException s) {
      return s.getStatus();
    }
    if (e instanceof IllegalArgumentException) {
      return Status.INVALID_ARGUMENT.withDescription(ownMessage(e, "invalid argument"));
    }
    if (e instanceof NoSuchElementException) {
      return Status.NOT_FOUND.withDescription(ownMessage(e, "not found"));
    }
    if (e instanceof IllegalStateException) {
      return Status.FAILED_PRECONDITION.withDescription(ownMessage(e, "failed precondition"));
    }
    if (e instanceof AdapterException || e instanceof SafetensorsException) {
      // Both name the file and tensor at fault and what was expected; they hold no note text.
      return Status.INVALID_ARGUMENT.withDescription(e.getMessage());
    }
    if (e instanceof java.util.concurrent.RejectedExecutionException) {
      return Status.RESOURCE_EXHAUSTED.withDescription("training queue is not accepting jobs");
    }
    if (e instanceof AuditUnavailableException) {
      return Status.UNAVAILABLE.withDescription("audit store unavailable");
    }
    if (e instanceof PredictionQueue.QueueFullException) {
      return Status.RESOURCE_EXHAUSTED.withDescription("server busy: prediction queue full");
    }
    if (e instanceof CancellationException) {
      return Status.CANCELLED.withDescription("call cancelled");
    }
    log.error("unexpected {} in a call", e.getClass().getName());
    return Status.INTERNAL.withDescription("internal error");
  }

  /**
   * {@code e}'s message when this project's code wrote it: the exception is exactly one of the
   * three argument-check types (not a library subclass such as {@code NumberFormatException} or
   * {@code PatternSyntaxException}, which quote their input) and was thrown by a {@code
   * dev.protorad} frame. Otherwise {@code generic}: a library's message may repeat what it was
   * given, and that may be note text.
   */
  private static String ownMessage(Throwable e, String generic) {
    Class<?> type = e.getClass();
    boolean checkType =
        type == IllegalArgumentException.class
            || type == IllegalStateException.class
            || type == NoSuchElementException.class;
    StackTraceElement[] trace = e.getStackTrace();
    boolean ours = trace.length > 0 && trace[0].getClassName().startsWith("dev.protorad.");
    String message = e.getMessage();
    if (checkType && ours && message != null) {
      return message;
    }
    log.debug("{} from {} answered with a generic description", type.getName(), origin(trace));
    return generic;
  }

  private static String origin(StackTraceElement[] trace) {
    return trace.length == 0 ? "?" : trace[0].getClassName();
  }
}
