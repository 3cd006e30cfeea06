package dev.protorad.server.api;

import static java.util.Objects.requireNonNull;

import dev.protorad.api.v1.AssignProtocolRequest;
import dev.protorad.api.v1.AssignProtocolResponse;
import dev.protorad.api.v1.AssignProtocolsRequest;
import dev.protorad.api.v1.AssignProtocolsResponse;
import dev.protorad.api.v1.CatalogProtocol;
import dev.protorad.api.v1.GetCatalogRequest;
import dev.protorad.api.v1.GetCatalogResponse;
import dev.protorad.api.v1.GetPredictionNoteRequest;
import dev.protorad.api.v1.GetPredictionNoteResponse;
import dev.protorad.api.v1.GetPredictionRequest;
import dev.protorad.api.v1.GetPredictionResponse;
import dev.protorad.api.v1.Label;
import dev.protorad.api.v1.ListPredictionsRequest;
import dev.protorad.api.v1.ListPredictionsResponse;
import dev.protorad.api.v1.ProtocolServiceGrpc;
import dev.protorad.api.v1.Review;
import dev.protorad.api.v1.ReviewDecision;
import dev.protorad.api.v1.ReviewPredictionRequest;
import dev.protorad.api.v1.ReviewPredictionResponse;
import dev.protorad.api.v1.ScoredLabel;
import dev.protorad.audit.AuditEvent;
import dev.protorad.audit.NoteHmac;
import dev.protorad.clinical.catalog.Protocol;
import dev.protorad.policy.Permissions;
import dev.protorad.policy.PolicyEngine;
import dev.protorad.server.serving.AdapterResolver;
import dev.protorad.server.serving.Idempotency;
import dev.protorad.server.serving.NoteVault;
import dev.protorad.server.serving.PredictionFilter;
import dev.protorad.server.serving.PredictionQueue;
import dev.protorad.server.serving.PredictionStore;
import dev.protorad.server.serving.ProtocolAnswer;
import dev.protorad.server.serving.ProtocolPredictor;
import dev.protorad.server.serving.ResolvedAdapter;
import dev.protorad.server.serving.StoredPrediction;
import io.grpc.Context;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.time.Clock;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.function.Supplier;

/**
 * {@code ProtocolService}: validates, scores on the inference queue, audits durably, stores, and
 * only then answers. Label fields go only to callers allowed to read labels.
 */
final class ProtocolGrpcService extends ProtocolServiceGrpc.ProtocolServiceImplBase {

  /** NOT_FOUND for a prediction id the store does not have. */
  private static final Status NO_SUCH_PREDICTION =
      Status.NOT_FOUND.withDescription("no such prediction");

  /** UNAVAILABLE for a retried call whose first attempt stored nothing. */
  private static final Status FIRST_CALL_FAILED =
      Status.UNAVAILABLE.withDescription(
          "the first call with this idempotency_key failed; retry to score anew");

  private final ProtocolPredictor predictor;
  private final AdapterResolver adapters;
  private final PredictionQueue queue;
  private final PredictionStore predictions;
  private final NoteHmac noteHmac;
  private final LabelAccess labelAccess;
  private final PolicyEngine policy;
  private final Clock clock;
  private final ConcurrentMap<String, CompletableFuture<Void>> inFlight = new ConcurrentHashMap<>();

  ProtocolGrpcService(
      ProtocolPredictor predictor,
      AdapterResolver adapters,
      PredictionQueue queue,
      PredictionStore predictions,
      NoteHmac noteHmac,
      LabelAccess labelAccess,
      PolicyEngine policy,
      Clock clock) {
    this.predictor = requireNonNull(predictor, "predictor");
    this.adapters = requireNonNull(adapters, "adapters");
    this.queue = requireNonNull(queue, "queue");
    this.predictions = requireNonNull(predictions, "predictions");
    this.noteHmac = requireNonNull(noteHmac, "noteHmac");
    this.labelAccess = requireNonNull(labelAccess, "labelAccess");
    this.policy = requireNonNull(policy, "policy");
    this.clock = requireNonNull(clock, "clock");
  }

  @Override
  public void assignProtocol(
      AssignProtocolRequest request, StreamObserver<AssignProtocolResponse> response) {
    CompletableFuture<AssignProtocolResponse> answer;
    try {
      answer = assign(request, CallAudit.current(), labelAccess.labelsVisible());
    } catch (RuntimeException e) {
      response.onError(Statuses.toException(e));
      return;
    }
    var unused =
        answer.whenComplete(
            (result, failure) -> {
              if (failure != null) {
                response.onError(Statuses.toException(unwrap(failure)));
                return;
              }
              response.onNext(result);
              response.onCompleted();
            });
  }

  @Override
  public StreamObserver<AssignProtocolsRequest> assignProtocols(
      StreamObserver<AssignProtocolsResponse> response) {
    ServerCallStreamObserver<AssignProtocolsResponse> out =
        (ServerCallStreamObserver<AssignProtocolsResponse>) response;
    try {
      labelAccess.labelsVisible();
    } catch (RuntimeException e) {
      out.onError(Statuses.toException(e));
      return BulkAssignments.ignoring();
    }
    // Label visibility is decided again for each item, under the identity it was authorized as.
    return new BulkAssignments(
        out, CallAudit.current(), (r, audit) -> assign(r, audit, labelAccess.labelsVisible()));
  }

  /**
   * Validates, records what the call is about, resolves the adapter and queues the prediction; the
   * future completes with the answer once its audit event is durable and the prediction is stored.
   * A request with a retry key that an earlier call of the same principal used answers with that
   * call's prediction instead ({@link #replayOrRun}).
   */
  private CompletableFuture<AssignProtocolResponse> assign(
      AssignProtocolRequest request, CallAudit audit, boolean showLabels) {
    AssignProtocolRequest valid = AssignRequests.validate(request);
    audit.order(valid.getOrderId(), valid.getPatientRef());
    NoteHmac.Digest note = noteHmac.digest(valid.getNote());
    audit.note(note);
    if (valid.getIdempotencyKey().isEmpty()) {
      return score(valid, audit, showLabels, Optional.empty());
    }
    Idempotency key =
        Idempotency.of(
            CallIdentity.current().principalId(),
            valid.getIdempotencyKey(),
            valid.getOrderId(),
            valid.getPatientRef(),
            valid.getAdapter(),
            Integer.toString(valid.getTopK()),
            note.keyId(),
            note.hmac());
    return replayOrRun(
        key, () -> score(valid, audit, showLabels, Optional.of(key)), audit, showLabels);
  }

  /**
   * The earlier prediction under {@code key} when there is one, else {@code run}'s. Calls with the
   * same key in this process run one at a time: a retry that arrives while the first call is still
   * scoring waits for it and then replays it. Across replicas the store's unique key decides
   * ({@link #answer}).
   */
  private CompletableFuture<AssignProtocolResponse> replayOrRun(
      Idempotency key,
      Supplier<CompletableFuture<AssignProtocolResponse>> run,
      CallAudit audit,
      boolean showLabels) {
    CompletableFuture<Void> mine = new CompletableFuture<>();
    CompletableFuture<Void> running = inFlight.putIfAbsent(key.keyDigest(), mine);
    if (running != null) {
      return running.handle((ok, failure) -> replayStored(key, audit, showLabels));
    }
    CompletableFuture<AssignProtocolResponse> answer;
    try {
      Optional<PredictionStore.Keyed> earlier = predictions.findByIdempotencyKey(key.keyDigest());
      answer =
          earlier.isPresent()
              ? CompletableFuture.completedFuture(replay(earlier.get(), key, audit, showLabels))
              : run.get();
    } catch (RuntimeException e) {
      release(key, mine);
      throw e;
    }
    return answer.whenComplete((ok, failure) -> release(key, mine));
  }

  private void release(Idempotency key, CompletableFuture<Void> mine) {
    inFlight.remove(key.keyDigest(), mine);
    mine.complete(null);
  }

  /** The replay of the prediction stored under {@code key}, once the call that made it is over. */
  private AssignProtocolResponse replayStored(
      Idempotency key, CallAudit audit, boolean showLabels) {
    return predictions
        .findByIdempotencyKey(key.keyDigest())
        .map(earlier -> replay(earlier, key, audit, showLabels))
        .orElseThrow(FIRST_CALL_FAILED::asRuntimeException);
  }

  /**
   * Answers with {@code earlier} and audits the replay, or FAILED_PRECONDITION when the key was
   * used for a different request.
   */
  private AssignProtocolResponse replay(
      PredictionStore.Keyed earlier, Idempotency key, CallAudit audit, boolean showLabels) {
    if (!earlier.requestDigest().equals(key.requestDigest())) {
      throw Status.FAILED_PRECONDITION
          .withDescription(
              "idempotency_key: already used for a different request (expected: a new key)")
          .asRuntimeException();
    }
    StoredPrediction p = earlier.prediction();
    audit.prediction(p.predictionId(), p.labelId(), p.confidence()).replay();
    audit.model(p.adapterVersion(), "");
    audit.record(Status.OK);
    return response(p, showLabels);
  }

  /** The answer for a stored prediction: the first call's and every replay's alike. */
  private AssignProtocolResponse response(StoredPrediction p, boolean showLabels) {
    AssignProtocolResponse.Builder out =
        AssignProtocolResponse.newBuilder()
            .setPredictionId(p.predictionId())
            .setAdapterVersion(p.adapterVersion())
            .setNeedsReview(p.needsReview())
            .setAuditEventId(p.auditEventId());
    if (showLabels) {
      // Flags and reasons are about the label (a rule fired on it): shown with it, never without.
      out.addAllFlags(p.flags()).addAllReviewReasons(p.reviewReasons());
      out.setLabel(label(predictor.catalog().get(p.labelId())))
          .setConfidence((float) p.confidence());
      for (StoredPrediction.Alternative a : p.alternatives()) {
        out.addAlternatives(
            ScoredLabel.newBuilder()
                .setLabel(label(predictor.catalog().get(a.labelId())))
                .setProbability((float) a.probability()));
      }
    }
    return out.build();
  }

  private CompletableFuture<AssignProtocolResponse> score(
      AssignProtocolRequest valid, CallAudit audit, boolean showLabels, Optional<Idempotency> key) {
    ResolvedAdapter adapter = adapters.resolve(valid.getAdapter());
    if (!adapter.promoted()
        && !policy.isPermitted(CallIdentity.current(), Permissions.ADAPTER_READ)) {
      // A version no alias points at (imported, or trained and not yet promoted) is for the
      // people who manage adapters, not for clinical traffic.
      throw Status.PERMISSION_DENIED
          .withDescription("adapter version not promoted: " + adapter.version())
          .asRuntimeException();
    }
    Context caller = Context.current();
    return queue
        .submit(valid.getNote(), adapter, valid.getTopK(), caller::isCancelled)
        .thenApply(prediction -> answer(valid, prediction, showLabels, audit, key));
  }

  private AssignProtocolResponse answer(
      AssignProtocolRequest request,
      ProtocolAnswer p,
      boolean showLabels,
      CallAudit audit,
      Optional<Idempotency> key) {
    String predictionId = UUID.randomUUID().toString();
    audit
        .prediction(predictionId, p.label().id(), p.confidence())
        .model(p.adapterVersion(), p.baseFingerprint());
    AuditEvent event = audit.record(Status.OK);
    StoredPrediction stored = stored(request, p, predictionId, event);
    try {
      predictions.insert(stored, request.getNote(), key);
    } catch (PredictionStore.PredictionStoreException e) {
      if (key.isPresent() && e.isDuplicateKey()) {
        // Another replica stored a prediction under this key first: answer with that one. This
        // call's event stays, naming a prediction that was not kept; the replay is audited too.
        CallAudit replay = audit.forItem().order(request.getOrderId(), request.getPatientRef());
        return replayStored(key.get(), replay, showLabels);
      }
      throw e;
    }
    return response(stored, showLabels);
  }

  private StoredPrediction stored(
      AssignProtocolRequest r, ProtocolAnswer p, String predictionId, AuditEvent event) {
    return new StoredPrediction(
        predictionId,
        r.getOrderId(),
        r.getPatientRef(),
        p.label().id(),
        p.confidence(),
        p.adapterVersion(),
        p.needsReview(),
        p.flags(),
        p.reviewReasons(),
        p.alternatives().stream()
            .map(a -> new StoredPrediction.Alternative(a.protocol().id(), a.probability()))
            .toList(),
        event.time(),
        event.eventId(),
        Optional.empty());
  }

  @Override
  public void getPrediction(
      GetPredictionRequest request, StreamObserver<GetPredictionResponse> response) {
    Statuses.respond(response, () -> get(request));
  }

  private GetPredictionResponse get(GetPredictionRequest request) {
    StoredPrediction p = find(request.getPredictionId());
    CallAudit.current().order(p.orderId(), p.patientRef());
    boolean show = labelAccess.labelsVisible();
    return GetPredictionResponse.newBuilder().setPrediction(toProto(p, show)).build();
  }

  @Override
  public void reviewPrediction(
      ReviewPredictionRequest request, StreamObserver<ReviewPredictionResponse> response) {
    Statuses.respond(response, () -> review(request));
  }

  private ReviewPredictionResponse review(ReviewPredictionRequest r) {
    boolean accepted = decision(r);
    if (r.getComment().length() > 1000) {
      throw InvalidArgument.of("comment", "too long (expected: at most 1000 characters)");
    }
    StoredPrediction before = find(r.getPredictionId());
    CallAudit.current().order(before.orderId(), before.patientRef());
    StoredPrediction.Review review =
        new StoredPrediction.Review(
            accepted,
            accepted ? "" : r.getCorrectedLabelId(),
            CallIdentity.current().onBehalfOf() != null
                ? CallIdentity.current().onBehalfOf()
                : CallIdentity.current().principalId(),
            clock.instant(),
            r.getComment());
    CallAudit.beforeEffect();
    if (!predictions.review(before.predictionId(), review)) {
      throw Status.FAILED_PRECONDITION
          .withDescription("prediction already reviewed")
          .asRuntimeException();
    }
    return ReviewPredictionResponse.newBuilder()
        .setPrediction(toProto(find(before.predictionId()), labelAccess.labelsVisible()))
        .build();
  }

  @Override
  public void listPredictions(
      ListPredictionsRequest request, StreamObserver<ListPredictionsResponse> response) {
    Statuses.respond(response, () -> list(request));
  }

  private ListPredictionsResponse list(ListPredictionsRequest request) {
    PredictionFilter filter = PredictionListing.filter(request);
    int size = PredictionListing.pageSize(request);
    List<StoredPrediction> page =
        predictions.list(filter, PredictionListing.cursor(request.getPageToken()), size + 1);
    boolean show = labelAccess.labelsVisible();
    ListPredictionsResponse.Builder out = ListPredictionsResponse.newBuilder();
    page.stream().limit(size).forEach(p -> out.addPredictions(toProto(p, show)));
    if (page.size() > size) {
      out.setNextPageToken(
          PredictionListing.token(PredictionFilter.Cursor.after(page.get(size - 1))));
    }
    return out.build();
  }

  @Override
  public void getCatalog(GetCatalogRequest request, StreamObserver<GetCatalogResponse> response) {
    Statuses.respond(response, this::catalog);
  }

  private GetCatalogResponse catalog() {
    GetCatalogResponse.Builder out = GetCatalogResponse.newBuilder();
    for (Protocol p : predictor.catalog().protocols()) {
      out.addProtocols(
          CatalogProtocol.newBuilder()
              .setLabel(label(p))
              .setRegion(p.region())
              .addAllIndications(p.indications()));
    }
    return out.build();
  }

  /**
   * The kept note, to {@code note:read} only (the permission table checks it). The audit event
   * names the prediction, its order and patient reference (never the note), and is durable before
   * the note leaves.
   */
  @Override
  public void getPredictionNote(
      GetPredictionNoteRequest request, StreamObserver<GetPredictionNoteResponse> response) {
    Statuses.respond(response, () -> note(request));
  }

  private GetPredictionNoteResponse note(GetPredictionNoteRequest request) {
    StoredPrediction p = find(request.getPredictionId());
    CallAudit.current().order(p.orderId(), p.patientRef()).about(p.predictionId());
    if (!predictions.keepsNotes()) {
      throw Status.FAILED_PRECONDITION
          .withDescription("this server keeps no notes (predictions.retain_notes: false)")
          .asRuntimeException();
    }
    String note = keptNote(p.predictionId());
    // Evidence first: the read is durable in the trail before the note leaves.
    CallAudit.beforeEffect();
    return GetPredictionNoteResponse.newBuilder()
        .setPredictionId(p.predictionId())
        .setNote(note)
        .build();
  }

  /** The note kept for {@code predictionId}, opened; NOT_FOUND or DATA_LOSS when it cannot be. */
  private String keptNote(String predictionId) {
    try {
      return predictions
          .note(predictionId)
          .orElseThrow(
              () ->
                  Status.NOT_FOUND
                      .withDescription("the note was not kept or has expired")
                      .asRuntimeException());
    } catch (NoteVault.OpenException e) {
      throw Status.DATA_LOSS
          .withDescription("the kept note does not authenticate: " + e.reason())
          .asRuntimeException();
    }
  }

  private boolean decision(ReviewPredictionRequest r) {
    if (r.getDecision() == ReviewDecision.REVIEW_DECISION_ACCEPT) {
      return true;
    }
    if (r.getDecision() != ReviewDecision.REVIEW_DECISION_CORRECT) {
      throw InvalidArgument.of("decision", "unset (expected: ACCEPT or CORRECT)");
    }
    if (!predictor.catalog().contains(r.getCorrectedLabelId())) {
      throw InvalidArgument.of(
          "corrected_label_id", "not a catalog id (expected: e.g. ct-head-wo)");
    }
    return false;
  }

  private StoredPrediction find(String predictionId) {
    if (predictionId.isEmpty() || predictionId.length() > 64) {
      throw InvalidArgument.of("prediction_id", "malformed (expected: an id from AssignProtocol)");
    }
    return predictions.find(predictionId).orElseThrow(NO_SUCH_PREDICTION::asRuntimeException);
  }

  private dev.protorad.api.v1.Prediction toProto(StoredPrediction p, boolean showLabels) {
    dev.protorad.api.v1.Prediction.Builder out =
        dev.protorad.api.v1.Prediction.newBuilder()
            .setPredictionId(p.predictionId())
            .setOrderId(p.orderId())
            .setPatientRef(p.patientRef())
            .setAdapterVersion(p.adapterVersion())
            .setNeedsReview(p.needsReview())
            .setCreateTime(ProtoTimes.of(p.createdAt()))
            .setAuditEventId(p.auditEventId());
    if (showLabels) {
      out.addAllFlags(p.flags()).addAllReviewReasons(p.reviewReasons());
      out.setLabel(label(predictor.catalog().get(p.labelId())))
          .setConfidence((float) p.confidence());
      for (StoredPrediction.Alternative a : p.alternatives()) {
        predictor
            .catalog()
            .find(a.labelId())
            .ifPresent(
                l ->
                    out.addAlternatives(
                        ScoredLabel.newBuilder()
                            .setLabel(label(l))
                            .setProbability((float) a.probability())));
      }
    }
    p.review().ifPresent(r -> out.setReview(toProto(r, showLabels)));
    return out.build();
  }

  private static Review toProto(StoredPrediction.Review r, boolean showLabels) {
    Review.Builder out =
        Review.newBuilder()
            .setDecision(
                r.accepted()
                    ? ReviewDecision.REVIEW_DECISION_ACCEPT
                    : ReviewDecision.REVIEW_DECISION_CORRECT)
            .setReviewer(r.reviewer())
            .setReviewTime(ProtoTimes.of(r.reviewedAt()))
            .setComment(r.comment());
    if (showLabels) {
      out.setCorrectedLabelId(r.correctedLabelId());
    }
    return out.build();
  }

  static Label label(Protocol p) {
    return Label.newBuilder()
        .setId(p.id())
        .setName(p.name())
        .setModality(p.modality().name())
        .setContrast(p.contrast().yamlName())
        .build();
  }

  private static Throwable unwrap(Throwable t) {
    return t instanceof java.util.concurrent.CompletionException && t.getCause() != null
        ? t.getCause()
        : t;
  }
}
