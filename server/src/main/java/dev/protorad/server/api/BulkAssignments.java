package dev.protorad.server.api;

import com.google.rpc.BadRequest;
import dev.protorad.api.v1.AssignProtocolRequest;
import dev.protorad.api.v1.AssignProtocolResponse;
import dev.protorad.api.v1.AssignProtocolsRequest;
import dev.protorad.api.v1.AssignProtocolsResponse;
import dev.protorad.api.v1.ItemError;
import dev.protorad.policy.Identity;
import io.grpc.Context;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.BiFunction;

/**
 * One {@code AssignProtocols} stream. Flow control bounds memory whatever the client does: the
 * server asks for {@value #WINDOW} items, and asks for one more only when an answer has gone out
 * and the client is reading ({@code isReady}); a client that stops reading stops being read from,
 * and its sends block. Each item is audited on its own before its answer is sent; a failed item
 * gets an {@link ItemError} and the stream goes on.
 */
final class BulkAssignments implements StreamObserver<AssignProtocolsRequest> {

  /** Items read ahead of the answers sent. */
  static final int WINDOW = 8;

  private final ServerCallStreamObserver<AssignProtocolsResponse> out;
  private final CallAudit callAudit;
  private final BiFunction<
          AssignProtocolRequest, CallAudit, CompletableFuture<AssignProtocolResponse>>
      assign;
  private final Object lock = new Object();
  private int inFlight;
  private int owedRequests;
  private boolean inputDone;
  private boolean finished;

  BulkAssignments(
      ServerCallStreamObserver<AssignProtocolsResponse> out,
      CallAudit callAudit,
      BiFunction<AssignProtocolRequest, CallAudit, CompletableFuture<AssignProtocolResponse>>
          assign) {
    this.out = out;
    this.callAudit = callAudit;
    this.assign = assign;
    out.disableAutoRequest();
    out.setOnReadyHandler(this::onReady);
    out.request(WINDOW);
  }

  /** A stream reader for a call that was refused before it started. */
  static StreamObserver<AssignProtocolsRequest> ignoring() {
    return new StreamObserver<>() {
      @Override
      public void onNext(AssignProtocolsRequest value) {}

      @Override
      public void onError(Throwable t) {}

      @Override
      public void onCompleted() {}
    };
  }

  @Override
  public void onNext(AssignProtocolsRequest item) {
    Identity now;
    try {
      now = CallIdentity.REAUTHORIZER.get().reauthorize();
    } catch (StatusRuntimeException e) {
      refuse(e.getStatus());
      return;
    }
    synchronized (lock) {
      if (finished) {
        return;
      }
      inFlight++;
    }
    CompletableFuture<AssignProtocolResponse> answer;
    try {
      answer =
          Context.current()
              .withValue(CallIdentity.KEY, now)
              .call(() -> assign.apply(item.getRequest(), callAudit.forItem()));
    } catch (Exception e) {
      answer = CompletableFuture.failedFuture(e);
    }
    var unused =
        answer.whenComplete((response, failure) -> send(item.getRequestId(), response, failure));
  }

  /**
   * Ends the stream because its caller is no longer authorized: the call's audit event records the
   * denial with the status, answers still in flight are dropped, and the client gets the status.
   */
  private void refuse(Status status) {
    callAudit.denied();
    synchronized (lock) {
      if (finished) {
        return;
      }
      finished = true;
      out.onError(status.asRuntimeException());
    }
  }

  @Override
  public void onError(Throwable t) {
    synchronized (lock) {
      finished = true;
    }
  }

  @Override
  public void onCompleted() {
    synchronized (lock) {
      inputDone = true;
      finishIfDone();
    }
  }

  private void send(String requestId, AssignProtocolResponse response, Throwable failure) {
    AssignProtocolsResponse.Builder message =
        AssignProtocolsResponse.newBuilder().setRequestId(requestId);
    if (failure == null) {
      message.setResponse(response);
    } else {
      message.setError(itemError(failure));
    }
    synchronized (lock) {
      inFlight--;
      if (finished) {
        return;
      }
      out.onNext(message.build());
      if (out.isReady()) {
        out.request(1);
      } else {
        owedRequests++;
      }
      finishIfDone();
    }
  }

  private void onReady() {
    synchronized (lock) {
      if (owedRequests > 0 && !finished) {
        out.request(owedRequests);
        owedRequests = 0;
      }
    }
  }

  private void finishIfDone() {
    if (inputDone && inFlight == 0 && !finished) {
      finished = true;
      out.onCompleted();
    }
  }

  private static ItemError itemError(Throwable failure) {
    Throwable cause =
        failure instanceof CompletionException && failure.getCause() != null
            ? failure.getCause()
            : failure;
    StatusRuntimeException e = Statuses.toException(cause);
    Status status = e.getStatus();
    ItemError.Builder error =
        ItemError.newBuilder()
            .setCode(status.getCode().value())
            .setMessage(status.getDescription() == null ? "" : status.getDescription());
    com.google.rpc.Status detail = StatusProto.fromThrowable(e);
    if (detail != null) {
      for (com.google.protobuf.Any any : detail.getDetailsList()) {
        if (any.is(BadRequest.class)) {
          try {
            error.setField(any.unpack(BadRequest.class).getFieldViolations(0).getField());
          } catch (com.google.protobuf.InvalidProtocolBufferException ignored) {
            // the status code and message still tell what went wrong
          }
        }
      }
    }
    return error.build();
  }
}
