package dev.protorad.server.api;

import com.google.protobuf.Any;
import com.google.rpc.BadRequest;
import com.google.rpc.Code;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;

/**
 * INVALID_ARGUMENT with a {@code google.rpc.BadRequest} detail naming the field. Descriptions say
 * what was expected and never repeat the value when the field may hold note text.
 */
final class InvalidArgument {

  private InvalidArgument() {}

  static StatusRuntimeException of(String field, String description) {
    BadRequest detail =
        BadRequest.newBuilder()
            .addFieldViolations(
                BadRequest.FieldViolation.newBuilder().setField(field).setDescription(description))
            .build();
    com.google.rpc.Status status =
        com.google.rpc.Status.newBuilder()
            .setCode(Code.INVALID_ARGUMENT_VALUE)
            .setMessage(field + ": " + description)
            .addDetails(Any.pack(detail))
            .build();
    return StatusProto.toStatusRuntimeException(status);
  }
}
