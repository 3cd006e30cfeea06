package dev.protorad.server.api;

import static java.util.Objects.requireNonNull;

import dev.protorad.api.v1.AuditEvent;
import dev.protorad.api.v1.AuditOutcome;
import dev.protorad.api.v1.AuditServiceGrpc;
import dev.protorad.api.v1.QueryAuditEventsRequest;
import dev.protorad.api.v1.QueryAuditEventsResponse;
import dev.protorad.api.v1.VerifyAuditLogRequest;
import dev.protorad.api.v1.VerifyAuditLogResponse;
import dev.protorad.audit.AuditPage;
import dev.protorad.audit.AuditQuery;
import dev.protorad.audit.AuditStore;
import dev.protorad.audit.EventDraft;
import dev.protorad.audit.Outcome;
import dev.protorad.audit.VerifyResult;
import dev.protorad.policy.Permissions;
import dev.protorad.policy.PolicyEngine;
import io.grpc.stub.StreamObserver;
import org.jspecify.annotations.Nullable;

/**
 * Translates {@code AuditService} calls to the {@link AuditStore}. The one rule of its own: label
 * fields of returned events (label id, confidence) are blank for a caller without {@code
 * label:read}, as on every other path.
 */
final class AuditGrpcService extends AuditServiceGrpc.AuditServiceImplBase {

  private final AuditStore store;
  private final PolicyEngine policy;

  AuditGrpcService(AuditStore store, PolicyEngine policy) {
    this.store = requireNonNull(store, "store");
    this.policy = requireNonNull(policy, "policy");
  }

  @Override
  public void queryAuditEvents(
      QueryAuditEventsRequest request, StreamObserver<QueryAuditEventsResponse> response) {
    Statuses.respond(response, () -> query(request));
  }

  private QueryAuditEventsResponse query(QueryAuditEventsRequest request) {
    return toResponse(
        store.query(toQuery(request)),
        policy.isPermitted(CallIdentity.current(), Permissions.LABEL_READ));
  }

  @Override
  public void verifyAuditLog(
      VerifyAuditLogRequest request, StreamObserver<VerifyAuditLogResponse> response) {
    Statuses.respond(response, () -> toResponse(store.verify()));
  }

  static AuditQuery toQuery(QueryAuditEventsRequest r) {
    AuditQuery.Builder query =
        AuditQuery.builder()
            .between(
                r.hasStartTime() ? ProtoTimes.toInstant(r.getStartTime()) : null,
                r.hasEndTime() ? ProtoTimes.toInstant(r.getEndTime()) : null)
            .principal(r.getPrincipal())
            .action(r.getAction())
            .outcome(toOutcome(r.getOutcome()))
            .orderId(r.getOrderId())
            .patientRef(r.getPatientRef())
            .adapter(r.getAdapter())
            .breakGlassOnly(r.getBreakGlassOnly())
            .eventId(r.getEventId())
            .pageToken(r.getPageToken());
    if (r.getPageSize() != 0) {
      query.pageSize(r.getPageSize());
    }
    return query.build();
  }

  private static QueryAuditEventsResponse toResponse(AuditPage page, boolean showLabels) {
    return QueryAuditEventsResponse.newBuilder()
        .setNextPageToken(page.nextPageToken())
        .addAllEvents(page.events().stream().map(e -> shown(toProto(e), showLabels)).toList())
        .build();
  }

  /** {@code event} as the caller may see it: without label and confidence unless shown. */
  private static AuditEvent shown(AuditEvent event, boolean showLabels) {
    return showLabels ? event : event.toBuilder().clearLabelId().clearConfidence().build();
  }

  private static VerifyAuditLogResponse toResponse(VerifyResult v) {
    return VerifyAuditLogResponse.newBuilder()
        .setValid(v.valid())
        .setEventsChecked(v.eventsChecked())
        .setCheckpointsChecked(v.checkpointsChecked())
        .setFirstBadWriterId(v.firstBadWriter())
        .setFirstBadSequence(v.firstBadSequence())
        .setProblem(v.problem())
        .build();
  }

  static AuditEvent toProto(dev.protorad.audit.AuditEvent e) {
    EventDraft d = e.details();
    return AuditEvent.newBuilder()
        .setEventId(e.eventId())
        .setSequence(e.sequence())
        .setEventTime(ProtoTimes.of(e.time()))
        .setAction(d.action())
        .setOutcome(toProto(d.outcome()))
        .setStatusCode(d.statusCode())
        .setPrincipal(d.principal())
        .setOnBehalfOf(d.onBehalfOf())
        .addAllRoles(d.roles())
        .setClientAddress(d.clientAddress())
        .setOrderId(d.orderId())
        .setPatientRef(d.patientRef())
        .setNoteHmac(d.noteHmac())
        .setNoteHmacKeyId(d.noteHmacKeyId())
        .setLabelId(d.labelId())
        .setConfidence(d.confidence() == null ? 0f : d.confidence().floatValue())
        .setAdapterVersion(d.adapterVersion())
        .setBaseFingerprint(d.baseFingerprint())
        .setTraceId(d.traceId())
        .setBreakGlassReason(d.breakGlassReason())
        .setPreviousHash(e.previousHash())
        .setRecordHash(e.recordHash())
        .setWriterId(e.writerId())
        .setPredictionId(d.predictionId())
        .setOccurrences(d.occurrences())
        .build();
  }

  private static @Nullable Outcome toOutcome(AuditOutcome outcome) {
    return switch (outcome) {
      case AUDIT_OUTCOME_ALLOWED -> Outcome.ALLOWED;
      case AUDIT_OUTCOME_DENIED -> Outcome.DENIED;
      case AUDIT_OUTCOME_FAILED -> Outcome.FAILED;
      case AUDIT_OUTCOME_UNSPECIFIED, UNRECOGNIZED -> null;
    };
  }

  private static AuditOutcome toProto(Outcome outcome) {
    return switch (outcome) {
      case ALLOWED -> AuditOutcome.AUDIT_OUTCOME_ALLOWED;
      case DENIED -> AuditOutcome.AUDIT_OUTCOME_DENIED;
      case FAILED -> AuditOutcome.AUDIT_OUTCOME_FAILED;
    };
  }
}
