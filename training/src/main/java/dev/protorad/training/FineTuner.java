package dev.protorad.training;

import static java.util.Objects.requireNonNull;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import dev.protorad.clinical.catalog.Catalog;
import dev.protorad.clinical.catalog.Protocol;
import dev.protorad.clinical.gate.ReviewGate;
import dev.protorad.clinical.gate.VersionGate;
import dev.protorad.engine.checkpoint.BaseCheckpoint;
import dev.protorad.engine.model.DequantCache;
import dev.protorad.engine.model.EngineSettings;
import dev.protorad.engine.model.LlamaTokenizer;
import dev.protorad.engine.model.PromptTemplate;
import dev.protorad.engine.peft.LabelVocabulary;
import dev.protorad.engine.peft.LoraAdapter;
import dev.protorad.engine.peft.LoraConfig;
import dev.protorad.training.data.Example;
import dev.protorad.training.eval.EvalCurves;
import dev.protorad.training.eval.EvalMetrics;
import dev.protorad.training.eval.EvaluatedNote;
import dev.protorad.training.eval.Metrics;
import dev.protorad.training.eval.TfidfLogisticBaseline;
import dev.protorad.training.lm.AdamW;
import dev.protorad.training.lm.Batch;
import dev.protorad.training.lm.GradMode;
import dev.protorad.training.lm.LearningRateSchedule;
import dev.protorad.training.lm.TrainableLlama;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.CancellationException;
import java.util.function.BooleanSupplier;
import org.jspecify.annotations.Nullable;

/**
 * QLoRA fine-tuning over a shared NF4 base: the base stays frozen (dequantized once for the run),
 * the LoRA factors start as PEFT initializes them and are trained with AdamW, warmup + cosine
 * decay, gradient accumulation and global-norm clipping; the loss covers only the label tokens
 * (label name + {@code </s>}) after the prompt, tokenized exactly as the engine's {@code
 * LabelScorer} scores them.
 *
 * <p>One run at a time per process: PyTorch through DJL allows a single gradient collector.
 */
public final class FineTuner {

  /** Receives progress; called on the training thread. */
  public interface Listener {
    /** The run entered {@code phase}. */
    void phase(JobPhase phase, String message);

    /** An optimizer step finished. */
    void step(StepProgress progress);

    /** An evaluation finished. */
    void evaluated(int epoch, EvalSummary summary);
  }

  /**
   * After one optimizer step.
   *
   * @param step steps done
   * @param totalSteps steps planned
   * @param epoch current epoch, from 1
   * @param loss mean label-token loss of the step
   * @param learningRate rate applied
   * @param tokensPerSecond training tokens per second so far
   * @param etaSeconds seconds left, estimated from the rate so far
   */
  public record StepProgress(
      int step,
      int totalSteps,
      int epoch,
      double loss,
      double learningRate,
      double tokensPerSecond,
      double etaSeconds) {}

  /**
   * What a run produced.
   *
   * @param adapter the trained adapter
   * @param losses the loss of every optimizer step
   * @param validation the last validation evaluation, if any
   * @param test the test evaluation, if any
   * @param curves what the pictures of the last evaluation (test, else validation) and of the loss
   *     are drawn from; without a review gate's operating point, which is fitted afterwards
   */
  public record Result(
      LoraAdapter adapter,
      List<Double> losses,
      @Nullable EvalSummary validation,
      @Nullable EvalSummary test,
      EvalCurves curves) {}

  /**
   * The examples of a run.
   *
   * @param train trained on
   * @param validation evaluated after each epoch (at most {@link HyperParameters#validationLimit})
   * @param test evaluated once at the end (may be empty)
   */
  public record Splits(List<Example> train, List<Example> validation, List<Example> test) {
    /** Copies the lists. */
    public Splits {
      train = List.copyOf(train);
      validation = List.copyOf(validation);
      test = List.copyOf(test);
      if (train.isEmpty()) {
        throw new IllegalArgumentException("train: empty (expected: at least one example)");
      }
    }
  }

  /** Gives the NF4 base in Java arrays when a run starts. */
  @FunctionalInterface
  public interface BaseSource {
    /** The base to train over; a run drops it once its model holds the base on the device. */
    BaseCheckpoint load() throws IOException;
  }

  private final BaseSource base;
  private final LlamaTokenizer tokenizer;
  private final Catalog catalog;
  private final PromptTemplate template;
  private final @Nullable Evaluator evaluator;
  private final int[] anchorTokens;

  private FineTuner(
      BaseSource base,
      LlamaTokenizer tokenizer,
      Catalog catalog,
      PromptTemplate template,
      @Nullable Evaluator evaluator) {
    this.base = base;
    this.tokenizer = tokenizer;
    this.catalog = catalog;
    this.template = template;
    this.evaluator = evaluator;
    this.anchorTokens = tokenizer.encode(template.anchor());
  }

  /**
   * A fine-tuner over {@code base}.
   *
   * @param evaluator scores validation and test examples; null skips evaluation
   */
  public static FineTuner create(
      BaseCheckpoint base,
      LlamaTokenizer tokenizer,
      Catalog catalog,
      PromptTemplate template,
      @Nullable Evaluator evaluator) {
    requireNonNull(base, "base");
    return create(() -> base, tokenizer, catalog, template, evaluator);
  }

  /**
   * A fine-tuner that loads its base from {@code base} at the start of each run and drops it as
   * soon as the run's model holds it on the device, so a serving process, whose model holds the
   * base only on the device, keeps no Java copy of it while it trains or between runs.
   *
   * @param evaluator scores validation and test examples; null skips evaluation
   */
  public static FineTuner create(
      BaseSource base,
      LlamaTokenizer tokenizer,
      Catalog catalog,
      PromptTemplate template,
      @Nullable Evaluator evaluator) {
    return new FineTuner(
        requireNonNull(base, "base"),
        requireNonNull(tokenizer, "tokenizer"),
        requireNonNull(catalog, "catalog"),
        requireNonNull(template, "template"),
        evaluator);
  }

  /** Whether {@link #fitGate} would fit a gate: an evaluator, train and validation notes. */
  public boolean canFitGate(Splits splits) {
    requireNonNull(splits, "splits");
    return evaluator != null && !splits.train().isEmpty() && !splits.validation().isEmpty();
  }

  /** Calibration notes scored at most when a job fits its review gate. */
  public static final int MAX_CALIBRATION = 2_000;

  /**
   * Fits the review gate of a freshly trained adapter: the lexical model on the train split, the
   * gate ({@link ReviewGate#DEFAULT_TARGET_PRECISION}) on the first {@link #MAX_CALIBRATION} notes
   * of the validation split, which training never saw. Empty without an evaluator or either split:
   * the version then uses the server's review threshold.
   */
  public Optional<VersionGate> fitGate(
      Splits splits, LoraAdapter adapter, long seed, BooleanSupplier cancelled) {
    requireNonNull(adapter, "adapter");
    Evaluator scorer = evaluator;
    if (scorer == null || !canFitGate(splits)) {
      return Optional.empty();
    }
    List<Example> calibration =
        splits.validation().subList(0, Math.min(MAX_CALIBRATION, splits.validation().size()));
    return Optional.of(
        GatedEvaluation.of(catalog)
            .fit(
                scorer,
                adapter,
                splits.train(),
                calibration,
                seed,
                ReviewGate.DEFAULT_TARGET_PRECISION,
                cancelled,
                done -> {}));
  }

  /** The prompt template labels are trained after. */
  public PromptTemplate template() {
    return template;
  }

  /**
   * Trains an adapter.
   *
   * @param checkpoints where periodic checkpoints go ({@code step-N/}), or null for none
   * @param cancelled polled between micro-batches; when true the run stops with a {@link
   *     CancellationException}
   */
  public Result run(
      Splits splits,
      HyperParameters hp,
      Listener listener,
      BooleanSupplier cancelled,
      @Nullable Path checkpoints)
      throws IOException {
    return run(splits, hp, null, listener, cancelled, checkpoints);
  }

  /**
   * Trains an adapter, starting from {@code parent}'s LoRA factors instead of fresh ones when it is
   * given: the run continues that adapter's training (with its own optimizer state, warmup and
   * decay). The parent must have the rank, alpha and target modules {@code hp} asks for.
   *
   * @param parent the adapter to continue from, or null for fresh factors
   * @throws IllegalArgumentException when {@code parent} does not fit {@code hp} or this base
   */
  public Result run(
      Splits splits,
      HyperParameters hp,
      @Nullable LoraAdapter parent,
      Listener listener,
      BooleanSupplier cancelled,
      @Nullable Path checkpoints)
      throws IOException {
    requireNonNull(splits, "splits");
    requireNonNull(hp, "hp");
    requireNonNull(listener, "listener");
    requireNonNull(cancelled, "cancelled");
    GradMode.off();
    List<Encoded> train = encode(splits.train(), hp.maxPromptTokens());
    BaseCheckpoint base = this.base.load();
    LoraConfig loraConfig = hp.loraConfig("protorad-base:" + base.fingerprint().substring(0, 16));
    LoraAdapter init =
        parent == null
            ? LoraAdapter.create(base.config(), loraConfig, hp.seed())
            : continued(parent, loraConfig, base);
    int stepsPerEpoch = stepsPerEpoch(hp, train.size());
    int total = stepsPerEpoch * hp.epochs();
    if (hp.maxSteps() > 0) {
      total = Math.min(total, hp.maxSteps());
    }
    LearningRateSchedule schedule =
        new LearningRateSchedule(
            hp.learningRate(), (int) Math.round(total * hp.warmupRatio()), total, 0.0);
    TfidfLogisticBaseline baseline =
        evaluator == null ? null : TfidfLogisticBaseline.train(splits.train());
    LabelVocabulary vocabulary = hp.labelVocabularySoftmax() ? labelVocabulary() : null;
    listener.phase(JobPhase.TRAINING, "training " + total + " steps");
    EngineSettings.applyDefaults();
    // LoRA dropout draws from the engine's generator: seeding it makes the run repeatable.
    Engine.getInstance().setRandomSeed((int) hp.seed());
    long loaded = base.memoryReport().totalBytes();
    NDManager manager = NDManager.newBaseManager();
    TrainableLlama model = qlora(base, init, hp, manager);
    // The model holds the base on the device now; the loader's Java copy goes for the whole run.
    base = null;
    TrainableLlama.collectIfLarge(loaded);
    try (manager;
        model;
        AdamW adamW = AdamW.of(model.trainable(), hp.weightDecay(), manager)) {
      Loop loop = new Loop(model, adamW, schedule, hp, total, listener, cancelled, manager);
      loop.checkpoints = checkpoints;
      loop.useVocabulary(vocabulary);
      Evaluated last = null;
      SplittableRandom order = new SplittableRandom(hp.seed() ^ 0x5DEECE66DL);
      for (int epoch = 1; epoch <= hp.epochs() && loop.step < total; epoch++) {
        loop.epoch(augmented(train, splits.train(), hp, epoch), epoch, stepsPerEpoch, order);
        if (evaluator != null && !splits.validation().isEmpty()) {
          LoraAdapter now = model.toAdapter(loraConfig).withLabelVocabulary(vocabulary);
          List<Example> v = limit(splits.validation(), hp.validationLimit());
          last = validate(epoch, now, v, baseline, listener, cancelled);
        }
      }
      LoraAdapter adapter = model.toAdapter(loraConfig).withLabelVocabulary(vocabulary);
      return finish(adapter, splits, hp.epochs(), baseline, listener, cancelled, last, loop.losses);
    }
  }

  private static int stepsPerEpoch(HyperParameters hp, int examples) {
    int microPerEpoch = (examples + hp.batchSize() - 1) / hp.batchSize();
    return Math.max(1, microPerEpoch / hp.gradientAccumulation());
  }

  /** The trainable model over {@code base}, or the manager closed when it cannot be built. */
  private static TrainableLlama qlora(
      BaseCheckpoint base, LoraAdapter init, HyperParameters hp, NDManager manager) {
    try {
      return TrainableLlama.qlora(
          base, init, TrainableLlama.MemoryOptions.of(DequantCache.AUTO, hp.recompute()), manager);
    } catch (RuntimeException | Error e) {
      manager.close();
      throw e;
    }
  }

  private Evaluated validate(
      int epoch,
      LoraAdapter now,
      List<Example> validation,
      @Nullable TfidfLogisticBaseline baseline,
      Listener listener,
      BooleanSupplier cancelled) {
    listener.phase(JobPhase.EVALUATING, "validation after epoch " + epoch);
    Evaluated e = evaluate("validation", now, validation, baseline, cancelled);
    listener.evaluated(epoch, e.summary());
    listener.phase(JobPhase.TRAINING, "epoch " + epoch + " done");
    return e;
  }

  /**
   * The run's result: the test split evaluated when there is one, and the curves of the last
   * evaluation (test, else the last validation) with the loss of every step.
   */
  private Result finish(
      LoraAdapter adapter,
      Splits splits,
      int epochs,
      @Nullable TfidfLogisticBaseline baseline,
      Listener listener,
      BooleanSupplier cancelled,
      @Nullable Evaluated validated,
      List<Double> stepLosses) {
    Evaluated last = validated;
    EvalSummary test = null;
    if (evaluator != null && !splits.test().isEmpty()) {
      listener.phase(JobPhase.EVALUATING, "test");
      last = evaluate("test", adapter, splits.test(), baseline, cancelled);
      test = last.summary();
      listener.evaluated(epochs, test);
    }
    List<Double> losses = List.copyOf(stepLosses);
    EvalCurves curves =
        last == null
            ? EvalCurves.lossOnly(losses)
            : EvalCurves.of(last.summary().split(), last.predictions(), labelIds(), null, losses);
    return new Result(
        adapter, losses, validated == null ? null : validated.summary(), test, curves);
  }

  /** {@code parent}'s factors under the run's config, once it is known to fit. */
  private static LoraAdapter continued(LoraAdapter parent, LoraConfig run, BaseCheckpoint base) {
    if (!parent.base().equals(base.config())) {
      throw new IllegalArgumentException(
          "start_from: the adapter was made for another base model shape");
    }
    requireContinuable(parent.config(), run);
    return parent.withConfig(run);
  }

  /**
   * Checks that training under {@code run} can continue from an adapter made under {@code p}: the
   * same rank, alpha, scaling rule and target modules (dropout and the rest may differ).
   *
   * @throws IllegalArgumentException naming both settings when they differ
   */
  public static void requireContinuable(LoraConfig p, LoraConfig run) {
    if (p.r() != run.r()
        || Double.compare(p.loraAlpha(), run.loraAlpha()) != 0
        || p.useRslora() != run.useRslora()
        || !p.targetModules().equals(run.targetModules())
        || !p.rankPattern().equals(run.rankPattern())
        || !p.alphaPattern().equals(run.alphaPattern())) {
      throw new IllegalArgumentException(
          String.format(
              Locale.ROOT,
              "start_from: the adapter has rank %d, alpha %s, targets %s%s; the run asks rank %d,"
                  + " alpha %s, targets %s%s (expected: the same)",
              p.r(),
              HyperParameters.fmt(p.loraAlpha()),
              p.targetModules(),
              p.useRslora() ? ", rsLoRA" : "",
              run.r(),
              HyperParameters.fmt(run.loraAlpha()),
              run.targetModules(),
              run.useRslora() ? ", rsLoRA" : ""));
    }
  }

  /** An evaluation's figures and the predictions they were computed from. */
  private record Evaluated(EvalSummary summary, List<EvaluatedNote> predictions) {}

  private Evaluated evaluate(
      String split,
      LoraAdapter adapter,
      List<Example> examples,
      @Nullable TfidfLogisticBaseline baseline,
      BooleanSupplier cancelled) {
    List<EvaluatedNote> predictions =
        requireNonNull(evaluator, "evaluator: checked by the caller")
            .predictions(adapter, examples, cancelled);
    EvalMetrics b =
        baseline == null ? null : Metrics.compute(catalog, baseline.evaluate(examples, 3));
    return new Evaluated(
        new EvalSummary(split, Metrics.compute(catalog, predictions), b), predictions);
  }

  private List<String> labelIds() {
    return catalog.protocols().stream().map(Protocol::id).toList();
  }

  private static List<Example> limit(List<Example> examples, int n) {
    return examples.size() <= n ? examples : examples.subList(0, n);
  }

  /** A training example as token ids: the prompt and the label tokens after it. */
  record Encoded(int[] prompt, int[] label) {}

  List<Encoded> encode(List<Example> examples, int maxPromptTokens) {
    List<Encoded> out = new ArrayList<>(examples.size());
    for (Example e : examples) {
      String name = catalog.get(e.label()).name();
      int[] prompt = tokenizer.encode(template.render(e.note()));
      if (prompt.length > maxPromptTokens) {
        // Keep BOS and the tail: the anchor the label follows is at the end of the prompt.
        int[] cut = new int[maxPromptTokens];
        cut[0] = prompt[0];
        System.arraycopy(prompt, prompt.length - maxPromptTokens + 1, cut, 1, maxPromptTokens - 1);
        prompt = cut;
      }
      out.add(new Encoded(prompt, labelTokens(name)));
    }
    return out;
  }

  /**
   * The epoch's training examples: with {@link HyperParameters#augmentation} above 0, that share of
   * the notes rewritten by {@link NoteAugmenter}, drawn from the seed and the epoch.
   */
  List<Encoded> augmented(
      List<Encoded> encoded, List<Example> examples, HyperParameters hp, int epoch) {
    if (hp.augmentation() <= 0) {
      return encoded;
    }
    SplittableRandom random = new SplittableRandom(hp.seed() * 0x9E3779B97F4A7C15L + epoch);
    List<Encoded> out = new ArrayList<>(encoded.size());
    for (int i = 0; i < encoded.size(); i++) {
      if (random.nextDouble() < hp.augmentation()) {
        Example e = examples.get(i);
        String note = NoteAugmenter.augment(e.note(), random);
        out.add(
            note.isBlank()
                ? encoded.get(i)
                : encode(List.of(new Example(note, e.label())), hp.maxPromptTokens()).get(0));
      } else {
        out.add(encoded.get(i));
      }
    }
    return out;
  }

  /** The tokens of every catalog label, as the engine's scorer takes them. */
  LabelVocabulary labelVocabulary() {
    return LabelVocabulary.covering(
        catalog.protocols().stream().map(p -> labelTokens(p.name())).toList());
  }

  /** The tokens {@code label + suffix} adds after the anchor, as the engine's scorer takes them. */
  int[] labelTokens(String label) {
    int[] full = tokenizer.encode(template.anchor() + label + template.labelSuffix());
    if (full.length <= anchorTokens.length
        || !Arrays.equals(full, 0, anchorTokens.length, anchorTokens, 0, anchorTokens.length)) {
      throw new IllegalStateException("template anchor does not end on a token boundary");
    }
    return Arrays.copyOfRange(full, anchorTokens.length, full.length);
  }

  /** The mutable state of one run's optimization loop. */
  private static final class Loop {
    final TrainableLlama model;
    final AdamW adamW;
    final LearningRateSchedule schedule;
    final HyperParameters hp;
    final int total;
    final Listener listener;
    final BooleanSupplier cancelled;
    final NDManager manager;
    final List<Double> losses = new ArrayList<>();
    final long start = System.nanoTime();
    @Nullable Path checkpoints;
    @Nullable LabelVocabulary vocabulary;
    long @Nullable [] vocabularyTokens;
    int step;
    long tokens;

    Loop(
        TrainableLlama model,
        AdamW adamW,
        LearningRateSchedule schedule,
        HyperParameters hp,
        int total,
        Listener listener,
        BooleanSupplier cancelled,
        NDManager manager) {
      this.model = model;
      this.adamW = adamW;
      this.schedule = schedule;
      this.hp = hp;
      this.total = total;
      this.listener = listener;
      this.cancelled = cancelled;
      this.manager = manager;
    }

    /** Trains the label tokens against {@code v}'s tokens only (null: the whole vocabulary). */
    void useVocabulary(@Nullable LabelVocabulary v) {
      vocabulary = v;
      vocabularyTokens = v == null ? null : Arrays.stream(v.tokens()).asLongStream().toArray();
    }

    void epoch(List<Encoded> train, int epoch, int stepsPerEpoch, SplittableRandom order) {
      int[] idx = shuffled(train.size(), order);
      int cursor = 0;
      for (int s = 0; s < stepsPerEpoch && step < total; s++) {
        double loss = 0;
        for (int a = 0; a < hp.gradientAccumulation(); a++) {
          if (cancelled.getAsBoolean()) {
            throw new CancellationException("cancelled");
          }
          List<int[]> prompts = new ArrayList<>();
          List<int[]> labels = new ArrayList<>();
          for (int i = 0; i < hp.batchSize() && cursor < idx.length; i++) {
            Encoded e = train.get(idx[cursor++]);
            prompts.add(e.prompt());
            labels.add(e.label());
          }
          if (prompts.isEmpty()) {
            break;
          }
          loss += microStep(Batch.labelsOnly(prompts, labels)) / hp.gradientAccumulation();
        }
        double lr = schedule.at(step);
        adamW.step(lr, hp.maxGradNorm());
        step++;
        losses.add(loss);
        report(epoch, loss, lr);
      }
    }

    private double microStep(Batch b) {
      tokens += Arrays.stream(b.tokens()).mapToLong(r -> r.length).sum();
      try (NDManager scope = manager.newSubManager();
          NDScope arrays = new NDScope()) {
        arrays.suppressNotUsedWarning();
        float scale = 1f / hp.gradientAccumulation();
        LabelVocabulary v = vocabulary;
        long[] targets = b.targets();
        if (v != null) {
          // A softmax over the label vocabulary: targets become places in it.
          targets = targets.clone();
          for (int i = 0; i < targets.length; i++) {
            targets[i] = v.indexOf((int) targets[i]);
          }
        }
        return model.backward(
            b.tokens(), b.positions(), targets, b.lengths(), vocabularyTokens, true, scale, scope);
      }
    }

    private void report(int epoch, double loss, double lr) {
      double seconds = Math.max(1e-9, (System.nanoTime() - start) / 1e9);
      double eta = seconds / step * (total - step);
      listener.step(new StepProgress(step, total, epoch, loss, lr, tokens / seconds, eta));
      checkpointIfDue();
    }

    /** Writes the adapter under {@code checkpoints} every {@code checkpointEvery} steps. */
    private void checkpointIfDue() {
      if (checkpoints != null && hp.checkpointEvery() > 0 && step % hp.checkpointEvery() == 0) {
        try {
          model.toAdapter(hp.loraConfig("")).write(checkpoints.resolve("step-" + step));
        } catch (IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
      }
    }

    private static int[] shuffled(int n, SplittableRandom random) {
      int[] order = new int[n];
      for (int i = 0; i < n; i++) {
        order[i] = i;
      }
      for (int i = n - 1; i > 0; i--) {
        int j = random.nextInt(i + 1);
        int t = order[i];
        order[i] = order[j];
        order[j] = t;
      }
      return order;
    }
  }
}
