package dev.protorad.server.api;

import dev.protorad.api.v1.AssignProtocolRequest;
import dev.protorad.api.v1.AssignProtocolResponse;
import dev.protorad.api.v1.GetPredictionRequest;
import dev.protorad.api.v1.GetPredictionResponse;
import dev.protorad.api.v1.ProtocolServiceGrpc;
import dev.protorad.api.v1.ReviewPredictionRequest;
import dev.protorad.api.v1.ReviewPredictionResponse;
import io.grpc.BindableService;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The {@code ProtocolService} registered at start-up, before the model has loaded: it answers
 * UNAVAILABLE ("model loading") until {@link #install} hands it the real service, or
 * FAILED_PRECONDITION when the server runs without a model. Calls still pass the governance
 * interceptors, so they are authorized and audited like any other.
 */
public final class ProtocolServiceSlot implements BindableService {

  private final AtomicReference<ProtocolServiceGrpc.ProtocolServiceImplBase> current =
      new AtomicReference<>(refusing(Status.UNAVAILABLE.withDescription("model loading")));

  /** Routes calls to {@code service} from now on. */
  public void install(BindableService service) {
    if (!(service instanceof ProtocolServiceGrpc.ProtocolServiceImplBase impl)) {
      throw new IllegalArgumentException("service: expected a ProtocolService implementation");
    }
    current.set(impl);
  }

  /** Answers FAILED_PRECONDITION from now on: the server has no model configured. */
  public void noModel() {
    current.set(
        refusing(Status.FAILED_PRECONDITION.withDescription("no model loaded (set model.dir)")));
  }

  @Override
  public ServerServiceDefinition bindService() {
    return new ProtocolServiceGrpc.ProtocolServiceImplBase() {
      @Override
      public void assignProtocol(
          AssignProtocolRequest request, StreamObserver<AssignProtocolResponse> response) {
        current.get().assignProtocol(request, response);
      }

      @Override
      public StreamObserver<dev.protorad.api.v1.AssignProtocolsRequest> assignProtocols(
          StreamObserver<dev.protorad.api.v1.AssignProtocolsResponse> response) {
        return current.get().assignProtocols(response);
      }

      @Override
      public void getPrediction(
          GetPredictionRequest request, StreamObserver<GetPredictionResponse> response) {
        current.get().getPrediction(request, response);
      }

      @Override
      public void reviewPrediction(
          ReviewPredictionRequest request, StreamObserver<ReviewPredictionResponse> response) {
        current.get().reviewPrediction(request, response);
      }
    }.bindService();
  }

  private static ProtocolServiceGrpc.ProtocolServiceImplBase refusing(Status status) {
    return new ProtocolServiceGrpc.ProtocolServiceImplBase() {
      @Override
      public void assignProtocol(
          AssignProtocolRequest request, StreamObserver<AssignProtocolResponse> response) {
        response.onError(status.asRuntimeException());
      }

      @Override
      public StreamObserver<dev.protorad.api.v1.AssignProtocolsRequest> assignProtocols(
          StreamObserver<dev.protorad.api.v1.AssignProtocolsResponse> response) {
        response.onError(status.asRuntimeException());
        return new StreamObserver<>() {
          @Override
          public void onNext(dev.protorad.api.v1.AssignProtocolsRequest value) {}

          @Override
          public void onError(Throwable t) {}

          @Override
          public void onCompleted() {}
        };
      }

      @Override
      public void getPrediction(
          GetPredictionRequest request, StreamObserver<GetPredictionResponse> response) {
        response.onError(status.asRuntimeException());
      }

      @Override
      public void reviewPrediction(
          ReviewPredictionRequest request, StreamObserver<ReviewPredictionResponse> response) {
        response.onError(status.asRuntimeException());
      }
    };
  }
}
