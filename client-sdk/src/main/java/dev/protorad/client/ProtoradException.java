package dev.protorad.client;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;

/** A call that ended with a non-OK status; {@link #code()} says which. */
public final class ProtoradException extends RuntimeException {

  private final Status.Code code;

  ProtoradException(StatusRuntimeException cause) {
    super(cause.getStatus().getCode() + describe(cause.getStatus()), cause);
    this.code = cause.getStatus().getCode();
  }

  /** The gRPC status code, for example {@code PERMISSION_DENIED}. */
  public Status.Code code() {
    return code;
  }

  private static String describe(Status status) {
    return status.getDescription() == null ? "" : ": " + status.getDescription();
  }
}
