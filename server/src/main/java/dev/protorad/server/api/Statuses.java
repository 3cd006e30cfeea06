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
 * argument checks that name a field and its expected value; they never carry note text. Anything
 * unexpected becomes INTERNAL with a generic description, logged by type only.
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
      return Status.INVALID_ARGUMENT.withDescription(e.getMessage());
    }
    if (e instanceof NoSuchElementException) {
      return Status.NOT_FOUND.withDescription(e.getMessage());
    }
    if (e instanceof IllegalStateException) {
      return Status.FAILED_PRECONDITION.withDescription(e.getMessage());
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
}
