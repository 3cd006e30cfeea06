package dev.protorad.server.api;

import dev.protorad.audit.NoteHmac;
import dev.protorad.policy.BreakGlass;
import dev.protorad.policy.PolicyEngine;
import dev.protorad.server.serving.AdapterResolver;
import dev.protorad.server.serving.PredictionQueue;
import dev.protorad.server.serving.PredictionStore;
import dev.protorad.server.serving.ProtocolPredictor;
import io.grpc.BindableService;
import java.time.Clock;

/** Builds the {@code ProtocolService} from the serving components. */
public final class ProtocolServices {

  private ProtocolServices() {}

  /** The service; it must run behind {@link ProtoradServer.Builder#governance}. */
  public static BindableService create(
      ProtocolPredictor predictor,
      AdapterResolver adapters,
      PredictionQueue queue,
      PredictionStore predictions,
      NoteHmac noteHmac,
      PolicyEngine policy,
      BreakGlass breakGlass,
      Clock clock) {
    return new ProtocolGrpcService(
        predictor,
        adapters,
        queue,
        predictions,
        noteHmac,
        new LabelAccess(policy, breakGlass),
        policy,
        clock);
  }
}
