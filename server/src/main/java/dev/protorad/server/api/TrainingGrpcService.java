package dev.protorad.server.api;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.protorad.api.v1.CancelFineTuneRequest;
import dev.protorad.api.v1.CancelFineTuneResponse;
import dev.protorad.api.v1.ListFineTuneJobsRequest;
import dev.protorad.api.v1.ListFineTuneJobsResponse;
import dev.protorad.api.v1.StartFineTuneRequest;
import dev.protorad.api.v1.StartFineTuneResponse;
import dev.protorad.api.v1.TrainingExample;
import dev.protorad.api.v1.TrainingServiceGrpc;
import dev.protorad.api.v1.UploadDatasetRequest;
import dev.protorad.api.v1.UploadDatasetResponse;
import dev.protorad.api.v1.WatchFineTuneRequest;
import dev.protorad.api.v1.WatchFineTuneResponse;
import dev.protorad.policy.Identity;
import dev.protorad.server.adapters.AdapterRef;
import dev.protorad.server.jobs.FineTuneEvent;
import dev.protorad.server.jobs.FineTuneJob;
import dev.protorad.server.jobs.FineTuneJobs;
import dev.protorad.server.jobs.FineTuneRequest;
import dev.protorad.training.EvalSummary;
import dev.protorad.training.HyperParameters;
import dev.protorad.training.JobPhase;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/** {@code TrainingService}: translates messages to and from {@link FineTuneJobs}. */
final class TrainingGrpcService extends TrainingServiceGrpc.TrainingServiceImplBase {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int DEFAULT_PAGE = 50;
  private static final int MAX_PAGE = 500;

  private final FineTuneJobs jobs;
  private final @Nullable Path datasetRoot;

  TrainingGrpcService(FineTuneJobs jobs, @Nullable Path datasetRoot) {
    this.jobs = requireNonNull(jobs, "jobs");
    this.datasetRoot = datasetRoot;
  }

  @Override
  public void startFineTune(
      StartFineTuneRequest request, StreamObserver<StartFineTuneResponse> response) {
    FineTuneJob job;
    try {
      FineTuneRequest valid = toRequest(request);
      // Evidence first: the training start is durable in the audit trail before it is queued.
      CallAudit.beforeEffect(valid.adapterName(), "");
      job = jobs.submit(valid);
    } catch (RuntimeException e) {
      response.onError(Statuses.toStatus(e).asRuntimeException());
      return;
    }
    stream(job.jobId(), response, e -> StartFineTuneResponse.newBuilder().setEvent(e).build());
  }

  @Override
  public StreamObserver<UploadDatasetRequest> uploadDataset(
      StreamObserver<UploadDatasetResponse> response) {
    return new DatasetUpload(jobs, datasetRoot, response);
  }

  @Override
  public void watchFineTune(
      WatchFineTuneRequest request, StreamObserver<WatchFineTuneResponse> response) {
    try {
      stream(
          request.getJobId(),
          response,
          e -> WatchFineTuneResponse.newBuilder().setEvent(e).build());
    } catch (RuntimeException e) {
      response.onError(Statuses.toStatus(e).asRuntimeException());
    }
  }

  @Override
  public void cancelFineTune(
      CancelFineTuneRequest request, StreamObserver<CancelFineTuneResponse> response) {
    Statuses.respond(response, () -> cancel(request));
  }

  private CancelFineTuneResponse cancel(CancelFineTuneRequest request) {
    if (jobs.get(request.getJobId()).isEmpty()) {
      throw new java.util.NoSuchElementException("no such job");
    }
    CallAudit.beforeEffect();
    return CancelFineTuneResponse.newBuilder()
        .setJob(toProto(jobs.cancel(request.getJobId())))
        .build();
  }

  @Override
  public void listFineTuneJobs(
      ListFineTuneJobsRequest request, StreamObserver<ListFineTuneJobsResponse> response) {
    Statuses.respond(response, () -> list(request));
  }

  private ListFineTuneJobsResponse list(ListFineTuneJobsRequest request) {
    int size = pageSize(request.getPageSize());
    int from = pageToken(request.getPageToken());
    List<FineTuneJob> all = jobs.list();
    ListFineTuneJobsResponse.Builder b = ListFineTuneJobsResponse.newBuilder();
    for (int i = from; i < Math.min(all.size(), from + size); i++) {
      b.addJobs(toProto(all.get(i)));
    }
    if (from + size < all.size()) {
      b.setNextPageToken(Integer.toString(from + size));
    }
    return b.build();
  }

  private <T> void stream(
      String jobId,
      StreamObserver<T> response,
      Function<dev.protorad.api.v1.FineTuneEvent, T> wrap) {
    Runnable[] stop = new Runnable[1];
    Consumer<FineTuneEvent> listener =
        e -> {
          response.onNext(wrap.apply(toProto(e)));
          if (e.phase().terminal()) {
            response.onCompleted();
          }
        };
    if (response instanceof ServerCallStreamObserver<T> call) {
      call.setOnCancelHandler(
          () -> {
            if (stop[0] != null) {
              stop[0].run();
            }
          });
    }
    stop[0] = jobs.watch(jobId, listener);
  }

  private FineTuneRequest toRequest(StartFineTuneRequest r) {
    byte[] jsonl = r.getExamplesCount() > 0 ? toJsonl(r.getExamplesList()) : readDataset(r);
    return new FineTuneRequest(
        r.getAdapterName(),
        jsonl,
        toHyperParameters(r),
        r.getSkipInvalid(),
        caller(),
        r.getStartFrom().isEmpty() ? null : startFrom(r.getStartFrom()));
  }

  private static AdapterRef startFrom(String ref) {
    try {
      return AdapterRef.parse(ref);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("start_from: " + e.getMessage(), e);
    }
  }

  private byte[] readDataset(StartFineTuneRequest r) {
    if (r.getDatasetPath().isEmpty()) {
      throw new IllegalArgumentException(
          "examples: empty and dataset_path: empty (expected: one of them)");
    }
    if (datasetRoot == null) {
      throw new IllegalArgumentException(
          "dataset_path: this server reads no datasets from disk (expected: inline examples)");
    }
    Path root = datasetRoot.toAbsolutePath().normalize();
    Path p = root.resolve(r.getDatasetPath()).normalize();
    if (!p.startsWith(root) || !Files.isRegularFile(p)) {
      throw new IllegalArgumentException(
          "dataset_path: not a file under the server's dataset directory");
    }
    try {
      return Files.readAllBytes(p);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static byte[] toJsonl(List<TrainingExample> examples) {
    StringBuilder sb = new StringBuilder();
    for (TrainingExample e : examples) {
      ObjectNode n = JSON.createObjectNode();
      n.put("note", e.getNote());
      n.put("label", e.getLabel());
      if (!e.getSplit().isEmpty()) {
        n.put("split", e.getSplit());
      }
      sb.append(n).append('\n');
    }
    return sb.toString().getBytes(StandardCharsets.UTF_8);
  }

  private static HyperParameters toHyperParameters(StartFineTuneRequest r) {
    var p = r.getHyperParameters();
    HyperParameters.Builder b = HyperParameters.builder();
    if (p.getRank() != 0) b.rank(p.getRank());
    if (p.getAlpha() != 0) b.alpha(p.getAlpha());
    if (p.getDropout() != 0) b.dropout(p.getDropout());
    if (p.getTargetModulesCount() > 0) b.targetModules(p.getTargetModulesList());
    if (p.getLearningRate() != 0) b.learningRate(p.getLearningRate());
    if (p.getEpochs() != 0) b.epochs(p.getEpochs());
    if (p.getBatchSize() != 0) b.batchSize(p.getBatchSize());
    if (p.getGradientAccumulation() != 0) b.gradientAccumulation(p.getGradientAccumulation());
    if (p.getWarmupRatio() != 0) b.warmupRatio(p.getWarmupRatio());
    if (p.getMaxGradNorm() != 0) b.maxGradNorm(p.getMaxGradNorm());
    if (p.getWeightDecay() != 0) b.weightDecay(p.getWeightDecay());
    if (p.getSeed() != 0) b.seed(p.getSeed());
    if (p.getUseRslora()) b.useRslora(true);
    if (p.getMaxSteps() != 0) b.maxSteps(p.getMaxSteps());
    if (p.getValidationSplit() != 0) b.validationSplit(p.getValidationSplit());
    if (p.getCheckpointEvery() != 0) b.checkpointEvery(p.getCheckpointEvery());
    if (p.getMaxPromptTokens() != 0) b.maxPromptTokens(p.getMaxPromptTokens());
    if (p.getAugmentation() != 0) b.augmentation(p.getAugmentation());
    if (p.getLabelVocabularySoftmax()) b.labelVocabularySoftmax(true);
    return b.build();
  }

  private static String caller() {
    return CallIdentity.find().map(TrainingGrpcService::name).orElse(CallAudit.ANONYMOUS);
  }

  static String name(Identity i) {
    return i.onBehalfOf() != null ? i.onBehalfOf() + " via " + i.principalId() : i.principalId();
  }

  static dev.protorad.api.v1.FineTuneJob toProto(FineTuneJob j) {
    return dev.protorad.api.v1.FineTuneJob.newBuilder()
        .setJobId(j.jobId())
        .setAdapterName(j.adapterName())
        .setCreatedBy(j.createdBy())
        .setCreateTime(ProtoTimes.of(j.createdAt()))
        .setLatest(toProto(j.latest()))
        .build();
  }

  static dev.protorad.api.v1.FineTuneEvent toProto(FineTuneEvent e) {
    var b =
        dev.protorad.api.v1.FineTuneEvent.newBuilder()
            .setJobId(e.jobId())
            .setPhase(dev.protorad.api.v1.JobPhase.forNumber(e.phase().ordinal() + 1))
            .setStep(e.step())
            .setTotalSteps(e.totalSteps())
            .setEpoch(e.epoch())
            .setLoss(Double.isNaN(e.loss()) ? 0f : (float) e.loss())
            .setLearningRate((float) e.learningRate())
            .setTokensPerSecond((float) e.tokensPerSecond())
            .setEtaSeconds((float) e.etaSeconds())
            .setAdapterVersion(e.adapterVersion())
            .setError(e.error())
            .setEventTime(ProtoTimes.of(e.time()))
            .setMessage(e.message());
    if (e.metrics() != null) {
      b.setMetrics(toProto(e.metrics()));
    }
    return b.build();
  }

  private static dev.protorad.api.v1.EvalMetrics toProto(EvalSummary s) {
    var m = s.adapter();
    var b =
        dev.protorad.api.v1.EvalMetrics.newBuilder()
            .setSplit(s.split())
            .setAccuracy(m.accuracy())
            .setTop3Accuracy(m.top3Accuracy())
            .setMacroF1(m.macroF1())
            .setContrastAccuracy(m.contrastAccuracy())
            .setExpectedCalibrationError(m.ece())
            .setExamples(m.count());
    if (s.baseline() != null) {
      b.setBaselineMacroF1(s.baseline().macroF1()).setBaselineAccuracy(s.baseline().accuracy());
    }
    return b.build();
  }

  static int pageSize(int requested) {
    if (requested < 0) {
      throw new IllegalArgumentException("page_size: " + requested + " (expected: >= 0)");
    }
    return requested == 0 ? DEFAULT_PAGE : Math.min(requested, MAX_PAGE);
  }

  static int pageToken(String token) {
    if (token.isEmpty()) {
      return 0;
    }
    try {
      int v = Integer.parseInt(token);
      if (v < 0) {
        throw new NumberFormatException();
      }
      return v;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("page_token: not a token this server issued");
    }
  }

  static boolean terminal(JobPhase p) {
    return p.terminal();
  }
}
