package dev.protorad.audit;

import static java.util.Objects.requireNonNull;

import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * What the server knows about one RPC outcome, before the store gives it a sequence number, a time
 * and its place in the hash chain. Absent text fields are empty strings; {@code confidence} is null
 * when no label was returned. Never carries note text: only its {@link NoteHmac} digest.
 *
 * @param action full RPC name, for example {@code protorad.v1.ProtocolService/AssignProtocol}
 * @param outcome allowed, denied or failed
 * @param statusCode canonical status name, for example {@code OK} or {@code PERMISSION_DENIED}
 * @param principal the authenticated caller, or a fixed name such as {@code anonymous}
 * @param onBehalfOf the end user asserted by a gateway, or empty
 * @param roles the caller's roles at the time of the call
 * @param clientAddress the peer address, or empty
 * @param orderId the imaging order id, or empty
 * @param patientRef the patient reference, or empty
 * @param noteHmac hex HMAC-SHA256 of the note text, or empty
 * @param noteHmacKeyId id of the HMAC key, empty exactly when {@code noteHmac} is
 * @param labelId the returned catalog label id, or empty
 * @param confidence the returned confidence in [0, 1], or null
 * @param adapterVersion the resolved adapter, {@code name@version}, or empty
 * @param baseFingerprint fingerprint of the base model, or empty
 * @param traceId the trace id of the call, or empty
 * @param breakGlassReason the reason given for emergency access; empty when not break-glass
 * @param predictionId the prediction id, or empty
 * @param occurrences how many calls the event stands for: 1, or more for an aggregate of denied
 *     calls from one source (stored only when above 1, so events before aggregation keep their
 *     hashes)
 */
public record EventDraft(
    String action,
    Outcome outcome,
    String statusCode,
    String principal,
    String onBehalfOf,
    List<String> roles,
    String clientAddress,
    String orderId,
    String patientRef,
    String noteHmac,
    String noteHmacKeyId,
    String labelId,
    @Nullable Double confidence,
    String adapterVersion,
    String baseFingerprint,
    String traceId,
    String breakGlassReason,
    String predictionId,
    long occurrences) {

  private static final int MAX_FIELD = 1024;
  private static final int MAX_ROLES = 64;

  /** Validates every field; see the record description. */
  public EventDraft {
    action = required(action, "action");
    requireNonNull(outcome, "outcome");
    statusCode = required(statusCode, "statusCode");
    principal = required(principal, "principal");
    roles = List.copyOf(requireNonNull(roles, "roles"));
    if (roles.size() > MAX_ROLES) {
      throw new IllegalArgumentException(
          "roles: " + roles.size() + " roles (expected: at most " + MAX_ROLES + ")");
    }
    roles.forEach(r -> bounded(r, "roles[]"));
    bounded(onBehalfOf, "onBehalfOf");
    bounded(clientAddress, "clientAddress");
    bounded(orderId, "orderId");
    bounded(patientRef, "patientRef");
    bounded(labelId, "labelId");
    bounded(adapterVersion, "adapterVersion");
    bounded(baseFingerprint, "baseFingerprint");
    bounded(traceId, "traceId");
    bounded(breakGlassReason, "breakGlassReason");
    bounded(predictionId, "predictionId");
    checkHmac(noteHmac, noteHmacKeyId);
    checkConfidence(confidence);
    if (occurrences < 1) {
      throw new IllegalArgumentException("occurrences: " + occurrences + " (expected: >= 1)");
    }
  }

  /** Starts a draft with the three fields every event needs. */
  public static Builder builder(String action, Outcome outcome, String statusCode) {
    return new Builder(action, outcome, statusCode);
  }

  /** Whether this event records an emergency (break-glass) access. */
  public boolean breakGlass() {
    return !breakGlassReason.isEmpty();
  }

  private static String required(String value, String name) {
    bounded(value, name);
    if (value.isBlank()) {
      throw new IllegalArgumentException(name + ": blank (expected: a non-blank value)");
    }
    return value;
  }

  private static void bounded(String value, String name) {
    requireNonNull(value, name);
    if (value.length() > MAX_FIELD) {
      throw new IllegalArgumentException(
          name + ": " + value.length() + " characters (expected: at most " + MAX_FIELD + ")");
    }
  }

  private static void checkHmac(String hmac, String keyId) {
    requireNonNull(hmac, "noteHmac");
    requireNonNull(keyId, "noteHmacKeyId");
    if (hmac.isEmpty() != keyId.isEmpty()) {
      throw new IllegalArgumentException("noteHmac and noteHmacKeyId: set together or not at all");
    }
    if (!hmac.isEmpty() && !Hashes.isHash(hmac)) {
      throw new IllegalArgumentException("noteHmac: not 64 lowercase hex digits");
    }
    bounded(keyId, "noteHmacKeyId");
  }

  private static void checkConfidence(@Nullable Double confidence) {
    if (confidence != null && !(confidence >= 0.0 && confidence <= 1.0)) {
      throw new IllegalArgumentException("confidence: " + confidence + " (expected: 0..1)");
    }
  }

  /** Builds an {@link EventDraft}; optional fields default to empty. */
  public static final class Builder {
    private final String action;
    private final Outcome outcome;
    private final String statusCode;
    private String principal = "anonymous";
    private String onBehalfOf = "";
    private List<String> roles = List.of();
    private String clientAddress = "";
    private String orderId = "";
    private String patientRef = "";
    private String noteHmac = "";
    private String noteHmacKeyId = "";
    private String labelId = "";
    private @Nullable Double confidence;
    private String adapterVersion = "";
    private String baseFingerprint = "";
    private String traceId = "";
    private String breakGlassReason = "";
    private String predictionId = "";
    private long occurrences = 1;

    private Builder(String action, Outcome outcome, String statusCode) {
      this.action = requireNonNull(action, "action");
      this.outcome = requireNonNull(outcome, "outcome");
      this.statusCode = requireNonNull(statusCode, "statusCode");
    }

    /** The authenticated caller (default {@code anonymous}). */
    public Builder principal(String principal) {
      this.principal = requireNonNull(principal, "principal");
      return this;
    }

    /** The end user a gateway asserted. */
    public Builder onBehalfOf(String onBehalfOf) {
      this.onBehalfOf = requireNonNull(onBehalfOf, "onBehalfOf");
      return this;
    }

    /** The caller's roles. */
    public Builder roles(List<String> roles) {
      this.roles = List.copyOf(requireNonNull(roles, "roles"));
      return this;
    }

    /** The peer address. */
    public Builder clientAddress(String clientAddress) {
      this.clientAddress = requireNonNull(clientAddress, "clientAddress");
      return this;
    }

    /** The imaging order id. */
    public Builder orderId(String orderId) {
      this.orderId = requireNonNull(orderId, "orderId");
      return this;
    }

    /** The patient reference. */
    public Builder patientRef(String patientRef) {
      this.patientRef = requireNonNull(patientRef, "patientRef");
      return this;
    }

    /** The note's digest from {@link NoteHmac#digest(String)}. */
    public Builder note(NoteHmac.Digest digest) {
      requireNonNull(digest, "digest");
      this.noteHmac = digest.hmac();
      this.noteHmacKeyId = digest.keyId();
      return this;
    }

    /** The returned label and its confidence in [0, 1]. */
    public Builder label(String labelId, double confidence) {
      this.labelId = requireNonNull(labelId, "labelId");
      this.confidence = confidence;
      return this;
    }

    /** The resolved adapter version and the base model fingerprint. */
    public Builder model(String adapterVersion, String baseFingerprint) {
      this.adapterVersion = requireNonNull(adapterVersion, "adapterVersion");
      this.baseFingerprint = requireNonNull(baseFingerprint, "baseFingerprint");
      return this;
    }

    /** The trace id. */
    public Builder traceId(String traceId) {
      this.traceId = requireNonNull(traceId, "traceId");
      return this;
    }

    /** Marks the event as break-glass access with the caller's reason. */
    public Builder breakGlassReason(String reason) {
      this.breakGlassReason = requireNonNull(reason, "reason");
      return this;
    }

    /** The prediction id. */
    public Builder predictionId(String predictionId) {
      this.predictionId = requireNonNull(predictionId, "predictionId");
      return this;
    }

    /** How many calls the event stands for (an aggregate of denials; default 1). */
    public Builder occurrences(long occurrences) {
      this.occurrences = occurrences;
      return this;
    }

    /** Validates and builds the draft. */
    public EventDraft build() {
      return new EventDraft(
          action,
          outcome,
          statusCode,
          principal,
          onBehalfOf,
          roles,
          clientAddress,
          orderId,
          patientRef,
          noteHmac,
          noteHmacKeyId,
          labelId,
          confidence,
          adapterVersion,
          baseFingerprint,
          traceId,
          breakGlassReason,
          predictionId,
          occurrences);
    }
  }
}
