package dev.protorad.server.api;

import dev.protorad.audit.AuditEvent;
import dev.protorad.audit.AuditStore;
import dev.protorad.audit.EventDraft;
import dev.protorad.audit.NoteHmac;
import dev.protorad.audit.Outcome;
import dev.protorad.policy.Identity;
import io.grpc.Context;
import io.grpc.Status;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * What one call contributes to its audit event. The audit interceptor creates it; the
 * authentication interceptor adds who called; services add what the call was about (order id, note
 * HMAC, label, adapter) as they learn it. Note text never goes in here.
 *
 * <p>Fields are written by the call's own threads one after another (interceptors, then the
 * service); {@code synchronized} keeps the final read by the closing thread consistent.
 */
public final class CallAudit {

  static final Context.Key<CallAudit> KEY = Context.key("protorad-call-audit");
  static final String ANONYMOUS = "anonymous";
  static final String BREAK_GLASS_START = "protorad.v1.BreakGlass/Start";

  /** Appended to a call's action when it answered with an earlier prediction (a retry). */
  static final String REPLAY_SUFFIX = "#replay";

  private final String action;
  private final String clientAddress;
  private final AuditStore store;
  private final String traceId;
  private @Nullable AuditEvent recorded;
  private boolean recordedBeforeEffect;
  private @Nullable Identity identity;
  private boolean denied;
  private String orderId = "";
  private String patientRef = "";
  private NoteHmac.@Nullable Digest note;
  private String labelId = "";
  private double confidence;
  private String adapterVersion = "";
  private String baseFingerprint = "";
  private String predictionId = "";
  private String breakGlassReason = "";
  private boolean replay;

  CallAudit(String action, String clientAddress, AuditStore store, String traceId) {
    this.action = Objects.requireNonNull(action, "action");
    this.clientAddress = Objects.requireNonNull(clientAddress, "clientAddress");
    this.store = Objects.requireNonNull(store, "store");
    this.traceId = Objects.requireNonNull(traceId, "traceId");
  }

  /**
   * Appends the call's event now, with outcome {@code status}, and returns it once durable. A
   * service calls this before its answer leaves when the answer must name its audit event (a
   * prediction does); otherwise the interceptor records the event when the call closes. Only the
   * first successful record counts.
   *
   * @throws dev.protorad.audit.AuditUnavailableException when the store cannot make it durable; the
   *     answer must then not be sent
   */
  public synchronized AuditEvent record(Status status) {
    if (recorded == null) {
      recorded = store.append(toDraft(status));
    }
    return recorded;
  }

  /**
   * Evidence first: appends the call's event now, as allowed, before the call changes anything or
   * sends its first message, and returns once it is durable. Should the change then fail, the
   * interceptor appends a second event with the failure ({@link #recordFailureAfter}).
   *
   * @throws dev.protorad.audit.AuditUnavailableException when the store cannot make it durable; the
   *     change must then not be made
   */
  public synchronized AuditEvent recordBeforeEffect() {
    if (recorded == null) {
      recorded = store.append(toDraft(Status.OK));
      recordedBeforeEffect = true;
    }
    return recorded;
  }

  /**
   * {@link #recordBeforeEffect} on the current call's record; a no-op for a service run without the
   * audit interceptor (never so in a server, whose governance always installs it).
   */
  static void beforeEffect() {
    CallAudit audit = KEY.get();
    if (audit != null) {
      audit.recordBeforeEffect();
    }
  }

  /** As {@link #beforeEffect}, recording the adapter the change is about first. */
  static void beforeEffect(String adapter, String baseFingerprint) {
    CallAudit audit = KEY.get();
    if (audit != null) {
      audit.model(adapter, baseFingerprint).recordBeforeEffect();
    }
  }

  synchronized boolean recordedBeforeEffect() {
    return recordedBeforeEffect;
  }

  /** A second event for a call recorded before its effect that then failed with {@code status}. */
  synchronized AuditEvent recordFailureAfter(Status status) {
    return store.append(toDraft(status));
  }

  /**
   * Appends a separate event marking the start of an emergency (break-glass) access by this call's
   * caller; the call's own event records the access itself.
   */
  public synchronized AuditEvent recordBreakGlassStart(String reason, String grantId) {
    return store.append(
        callerEvent(BREAK_GLASS_START, Outcome.ALLOWED, "OK")
            .breakGlassReason(reason)
            .predictionId("grant:" + grantId)
            .build());
  }

  /**
   * A record for one item of a streaming call (a bulk prediction): same caller, action and client,
   * its own order, note digest and answer, appended with its own {@link #record}.
   */
  public synchronized CallAudit forItem() {
    CallAudit item = new CallAudit(action, clientAddress, store, traceId);
    item.identity = identity;
    item.breakGlassReason = breakGlassReason;
    return item;
  }

  /** Whether no caller was authenticated (the call was refused before that). */
  synchronized boolean isAnonymous() {
    return identity == null;
  }

  synchronized boolean isRecorded() {
    return recorded != null;
  }

  /** The audit record of the current call; fails if the call is not audited. */
  public static CallAudit current() {
    return Optional.ofNullable(KEY.get())
        .orElseThrow(() -> new IllegalStateException("no audit record in this call context"));
  }

  synchronized void identity(Identity value) {
    this.identity = value;
  }

  synchronized void denied() {
    this.denied = true;
  }

  /** Records the order the call is about. */
  public synchronized CallAudit order(String newOrderId, String newPatientRef) {
    this.orderId = Objects.requireNonNull(newOrderId, "orderId");
    this.patientRef = Objects.requireNonNull(newPatientRef, "patientRef");
    return this;
  }

  /** Records the HMAC of the note (never the note). */
  public synchronized CallAudit note(NoteHmac.Digest digest) {
    this.note = Objects.requireNonNull(digest, "digest");
    return this;
  }

  /** Records the answer that leaves with the call. */
  public synchronized CallAudit prediction(
      String newPredictionId, String newLabelId, double newConfidence) {
    this.predictionId = Objects.requireNonNull(newPredictionId, "predictionId");
    this.labelId = Objects.requireNonNull(newLabelId, "labelId");
    this.confidence = newConfidence;
    return this;
  }

  /** Records the stored prediction the call reads (its note, for one). */
  public synchronized CallAudit about(String newPredictionId) {
    this.predictionId = Objects.requireNonNull(newPredictionId, "predictionId");
    return this;
  }

  /** Records the model that answered. */
  public synchronized CallAudit model(String newAdapterVersion, String newBaseFingerprint) {
    this.adapterVersion = Objects.requireNonNull(newAdapterVersion, "adapterVersion");
    this.baseFingerprint = Objects.requireNonNull(newBaseFingerprint, "baseFingerprint");
    return this;
  }

  /**
   * Marks the call as a replay: it answered with the prediction an earlier call made under the same
   * retry key, which {@link #prediction} names; its action gets {@link #REPLAY_SUFFIX}.
   */
  public synchronized CallAudit replay() {
    this.replay = true;
    return this;
  }

  /** Marks the call as an emergency (break-glass) access with its reason. */
  public synchronized CallAudit breakGlass(String reason) {
    this.breakGlassReason = Objects.requireNonNull(reason, "reason");
    return this;
  }

  /** The event for the call's final status. */
  private EventDraft toDraft(Status status) {
    Outcome outcome = denied ? Outcome.DENIED : status.isOk() ? Outcome.ALLOWED : Outcome.FAILED;
    EventDraft.Builder event =
        callerEvent(replay ? action + REPLAY_SUFFIX : action, outcome, status.getCode().name())
            .orderId(orderId)
            .patientRef(patientRef)
            .model(adapterVersion, baseFingerprint)
            .breakGlassReason(breakGlassReason)
            .predictionId(predictionId);
    if (note != null) {
      event.note(note);
    }
    if (!labelId.isEmpty()) {
      event.label(labelId, confidence);
    }
    return event.build();
  }

  /** An event about this call's caller and client, as every event of the call starts. */
  private EventDraft.Builder callerEvent(String eventAction, Outcome outcome, String statusCode) {
    return EventDraft.builder(eventAction, outcome, statusCode)
        .principal(identity == null ? ANONYMOUS : identity.principalId())
        .onBehalfOf(identity == null || identity.onBehalfOf() == null ? "" : identity.onBehalfOf())
        .roles(identity == null ? List.of() : identity.roles().stream().sorted().toList())
        .clientAddress(clientAddress)
        .traceId(traceId);
  }
}
