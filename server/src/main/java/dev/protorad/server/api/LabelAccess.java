package dev.protorad.server.api;

import static java.util.Objects.requireNonNull;

import dev.protorad.policy.BreakGlass;
import dev.protorad.policy.BreakGlassException;
import dev.protorad.policy.BreakGlassGrant;
import dev.protorad.policy.Identity;
import dev.protorad.policy.Permissions;
import dev.protorad.policy.PolicyEngine;
import io.grpc.Status;
import java.util.Optional;

/**
 * Decides whether the caller sees label fields: with {@code label:read}, or through an emergency
 * (break-glass) grant opened by a caller holding {@code breakglass:invoke} who sent a reason.
 * Opening a grant is its own audit event; each access under it is marked in the call's event.
 */
final class LabelAccess {

  private final PolicyEngine policy;
  private final BreakGlass breakGlass;

  LabelAccess(PolicyEngine policy, BreakGlass breakGlass) {
    this.policy = requireNonNull(policy, "policy");
    this.breakGlass = requireNonNull(breakGlass, "breakGlass");
  }

  /** Whether labels may be shown to the current caller; records break-glass use in the audit. */
  boolean labelsVisible() {
    Identity caller = CallIdentity.current();
    if (policy.isPermitted(caller, Permissions.LABEL_READ)) {
      return true;
    }
    Optional<String> reason = CallIdentity.breakGlassReason();
    if (reason.isEmpty()) {
      return false;
    }
    BreakGlassGrant grant = grant(caller, reason.get());
    CallAudit.current().breakGlass(grant.reason());
    return true;
  }

  private BreakGlassGrant grant(Identity caller, String reason) {
    Optional<BreakGlassGrant> open = breakGlass.coveringGrant(caller, Permissions.LABEL_READ);
    if (open.isPresent()) {
      return open.get();
    }
    try {
      BreakGlassGrant grant = breakGlass.open(caller, reason);
      CallAudit.current().recordBreakGlassStart(grant.reason(), grant.id());
      return grant;
    } catch (BreakGlassException e) {
      throw switch (e.reason()) {
        case NOT_PERMITTED ->
            Status.PERMISSION_DENIED
                .withDescription("emergency access not permitted")
                .asRuntimeException();
        case INVALID_REASON, INVALID_DURATION ->
            InvalidArgument.of(
                "x-protorad-break-glass-reason",
                "expected: a reason of printable characters within the policy's length limit");
      };
    }
  }
}
