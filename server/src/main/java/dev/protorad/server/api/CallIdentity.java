package dev.protorad.server.api;

import dev.protorad.policy.Identity;
import io.grpc.Context;
import java.util.Optional;

/** The authenticated caller of the current call, carried in {@link io.grpc.Context}. */
public final class CallIdentity {

  static final Context.Key<Identity> KEY = Context.key("protorad-identity");

  private CallIdentity() {}

  /** The caller; present in every {@code protorad.v1} service method. */
  public static Identity current() {
    Identity identity = KEY.get();
    if (identity == null) {
      throw new IllegalStateException("no authenticated identity in this call context");
    }
    return identity;
  }

  /** The caller, or empty outside an authenticated call. */
  public static Optional<Identity> find() {
    return Optional.ofNullable(KEY.get());
  }
}
