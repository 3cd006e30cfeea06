package dev.protorad.training;

import static java.util.Objects.requireNonNull;

import dev.protorad.engine.peft.LoraConfig;
import dev.protorad.engine.peft.TargetModules;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * QLoRA fine-tuning settings.
 *
 * <p>Defaults follow the QLoRA paper (Dettmers et al. 2023: LoRA on every linear projection, paged
 * AdamW, max gradient norm 0.3, dropout 0.05–0.1) scaled to small bases: rank 16 with alpha 32
 * (scaling 2) instead of r=64/alpha=16, because a 128–256-wide demo base has little room for rank
 * 64 and a short CPU run needs the larger step; learning rate 1e-3 instead of 2e-4 for the same
 * reason; warmup 5% then cosine decay.
 */
public record HyperParameters(
    int rank,
    double alpha,
    double dropout,
    List<String> targetModules,
    double learningRate,
    int epochs,
    int batchSize,
    int gradientAccumulation,
    double warmupRatio,
    double maxGradNorm,
    double weightDecay,
    long seed,
    boolean useRslora,
    int maxSteps,
    double validationSplit,
    int checkpointEvery,
    int maxPromptTokens,
    int validationLimit,
    boolean recompute,
    double augmentation,
    boolean labelVocabularySoftmax) {

  /** The hyper-parameter that says an adapter was trained with a label-vocabulary softmax. */
  public static final String LABEL_SOFTMAX = "label_softmax";

  /** Default rank. */
  public static final int DEFAULT_RANK = 16;

  /** Default alpha. */
  public static final double DEFAULT_ALPHA = 32;

  /** Default LoRA dropout. */
  public static final double DEFAULT_DROPOUT = 0.05;

  /** Default peak learning rate. */
  public static final double DEFAULT_LEARNING_RATE = 1e-3;

  /** Default global gradient-norm cap (QLoRA paper). */
  public static final double DEFAULT_MAX_GRAD_NORM = 0.3;

  /**
   * Default prompt tokens kept per training example. Serving scores whole prompts, so training
   * keeps them whole too where it can: every note {@code dataset synth} writes fits (at most 319).
   */
  public static final int DEFAULT_MAX_PROMPT_TOKENS = 384;

  /** The defaults. */
  public static final HyperParameters DEFAULTS =
      new HyperParameters(
          DEFAULT_RANK,
          DEFAULT_ALPHA,
          DEFAULT_DROPOUT,
          List.of(TargetModules.ALL_LINEAR),
          DEFAULT_LEARNING_RATE,
          1,
          8,
          1,
          0.05,
          DEFAULT_MAX_GRAD_NORM,
          0.0,
          42,
          false,
          0,
          0.1,
          0,
          DEFAULT_MAX_PROMPT_TOKENS,
          100,
          false,
          0.0,
          false);

  /** Checks every field, naming it and its expected range. */
  public HyperParameters {
    within("rank", rank, 1, 256);
    if (!(alpha > 0 && alpha <= 4096)) {
      throw new IllegalArgumentException("alpha: " + alpha + " (expected: (0, 4096])");
    }
    if (!(dropout >= 0 && dropout < 1)) {
      throw new IllegalArgumentException("dropout: " + dropout + " (expected: [0, 1))");
    }
    targetModules = List.copyOf(requireNonNull(targetModules, "targetModules"));
    if (targetModules.isEmpty()) {
      throw new IllegalArgumentException("target_modules: empty (expected: e.g. all-linear)");
    }
    if (!(learningRate > 0 && learningRate < 1)) {
      throw new IllegalArgumentException("learning_rate: " + learningRate + " (expected: (0, 1))");
    }
    within("epochs", epochs, 1, 100);
    within("batch_size", batchSize, 1, 512);
    within("gradient_accumulation", gradientAccumulation, 1, 1024);
    if (!(warmupRatio >= 0 && warmupRatio <= 0.5)) {
      throw new IllegalArgumentException("warmup_ratio: " + warmupRatio + " (expected: [0, 0.5])");
    }
    if (!(maxGradNorm >= 0 && maxGradNorm <= 1000)) {
      throw new IllegalArgumentException(
          "max_grad_norm: " + maxGradNorm + " (expected: [0, 1000])");
    }
    if (!(weightDecay >= 0 && weightDecay < 1)) {
      throw new IllegalArgumentException("weight_decay: " + weightDecay + " (expected: [0, 1))");
    }
    within("max_steps", maxSteps, 0, 10_000_000);
    if (!(validationSplit >= 0 && validationSplit <= 0.5)) {
      throw new IllegalArgumentException(
          "validation_split: " + validationSplit + " (expected: [0, 0.5])");
    }
    within("checkpoint_every", checkpointEvery, 0, 10_000_000);
    within("max_prompt_tokens", maxPromptTokens, 16, 32_768);
    within("validation_limit", validationLimit, 1, 1_000_000);
    if (!(augmentation >= 0 && augmentation <= 1)) {
      throw new IllegalArgumentException("augmentation: " + augmentation + " (expected: [0, 1])");
    }
  }

  /** A builder starting from {@link #DEFAULTS}. */
  public static Builder builder() {
    return new Builder(DEFAULTS);
  }

  /** A builder starting from these values. */
  public Builder toBuilder() {
    return new Builder(this);
  }

  /** The PEFT configuration these settings train. */
  public LoraConfig loraConfig(String baseModelName) {
    return LoraConfig.of(rank, alpha, targets())
        .withRslora(useRslora)
        .withDropout(dropout)
        .withBaseModel(baseModelName);
  }

  /** The target modules; a single entry not ending in {@code _proj} is parsed as an expression. */
  private TargetModules targets() {
    return targetModules.size() == 1 && !targetModules.get(0).endsWith("_proj")
        ? TargetModules.parse(targetModules.get(0))
        : TargetModules.of(targetModules);
  }

  /** The settings as text, for adapter metadata. */
  public Map<String, String> asMap() {
    Map<String, String> m = new LinkedHashMap<>();
    m.put("rank", Integer.toString(rank));
    m.put("alpha", fmt(alpha));
    m.put("dropout", fmt(dropout));
    m.put("target_modules", String.join(",", targetModules));
    m.put("learning_rate", fmt(learningRate));
    m.put("epochs", Integer.toString(epochs));
    m.put("batch_size", Integer.toString(batchSize));
    m.put("gradient_accumulation", Integer.toString(gradientAccumulation));
    m.put("warmup_ratio", fmt(warmupRatio));
    m.put("max_grad_norm", fmt(maxGradNorm));
    m.put("weight_decay", fmt(weightDecay));
    m.put("seed", Long.toString(seed));
    m.put("use_rslora", Boolean.toString(useRslora));
    m.put("max_steps", Integer.toString(maxSteps));
    m.put("schedule", "linear warmup + cosine decay to 0");
    m.put("optimizer", "AdamW (decoupled weight decay)");
    m.put("max_prompt_tokens", Integer.toString(maxPromptTokens));
    if (augmentation > 0) {
      m.put("augmentation", fmt(augmentation));
    }
    if (labelVocabularySoftmax) {
      m.put(LABEL_SOFTMAX, "label-vocabulary");
    }
    return m;
  }

  static String fmt(double d) {
    return String.format(Locale.ROOT, "%s", d);
  }

  private static void within(String name, int value, int min, int max) {
    if (value < min || value > max) {
      throw new IllegalArgumentException(
          name + ": " + value + " (expected: " + min + ".." + max + ")");
    }
  }

  /** Builds {@link HyperParameters}; unset fields keep their defaults. */
  public static final class Builder {
    private int rank;
    private double alpha;
    private double dropout;
    private List<String> targetModules;
    private double learningRate;
    private int epochs;
    private int batchSize;
    private int gradientAccumulation;
    private double warmupRatio;
    private double maxGradNorm;
    private double weightDecay;
    private long seed;
    private boolean useRslora;
    private int maxSteps;
    private double validationSplit;
    private int checkpointEvery;
    private int maxPromptTokens;
    private int validationLimit;
    private boolean recompute;
    private double augmentation;
    private boolean labelVocabularySoftmax;

    private Builder(HyperParameters h) {
      rank = h.rank;
      alpha = h.alpha;
      dropout = h.dropout;
      targetModules = h.targetModules;
      learningRate = h.learningRate;
      epochs = h.epochs;
      batchSize = h.batchSize;
      gradientAccumulation = h.gradientAccumulation;
      warmupRatio = h.warmupRatio;
      maxGradNorm = h.maxGradNorm;
      weightDecay = h.weightDecay;
      seed = h.seed;
      useRslora = h.useRslora;
      maxSteps = h.maxSteps;
      validationSplit = h.validationSplit;
      checkpointEvery = h.checkpointEvery;
      maxPromptTokens = h.maxPromptTokens;
      validationLimit = h.validationLimit;
      recompute = h.recompute;
      augmentation = h.augmentation;
      labelVocabularySoftmax = h.labelVocabularySoftmax;
    }

    /** LoRA rank. */
    public Builder rank(int v) {
      rank = v;
      return this;
    }

    /** LoRA alpha. */
    public Builder alpha(double v) {
      alpha = v;
      return this;
    }

    /** LoRA dropout. */
    public Builder dropout(double v) {
      dropout = v;
      return this;
    }

    /** Target modules: projection names or one PEFT expression such as {@code all-linear}. */
    public Builder targetModules(List<String> v) {
      targetModules = requireNonNull(v, "targetModules");
      return this;
    }

    /** Peak learning rate. */
    public Builder learningRate(double v) {
      learningRate = v;
      return this;
    }

    /** Passes over the training split. */
    public Builder epochs(int v) {
      epochs = v;
      return this;
    }

    /** Examples per micro-batch. */
    public Builder batchSize(int v) {
      batchSize = v;
      return this;
    }

    /** Micro-batches per optimizer step. */
    public Builder gradientAccumulation(int v) {
      gradientAccumulation = v;
      return this;
    }

    /** Share of the steps spent warming up. */
    public Builder warmupRatio(double v) {
      warmupRatio = v;
      return this;
    }

    /** Global gradient-norm cap (0 turns clipping off). */
    public Builder maxGradNorm(double v) {
      maxGradNorm = v;
      return this;
    }

    /** AdamW decoupled weight decay. */
    public Builder weightDecay(double v) {
      weightDecay = v;
      return this;
    }

    /** Seed of initialisation, order and dropout. */
    public Builder seed(long v) {
      seed = v;
      return this;
    }

    /** rsLoRA scaling. */
    public Builder useRslora(boolean v) {
      useRslora = v;
      return this;
    }

    /** Stops after this many optimizer steps (0: run every epoch). */
    public Builder maxSteps(int v) {
      maxSteps = v;
      return this;
    }

    /** Share held out for validation (and as much again for test) without a split field. */
    public Builder validationSplit(double v) {
      validationSplit = v;
      return this;
    }

    /** Writes a checkpoint every this many optimizer steps (0: none). */
    public Builder checkpointEvery(int v) {
      checkpointEvery = v;
      return this;
    }

    /** Longest prompt kept in training (the tail, with the anchor, is kept). */
    public Builder maxPromptTokens(int v) {
      maxPromptTokens = v;
      return this;
    }

    /** Validation examples scored after each epoch. */
    public Builder validationLimit(int v) {
      validationLimit = v;
      return this;
    }

    /**
     * Recompute each layer in the backward pass instead of keeping every layer's activations and
     * dequantized weights (gradient checkpointing; same gradients, one more forward pass). Off by
     * default: worth it for large bases (7B), not for the small ones trained on a CPU.
     */
    public Builder recompute(boolean v) {
      recompute = v;
      return this;
    }

    /**
     * Share of training notes rewritten each epoch by one surface perturbation ({@link
     * NoteAugmenter}: case, punctuation, segment order or letter swaps), drawn anew per epoch from
     * the seed. 0 (the default) trains on the notes as written.
     */
    public Builder augmentation(double v) {
      augmentation = v;
      return this;
    }

    /**
     * Train the label tokens with a softmax over the catalog labels' tokens only (the label
     * vocabulary, recorded with the version and used when it scores) instead of over the whole
     * vocabulary: the LM head then runs over a few hundred rows, not 32,000, in training and in
     * serving alike. Off by default.
     */
    public Builder labelVocabularySoftmax(boolean v) {
      labelVocabularySoftmax = v;
      return this;
    }

    /** Checks and builds. */
    public HyperParameters build() {
      return new HyperParameters(
          rank,
          alpha,
          dropout,
          targetModules,
          learningRate,
          epochs,
          batchSize,
          gradientAccumulation,
          warmupRatio,
          maxGradNorm,
          weightDecay,
          seed,
          useRslora,
          maxSteps,
          validationSplit,
          checkpointEvery,
          maxPromptTokens,
          validationLimit,
          recompute,
          augmentation,
          labelVocabularySoftmax);
    }
  }
}
