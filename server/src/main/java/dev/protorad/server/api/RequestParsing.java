package dev.protorad.server.api;

import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.UnknownFieldSet;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Map;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * Requests are parsed inside the call, where a malformed one can be answered properly: grpc-java
 * answers UNKNOWN for a message its marshaller cannot parse. A request with invalid UTF-8 in a
 * string field is INVALID_ARGUMENT naming the field (for example {@code note}, or {@code
 * request.note} inside an {@code AssignProtocols} item); any other unparsable request is
 * INVALID_ARGUMENT too. The call is closed through the interceptors outside this one, so the
 * refusal is audited like any other.
 */
final class RequestParsing {

  private RequestParsing() {}

  /**
   * {@code definition} taking raw bytes, with the interceptor that parses them; add the result's
   * interceptors outside it.
   */
  static ServerServiceDefinition raw(ServerServiceDefinition definition) {
    return ServerInterceptors.useMarshalledMessages(definition, RAW);
  }

  /** The interceptor that parses; it must run innermost (first in the list given to gRPC). */
  static ServerInterceptor parser(ServerServiceDefinition original) {
    return new Parser(original);
  }

  private static final MethodDescriptor.Marshaller<InputStream> RAW =
      new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(InputStream value) {
          return value;
        }

        @Override
        public InputStream parse(InputStream stream) {
          try {
            return new ByteArrayInputStream(stream.readAllBytes());
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        }
      };

  private static final class Parser implements ServerInterceptor {
    private final ServerServiceDefinition original;

    Parser(ServerServiceDefinition original) {
      this.original = original;
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(
        ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
      ServerCall.Listener<Q> delegate = next.startCall(call, headers);
      Descriptor type = requestType(call.getMethodDescriptor().getFullMethodName());
      return new io.grpc.ForwardingServerCallListener.SimpleForwardingServerCallListener<>(
          delegate) {
        private boolean refused;

        @Override
        public void onMessage(Q message) {
          if (refused) {
            return;
          }
          byte[] bytes;
          try {
            bytes = ((InputStream) message).readAllBytes();
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
          try {
            @SuppressWarnings("unchecked")
            Q again = (Q) new ByteArrayInputStream(bytes);
            super.onMessage(again);
          } catch (StatusRuntimeException e) {
            if (!(e.getCause() instanceof InvalidProtocolBufferException)) {
              throw e;
            }
            // Only a request that did not parse is looked at again, to name the bad field.
            Optional<String> field =
                type == null
                    ? Optional.empty()
                    : invalidUtf8Field(type, ByteString.copyFrom(bytes), "");
            refuse(
                field.isPresent()
                    ? InvalidArgument.of(field.get(), "invalid UTF-8 (expected: UTF-8 text)")
                    : Status.INVALID_ARGUMENT
                        .withDescription("malformed request (expected: a protobuf message)")
                        .asRuntimeException());
          }
        }

        @Override
        public void onHalfClose() {
          if (!refused) {
            super.onHalfClose();
          }
        }

        private void refuse(StatusRuntimeException e) {
          refused = true;
          Metadata trailers = Status.trailersFromThrowable(e);
          call.close(e.getStatus(), trailers == null ? new Metadata() : trailers);
        }
      };
    }

    @Nullable
    private Descriptor requestType(String fullMethodName) {
      var method = original.getMethod(fullMethodName);
      if (method == null) {
        return null;
      }
      MethodDescriptor.Marshaller<?> marshaller =
          method.getMethodDescriptor().getRequestMarshaller();
      if (marshaller instanceof MethodDescriptor.PrototypeMarshaller<?> p
          && p.getMessagePrototype() instanceof Message m) {
        return m.getDescriptorForType();
      }
      return null;
    }
  }

  /** The path of the first string field holding invalid UTF-8, if any. */
  static Optional<String> invalidUtf8Field(Descriptor type, ByteString bytes, String prefix) {
    UnknownFieldSet fields;
    try {
      fields = UnknownFieldSet.parseFrom(bytes);
    } catch (InvalidProtocolBufferException e) {
      return Optional.empty();
    }
    for (Map.Entry<Integer, UnknownFieldSet.Field> e : fields.asMap().entrySet()) {
      FieldDescriptor field = type.findFieldByNumber(e.getKey());
      if (field == null) {
        continue;
      }
      for (ByteString value : e.getValue().getLengthDelimitedList()) {
        if (field.getType() == FieldDescriptor.Type.STRING && !value.isValidUtf8()) {
          return Optional.of(prefix + field.getName());
        }
        if (field.getType() == FieldDescriptor.Type.MESSAGE) {
          Optional<String> inner =
              invalidUtf8Field(field.getMessageType(), value, prefix + field.getName() + ".");
          if (inner.isPresent()) {
            return inner;
          }
        }
      }
    }
    return Optional.empty();
  }
}
