package dev.protorad.server.api;

import dev.protorad.policy.Identity;
import io.grpc.Context;
import java.util.Optional;

/** The authenticated caller of the current call, carried in {@link io.grpc.Context}. */
public final class CallIdentity {

  static final Context.Key<Identity> KEY = Context.key("protorad-identity");
  static final Context.Key<String> BREAK_GLASS_REASON = Context.key("protorad-break-glass-reason");
  static final Context.Key<Reauthorizer> REAUTHORIZER = Context.key("protorad-reauthorizer");

  /**
   * Authenticates the call's credentials and checks its permission again, against the policy in
   * force now: streams call it for each message, so a revoked key or a changed policy takes effect
   * on the next message of a stream already open.
   */
  interface Reauthorizer {
    /**
     * The caller as the policy sees it now.
     *
     * @throws io.grpc.StatusRuntimeException UNAUTHENTICATED or PERMISSION_DENIED
     */
    Identity reauthorize();
  }

  private CallIdentity() {}

  /** The caller; present in every {@code protorad.v1} service method. */
  public static Identity current() {
    return find()
        .orElseThrow(
            () -> new IllegalStateException("no authenticated identity in this call context"));
  }

  /** The emergency-access reason the caller sent, if any. */
  public static Optional<String> breakGlassReason() {
    return Optional.ofNullable(BREAK_GLASS_REASON.get());
  }

  /** The caller, or empty outside an authenticated call. */
  public static Optional<Identity> find() {
    return Optional.ofNullable(KEY.get());
  }
}
