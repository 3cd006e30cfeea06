package dev.protorad.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.protorad.api.v1.HyperParameters;
import dev.protorad.api.v1.JobPhase;
import dev.protorad.api.v1.StartFineTuneRequest;
import dev.protorad.api.v1.UploadDatasetResponse;
import dev.protorad.client.ProtoradException;
import dev.protorad.clinical.catalog.Catalog;
import dev.protorad.engine.model.BaseModel;
import dev.protorad.engine.model.PromptTemplate;
import dev.protorad.server.adapters.AdapterRef;
import dev.protorad.server.adapters.AdapterStore;
import dev.protorad.server.jobs.FineTuneEvent;
import dev.protorad.server.jobs.FineTuneJob;
import dev.protorad.server.jobs.FineTuneJobs;
import dev.protorad.server.jobs.FineTuneRequest;
import dev.protorad.training.EvalSummary;
import dev.protorad.training.Evaluator;
import dev.protorad.training.FineTuner;
import dev.protorad.training.eval.EvalCharts;
import dev.protorad.training.eval.EvalReport;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code protorad train --data FILE --adapter NAME}: fine-tunes an adapter on a running server
 * through the client SDK, with a live progress line; {@code --local BASE_DIR} runs the same job in
 * this process instead (used to build the demo adapter).
 */
@Command(
    name = "train",
    mixinStandardHelpOptions = true,
    description = "Fine-tune a LoRA adapter (QLoRA) on a JSONL dataset and register it.")
public final class TrainCommand implements Callable<Integer> {

  private static final ObjectMapper JSON = new ObjectMapper();

  @Spec CommandSpec spec;

  @Option(names = "--data", required = true, description = "JSONL dataset (note, label, split).")
  Path data;

  @Option(names = "--adapter", required = true, description = "Adapter name to register under.")
  String adapter;

  @Mixin ClientConnection connection = new ClientConnection();

  @Option(names = "--local", description = "Train in this process over this base directory.")
  Path local;

  @Option(names = "--adapters-dir", description = "Adapter store for --local.")
  Path adaptersDir;

  @Option(
      names = "--loss-curve",
      paramLabel = "FILE",
      description = "With --local: draw the training loss against the step into this PNG file.")
  Path lossCurve;

  @Option(names = "--report", description = "With --local: write the evaluation table here.")
  Path report;

  @Option(names = "--train-limit", defaultValue = "0", description = "Use at most N train lines.")
  int trainLimit;

  @Option(names = "--test-limit", defaultValue = "0", description = "Use at most N test lines.")
  int testLimit;

  @Option(
      names = "--rank",
      defaultValue = "16",
      description = "LoRA rank r (default: ${DEFAULT-VALUE}).")
  int rank;

  @Option(
      names = "--alpha",
      defaultValue = "32",
      description = "LoRA alpha; the delta is scaled by alpha / r (default: ${DEFAULT-VALUE}).")
  double alpha;

  @Option(
      names = "--dropout",
      defaultValue = "0.05",
      description = "LoRA dropout on the adapter input (default: ${DEFAULT-VALUE}).")
  double dropout;

  @Option(
      names = "--target-modules",
      split = ",",
      defaultValue = "all-linear",
      description =
          "Projections to adapt: all-linear, or a list such as q_proj,v_proj (default: ${DEFAULT-VALUE}).")
  List<String> targets;

  @Option(
      names = "--lr",
      defaultValue = "1e-3",
      description = "Peak learning rate, AdamW (default: ${DEFAULT-VALUE}).")
  double learningRate;

  @Option(
      names = "--epochs",
      defaultValue = "1",
      description = "Passes over the training split (default: ${DEFAULT-VALUE}).")
  int epochs;

  @Option(
      names = "--batch-size",
      defaultValue = "8",
      description = "Examples per micro-batch (default: ${DEFAULT-VALUE}).")
  int batchSize;

  @Option(
      names = "--grad-accum",
      defaultValue = "1",
      description = "Micro-batches per optimizer step (default: ${DEFAULT-VALUE}).")
  int gradientAccumulation;

  @Option(
      names = "--warmup-ratio",
      defaultValue = "0.05",
      description =
          "Share of steps with linear warmup before cosine decay (default: ${DEFAULT-VALUE}).")
  double warmupRatio;

  @Option(
      names = "--max-grad-norm",
      defaultValue = "0.3",
      description = "Global gradient-norm clip; 0 turns clipping off (default: ${DEFAULT-VALUE}).")
  double maxGradNorm;

  @Option(
      names = "--weight-decay",
      defaultValue = "0",
      description = "Decoupled weight decay (default: ${DEFAULT-VALUE}).")
  double weightDecay;

  @Option(
      names = "--seed",
      defaultValue = "42",
      description =
          "Seed for initialisation, order and dropout; the same seed repeats a run (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(
      names = "--max-steps",
      defaultValue = "0",
      description =
          "Stop after N optimizer steps; 0 = run every epoch (default: ${DEFAULT-VALUE}).")
  int maxSteps;

  @Option(
      names = "--validation-split",
      defaultValue = "0.1",
      description =
          "For lines without a split: share drawn into validation, and the same share into test (default: ${DEFAULT-VALUE}).")
  double validationSplit;

  @Option(
      names = "--validation-limit",
      defaultValue = "100",
      description = "Validation lines evaluated after each epoch (default: ${DEFAULT-VALUE}).")
  int validationLimit;

  @Option(
      names = "--checkpoint-every",
      defaultValue = "0",
      description = "Write a PEFT checkpoint every N steps; 0 = none (default: ${DEFAULT-VALUE}).")
  int checkpointEvery;

  @Option(
      names = "--max-prompt-tokens",
      defaultValue = "384",
      description =
          "Prompt tokens kept per training example; a longer prompt keeps its first token and its"
              + " tail. Serving scores whole prompts, so cover the notes (default: ${DEFAULT-VALUE}).")
  int maxPromptTokens;

  @Option(
      names = "--augment",
      defaultValue = "0",
      paramLabel = "SHARE",
      description =
          "Share of training notes (0..1) rewritten each epoch by one surface perturbation: lower"
              + " or upper case, no punctuation, segments reordered, letter swaps; words are never"
              + " dropped (default: ${DEFAULT-VALUE}, the notes as written).")
  double augmentation;

  @Option(
      names = "--label-softmax",
      description =
          "Train the label tokens with a softmax over the catalog labels' tokens only, instead of"
              + " the whole vocabulary (recorded with the version and used when it scores: far"
              + " less work in training and serving).")
  boolean labelVocabularySoftmax;

  @Option(names = "--skip-invalid", description = "Leave invalid lines out (reported).")
  boolean skipInvalid;

  @Option(
      names = "--start-from",
      paramLabel = "REF",
      description =
          "Continue training this adapter version (name@N, name@alias or name) instead of fresh"
              + " LoRA factors; its rank, alpha and targets must match. The new version records it"
              + " as its parent.")
  String startFrom;

  @Option(
      names = "--recompute",
      description =
          "With --local: recompute each layer in the backward pass instead of keeping every"
              + " layer's activations and dequantized weights (same gradients, slower; for large"
              + " bases such as 7B). Off by default.")
  boolean recompute;

  @Option(
      names = "--template",
      paramLabel = "VERSION",
      description =
          "With --local: the prompt template to train with and record (v1, v2; default: v2, which"
              + " lower-cases shouted notes). v1 reproduces versions trained before v2.")
  String template;

  @Override
  public Integer call() throws Exception {
    checkLocalOnlyOptions();
    PromptTemplate prompting = prompting();
    List<String> lines = limited(Files.readAllLines(data, StandardCharsets.UTF_8));
    return local != null ? runLocal(lines, prompting) : runRemote(lines);
  }

  private void checkLocalOnlyOptions() {
    if (recompute && local == null) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--recompute needs --local");
    }
    if (template != null && local == null) {
      throw new CommandLine.ParameterException(
          spec.commandLine(), "--template needs --local (a server trains with its default, v2)");
    }
  }

  private PromptTemplate prompting() {
    try {
      return PromptTemplate.select(template, null, false);
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--template: " + e.getMessage());
    }
  }

  private List<String> limited(List<String> lines) throws IOException {
    Map<String, Integer> seen = new HashMap<>();
    List<String> out = new ArrayList<>();
    for (String line : lines) {
      if (line.isBlank()) {
        continue;
      }
      String split = JSON.readTree(line).path("split").asText("train");
      int limit = split.equals("train") ? trainLimit : split.equals("test") ? testLimit : 0;
      int n = seen.merge(split, 1, Integer::sum);
      if (limit == 0 || n <= limit) {
        out.add(line);
      }
    }
    return out;
  }

  private dev.protorad.training.HyperParameters hyperParameters() {
    return dev.protorad.training.HyperParameters.builder()
        .rank(rank)
        .alpha(alpha)
        .dropout(dropout)
        .targetModules(targets)
        .learningRate(learningRate)
        .epochs(epochs)
        .batchSize(batchSize)
        .gradientAccumulation(gradientAccumulation)
        .warmupRatio(warmupRatio)
        .maxGradNorm(maxGradNorm)
        .weightDecay(weightDecay)
        .seed(seed)
        .maxSteps(maxSteps)
        .validationSplit(validationSplit)
        .validationLimit(validationLimit)
        .checkpointEvery(checkpointEvery)
        .maxPromptTokens(maxPromptTokens)
        .augmentation(augmentation)
        .labelVocabularySoftmax(labelVocabularySoftmax)
        .recompute(recompute)
        .build();
  }

  private int runLocal(List<String> lines, PromptTemplate prompting) throws Exception {
    if (adaptersDir == null) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--local needs --adapters-dir");
    }
    Catalog catalog = Catalog.loadDefault();
    try (BaseModel base = BaseModel.load(local, b -> b.preferGpu(false))) {
      Evaluator evaluator = Evaluator.of(base.model(), base.tokenizer(), catalog, prompting);
      FineTuner tuner =
          FineTuner.create(base::loadCheckpoint, base.tokenizer(), catalog, prompting, evaluator);
      AdapterStore store = AdapterStore.open(adaptersDir, base.config(), base.fingerprint());
      try (FineTuneJobs jobs =
          FineTuneJobs.create(tuner, store, catalog, Clock.systemUTC(), null)) {
        return followLocal(jobs, submitLocal(jobs, lines));
      }
    }
  }

  private FineTuneJob submitLocal(FineTuneJobs jobs, List<String> lines) {
    byte[] jsonl = (String.join("\n", lines) + "\n").getBytes(StandardCharsets.UTF_8);
    try {
      return jobs.submit(
          new FineTuneRequest(
              adapter,
              jsonl,
              hyperParameters(),
              skipInvalid,
              System.getProperty("user.name", "local"),
              startFrom == null ? null : startFromRef()));
    } catch (NoSuchElementException | IllegalArgumentException e) {
      throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
    }
  }

  /** Shows the job's progress until it ends, then its tables and loss curve; 0 when it is done. */
  private int followLocal(FineTuneJobs jobs, FineTuneJob job)
      throws InterruptedException, IOException {
    PrintWriter out = spec.commandLine().getOut();
    CountDownLatch done = new CountDownLatch(1);
    FineTuneEvent[] last = new FineTuneEvent[1];
    List<EvalSummary> evals = new ArrayList<>();
    List<double[]> losses = new ArrayList<>();
    jobs.watch(
        job.jobId(),
        e -> {
          last[0] = e;
          showLocal(out, e);
          if (e.step() > 0 && Double.isFinite(e.loss())) {
            synchronized (losses) {
              losses.add(new double[] {e.step(), e.loss()});
            }
          }
          if (e.metrics() != null) evals.add(e.metrics());
          if (e.phase().terminal()) done.countDown();
        });
    done.await();
    out.println();
    writeResults(out, evals, losses);
    return last[0].phase() == dev.protorad.training.JobPhase.DONE ? 0 : 1;
  }

  /** The evaluation tables (the test one also to --report) and the loss curve (--loss-curve). */
  private void writeResults(PrintWriter out, List<EvalSummary> evals, List<double[]> losses)
      throws IOException {
    for (EvalSummary s : evals) {
      String table = table(s);
      out.println(table);
      if (report != null && s.split().equals("test")) {
        Files.writeString(report, table);
      }
    }
    if (lossCurve != null && !losses.isEmpty()) {
      EvalCharts.lossCurve(losses, "Training loss (" + adapter + ")", lossCurve);
      out.println("loss curve written to " + lossCurve);
    }
    out.flush();
  }

  private AdapterRef startFromRef() {
    try {
      return AdapterRef.parse(startFrom);
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(
          spec.commandLine(), "--start-from: " + e.getMessage());
    }
  }

  static String table(EvalSummary s) {
    EvalReport.Builder b = EvalReport.builder(s.split() + " split").column("adapter", s.adapter());
    if (s.baseline() != null) {
      b.column("tfidf+lr", s.baseline());
    }
    return b.build().render();
  }

  /** One line per evaluation: the adapter's figures, and the baseline's where it ran. */
  static String summary(EvalSummary s) {
    String line =
        String.format(
            java.util.Locale.ROOT,
            "%s n=%d accuracy %.3f top-3 %.3f macro-F1 %.3f",
            s.split(),
            s.adapter().count(),
            s.adapter().accuracy(),
            s.adapter().top3Accuracy(),
            s.adapter().macroF1());
    return s.baseline() == null
        ? line
        : line
            + String.format(
                java.util.Locale.ROOT,
                " (tfidf+lr: accuracy %.3f macro-F1 %.3f)",
                s.baseline().accuracy(),
                s.baseline().macroF1());
  }

  private static void showLocal(PrintWriter out, FineTuneEvent e) {
    if (e.message().equals("step")) {
      out.print(
          "\r"
              + ProgressLine.render(
                  e.step(),
                  e.totalSteps(),
                  e.epoch(),
                  e.loss(),
                  e.learningRate(),
                  e.tokensPerSecond(),
                  e.etaSeconds()));
    } else {
      out.println();
      out.print(
          e.phase().name().toLowerCase(java.util.Locale.ROOT)
              + ": "
              + e.message()
              + (e.metrics() == null ? "" : " " + summary(e.metrics()))
              + (e.error().isEmpty() ? "" : " " + e.error())
              + (e.adapterVersion().isEmpty() ? "" : " " + e.adapterVersion()));
    }
    out.flush();
  }

  /**
   * Uploads the dataset (in chunks, each line's split kept) and starts the job on it: a dataset of
   * any size, where inline examples would be bound by gRPC's message limit.
   */
  private int runRemote(List<String> lines) throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    byte[] jsonl = (String.join("\n", lines) + "\n").getBytes(StandardCharsets.UTF_8);
    try {
      dev.protorad.api.v1.FineTuneEvent last =
          connection.call(
              client -> {
                UploadDatasetResponse stored =
                    client.uploadDataset(new ByteArrayInputStream(jsonl), skipInvalid);
                out.println(uploaded(stored));
                out.flush();
                return client.startFineTune(
                    StartFineTuneRequest.newBuilder()
                        .setAdapterName(adapter)
                        .setDatasetPath(stored.getDatasetPath())
                        .setSkipInvalid(skipInvalid)
                        .setStartFrom(startFrom == null ? "" : startFrom)
                        .setHyperParameters(remoteHyperParameters())
                        .build(),
                    e -> showRemote(out, e));
              });
      out.println();
      out.flush();
      return last.getPhase() == JobPhase.JOB_PHASE_DONE ? 0 : 1;
    } catch (ProtoradException e) {
      spec.commandLine().getErr().println("protorad train: " + e.getMessage());
      return ExitCodes.FAILURE;
    }
  }

  static String uploaded(UploadDatasetResponse r) {
    return String.format(
        java.util.Locale.ROOT,
        "uploaded %d examples (%d train, %d validation, %d test, %d unsplit; %d skipped) as %s",
        r.getExamples(),
        r.getTrain(),
        r.getValidation(),
        r.getTest(),
        r.getUnsplit(),
        r.getSkipped(),
        r.getDatasetPath());
  }

  private HyperParameters remoteHyperParameters() {
    return HyperParameters.newBuilder()
        .setRank(rank)
        .setAlpha((float) alpha)
        .setDropout((float) dropout)
        .addAllTargetModules(targets)
        .setLearningRate((float) learningRate)
        .setEpochs(epochs)
        .setBatchSize(batchSize)
        .setGradientAccumulation(gradientAccumulation)
        .setWarmupRatio((float) warmupRatio)
        .setMaxGradNorm((float) maxGradNorm)
        .setWeightDecay((float) weightDecay)
        .setSeed(seed)
        .setMaxSteps(maxSteps)
        .setValidationSplit((float) validationSplit)
        .setCheckpointEvery(checkpointEvery)
        .setMaxPromptTokens(maxPromptTokens)
        .setAugmentation((float) augmentation)
        .setLabelVocabularySoftmax(labelVocabularySoftmax)
        .build();
  }

  private static void showRemote(PrintWriter out, dev.protorad.api.v1.FineTuneEvent e) {
    if (e.getMessage().equals("step")) {
      out.print("\r" + ProgressLine.render(e));
    } else {
      out.println();
      out.print(phaseLine(e));
    }
    out.flush();
  }

  /** A remote job's phase change: the phase, its message, metrics, error and version if any. */
  private static String phaseLine(dev.protorad.api.v1.FineTuneEvent e) {
    return e.getPhase().name().replace("JOB_PHASE_", "").toLowerCase(java.util.Locale.ROOT)
        + ": "
        + e.getMessage()
        + (e.hasMetrics()
            ? String.format(
                java.util.Locale.ROOT,
                " accuracy %.3f macro-F1 %.3f (baseline %.3f)",
                e.getMetrics().getAccuracy(),
                e.getMetrics().getMacroF1(),
                e.getMetrics().getBaselineMacroF1())
            : "")
        + (e.getError().isEmpty() ? "" : " " + e.getError())
        + (e.getAdapterVersion().isEmpty() ? "" : " " + e.getAdapterVersion());
  }
}
