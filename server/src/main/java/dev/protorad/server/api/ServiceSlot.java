package dev.protorad.server.api;

import static java.util.Objects.requireNonNull;

import io.grpc.BindableService;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.grpc.ServiceDescriptor;
import io.grpc.Status;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A service registered at start-up whose implementation arrives later: until {@link #install},
 * every call is refused with UNAVAILABLE ("model loading"), or with the status given to {@link
 * #refuse} when the server runs without what the service needs. Calls still pass the governance
 * interceptors, so they are authorized and audited like any other.
 */
public final class ServiceSlot implements BindableService {

  private final ServiceDescriptor descriptor;
  private final AtomicReference<ServerServiceDefinition> current = new AtomicReference<>();

  private ServiceSlot(ServiceDescriptor descriptor) {
    this.descriptor = descriptor;
    refuse(Status.UNAVAILABLE.withDescription("model loading"));
  }

  /** A slot for the service {@code descriptor} describes. */
  public static ServiceSlot of(ServiceDescriptor descriptor) {
    return new ServiceSlot(requireNonNull(descriptor, "descriptor"));
  }

  /** Routes calls to {@code service} from now on. */
  public void install(BindableService service) {
    ServerServiceDefinition definition = service.bindService();
    requireSlotService(definition);
    current.set(definition);
  }

  private void requireSlotService(ServerServiceDefinition definition) {
    String name = definition.getServiceDescriptor().getName();
    if (!name.equals(descriptor.getName())) {
      throw new IllegalArgumentException(
          "service: " + name + " (expected: " + descriptor.getName() + ")");
    }
  }

  /** Refuses every call with {@code status} from now on. */
  public void refuse(Status status) {
    ServerServiceDefinition.Builder refusing = ServerServiceDefinition.builder(descriptor);
    descriptor.getMethods().forEach(method -> addRefusing(refusing, method, status));
    current.set(refusing.build());
  }

  @Override
  public ServerServiceDefinition bindService() {
    ServerServiceDefinition.Builder delegating = ServerServiceDefinition.builder(descriptor);
    descriptor.getMethods().forEach(method -> addDelegating(delegating, method));
    return delegating.build();
  }

  private <Q, R> void addDelegating(
      ServerServiceDefinition.Builder builder, MethodDescriptor<Q, R> method) {
    builder.addMethod(method, (call, headers) -> handler(method).startCall(call, headers));
  }

  @SuppressWarnings("unchecked")
  private <Q, R> ServerCallHandler<Q, R> handler(MethodDescriptor<Q, R> method) {
    ServerMethodDefinition<?, ?> definition =
        requireNonNull(current.get(), "service").getMethod(method.getFullMethodName());
    return ((ServerMethodDefinition<Q, R>) definition).getServerCallHandler();
  }

  private static <Q, R> void addRefusing(
      ServerServiceDefinition.Builder builder, MethodDescriptor<Q, R> method, Status status) {
    builder.addMethod(
        method,
        (ServerCall<Q, R> call, Metadata headers) -> {
          call.close(status, new Metadata());
          return new ServerCall.Listener<>() {};
        });
  }
}
