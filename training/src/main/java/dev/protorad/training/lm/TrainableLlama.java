package dev.protorad.training.lm;

import static java.util.Objects.requireNonNull;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.protorad.engine.ModelConfig;
import dev.protorad.engine.checkpoint.BaseCheckpoint;
import dev.protorad.engine.checkpoint.Projection;
import dev.protorad.engine.model.DequantCache;
import dev.protorad.engine.model.LlamaOps;
import dev.protorad.engine.model.Nf4DeviceWeight;
import dev.protorad.engine.peft.LoraAdapter;
import dev.protorad.engine.peft.LoraConfig;
import dev.protorad.engine.peft.LoraPair;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.jspecify.annotations.Nullable;

/**
 * A Llama decoder whose forward pass records gradients: either every weight trainable (pretraining
 * from scratch, FP32) or a frozen base with trainable LoRA factors (QLoRA: the NF4 projections
 * never receive gradients; they are either dequantized once or kept packed on the device and
 * dequantized at each use, see {@link MemoryOptions}).
 *
 * <p>{@link #backward} can recompute each layer instead of keeping the whole autograd graph
 * (gradient checkpointing by hand): a forward pass with gradients off keeps only each layer's
 * input; then, from the top, each layer runs again under its own gradient collector with its input
 * as a leaf, the upstream gradient is propagated through it ({@code backward(sum(out *
 * upstream))}), and the input's gradient becomes the next upstream. Only one layer's activations
 * and dequantized weights are alive at a time, for about one more forward pass of time. LoRA
 * dropout masks drawn by the first pass are kept and replayed, so the gradients equal those of the
 * plain backward.
 *
 * <p>Same arithmetic as the serving decoder ({@code engine.model.DecoderLayer}), from the same
 * operations ({@link LlamaOps}: RMSNorm, rotary embeddings with {@code rotate_half}, SwiGLU's SiLU,
 * the projections and lookups); only the attention's shapes differ, since serving runs under a KV
 * cache with gradients off. Initialisation comes from a seeded {@link SplittableRandom} on the Java
 * side; LoRA dropout masks come from the engine's generator, which the caller seeds ({@code
 * Engine.setRandomSeed}) so a run repeats exactly. A mask built from a Java array and kept by
 * autograd for the backward pass gave NaN gradients now and then in this DJL/PyTorch pair, and
 * every such step was lost.
 */
public final class TrainableLlama implements AutoCloseable {

  private static final float MASKED = -1e9f;
  private static final double INIT_STD = 0.02;

  private final ModelConfig config;
  private final NDManager manager;
  private final NDArray embed;

  /** The output projection: {@link #embed} itself when the embeddings are tied. */
  private final NDArray lmHead;

  private final NDArray finalNorm;
  private final NDArray[] inputNorms;
  private final NDArray[] postNorms;
  private final NDArray @Nullable [][] weights; // dense; null where nf4 holds the projection
  private final Nf4DeviceWeight @Nullable [][] nf4;
  private final @Nullable Lora[][] lora;
  private final boolean recompute;
  private final boolean embedTrainable;
  private final NDArray ropeCos;
  private final NDArray ropeSin;
  private final List<Param> trainable = new ArrayList<>();
  private final double dropoutRate;

  /** One trainable tensor and whether weight decay applies to it. */
  public record Param(String name, NDArray value, boolean decay) {}

  private record Lora(NDArray a, NDArray b, float scaling) {}

  /**
   * How a QLoRA model spends memory.
   *
   * @param dequantize {@link DequantCache#ON}: dequantize every NF4 projection once to FP32 and
   *     keep it (fastest; about 4 bytes per base parameter, ~26 GB at 7B); {@link
   *     DequantCache#OFF}: keep the projections NF4 on the device (about 0.52 bytes per parameter)
   *     and dequantize each one when it is used; {@link DequantCache#AUTO}: ON when the dense
   *     projections take at most {@link #DEQUANTIZE_ONCE_LIMIT_BYTES}, else OFF
   * @param recompute recompute each layer in {@link #backward} instead of keeping every layer's
   *     activations and dequantized weights until the backward pass (one more forward pass of time)
   */
  public record MemoryOptions(DequantCache dequantize, boolean recompute) {

    /** Dense FP32 projections up to this size are dequantized once under AUTO (1 GiB). */
    public static final long DEQUANTIZE_ONCE_LIMIT_BYTES = 1L << 30;

    /** AUTO dequantization, no recompute: the behaviour for small bases. */
    public static final MemoryOptions DEFAULTS = new MemoryOptions(DequantCache.AUTO, false);

    /** Checks the arguments. */
    public MemoryOptions {
      requireNonNull(dequantize, "dequantize");
    }

    /** The options {@code dequantize} and {@code recompute}. */
    public static MemoryOptions of(DequantCache dequantize, boolean recompute) {
      return new MemoryOptions(dequantize, recompute);
    }

    boolean dequantizeOnce(ModelConfig c) {
      return switch (dequantize) {
        case ON -> true;
        case OFF -> false;
        case AUTO -> denseProjectionBytes(c) <= DEQUANTIZE_ONCE_LIMIT_BYTES;
      };
    }

    private static long denseProjectionBytes(ModelConfig c) {
      long perLayer = 0;
      for (Projection p : Projection.values()) {
        perLayer += (long) p.inFeatures(c) * p.outFeatures(c);
      }
      return 4L * perLayer * c.numHiddenLayers();
    }
  }

  private TrainableLlama(
      ModelConfig config,
      NDManager manager,
      double dropout,
      NDArray embed,
      NDArray lmHead,
      NDArray finalNorm,
      NDArray[] inputNorms,
      NDArray[] postNorms,
      NDArray @Nullable [][] weights,
      Nf4DeviceWeight @Nullable [][] nf4,
      @Nullable Lora[][] lora,
      boolean recompute,
      boolean embedTrainable) {
    this.config = config;
    this.manager = manager;
    this.dropoutRate = dropout;
    this.embed = embed;
    this.lmHead = lmHead;
    this.finalNorm = finalNorm;
    this.inputNorms = inputNorms;
    this.postNorms = postNorms;
    this.weights = weights;
    this.nf4 = nf4;
    this.lora = lora;
    this.recompute = recompute;
    this.embedTrainable = embedTrainable;
    NDArray[] rope = ropeTables(config, manager);
    this.ropeCos = rope[0];
    this.ropeSin = rope[1];
  }

  /**
   * A model with every weight random (normal, std 0.02; norms one) and trainable, in {@code
   * manager}.
   */
  public static TrainableLlama fromScratch(ModelConfig config, long seed, NDManager manager) {
    requireNonNull(config, "config");
    requireNonNull(manager, "manager");
    SplittableRandom random = new SplittableRandom(seed);
    int h = config.hiddenSize();
    int layers = config.numHiddenLayers();
    NDArray embed = manager.create(gaussian(random, (long) config.vocabSize() * h, INIT_STD));
    embed = embed.reshape(config.vocabSize(), h);
    NDArray finalNorm = manager.ones(new Shape(h));
    NDArray[] inputNorms = new NDArray[layers];
    NDArray[] postNorms = new NDArray[layers];
    NDArray[][] weights = new NDArray[layers][Projection.values().length];
    double outStd = INIT_STD / Math.sqrt(2.0 * layers);
    for (int l = 0; l < layers; l++) {
      inputNorms[l] = manager.ones(new Shape(h));
      postNorms[l] = manager.ones(new Shape(h));
      for (Projection p : Projection.values()) {
        int in = p.inFeatures(config);
        int out = p.outFeatures(config);
        double std = p == Projection.O_PROJ || p == Projection.DOWN_PROJ ? outStd : INIT_STD;
        weights[l][p.ordinal()] =
            manager.create(gaussian(random, (long) in * out, std)).reshape(out, in);
      }
    }
    TrainableLlama m =
        new TrainableLlama(
            config,
            manager,
            0,
            embed,
            embed,
            finalNorm,
            inputNorms,
            postNorms,
            weights,
            null,
            new Lora[layers][Projection.values().length],
            false,
            true);
    m.train("model.embed_tokens.weight", embed, true);
    m.train("model.norm.weight", finalNorm, false);
    for (int l = 0; l < layers; l++) {
      m.train("model.layers." + l + ".input_layernorm.weight", inputNorms[l], false);
      m.train("model.layers." + l + ".post_attention_layernorm.weight", postNorms[l], false);
      for (Projection p : Projection.values()) {
        m.train(p.weightName(l), weights[l][p.ordinal()], true);
      }
    }
    return m;
  }

  /**
   * A frozen NF4 base with the LoRA factors of {@code init} trainable, with {@link
   * MemoryOptions#DEFAULTS}.
   *
   * @param init the starting adapter, e.g. a fresh PEFT-initialized one
   */
  public static TrainableLlama qlora(BaseCheckpoint base, LoraAdapter init, NDManager manager) {
    return qlora(base, init, MemoryOptions.DEFAULTS, manager);
  }

  /**
   * A frozen NF4 base, held as {@code memory} says, with the LoRA factors of {@code init}
   * trainable.
   *
   * @param init the starting adapter, e.g. a fresh PEFT-initialized one
   */
  public static TrainableLlama qlora(
      BaseCheckpoint base, LoraAdapter init, MemoryOptions memory, NDManager manager) {
    requireNonNull(base, "base");
    requireNonNull(init, "init");
    requireNonNull(memory, "memory");
    requireNonNull(manager, "manager");
    ModelConfig c = base.config();
    int layers = c.numHiddenLayers();
    int h = c.hiddenSize();
    boolean dense = memory.dequantizeOnce(c);
    NDArray embed = manager.create(base.embedTokens()).reshape(c.vocabSize(), h);
    // An untied base (Llama-2, Meditron) has its own head; a tied one reads the embeddings.
    NDArray lmHead =
        base.tiedEmbeddings() ? embed : manager.create(base.lmHead()).reshape(c.vocabSize(), h);
    NDArray finalNorm = manager.create(base.finalNorm());
    NDArray[] inputNorms = new NDArray[layers];
    NDArray[] postNorms = new NDArray[layers];
    int n = Projection.values().length;
    NDArray[][] weights = dense ? new NDArray[layers][n] : null;
    Nf4DeviceWeight[][] nf4 = dense ? null : new Nf4DeviceWeight[layers][n];
    Lora[][] lora = new Lora[layers][n];
    for (int l = 0; l < layers; l++) {
      inputNorms[l] = manager.create(base.inputNorm(l));
      postNorms[l] = manager.create(base.postAttentionNorm(l));
      for (Projection p : Projection.values()) {
        var t = base.projection(l, p);
        if (weights != null) {
          weights[l][p.ordinal()] = manager.create(t.dequantize()).reshape(t.rows(), t.cols());
        } else {
          requireNonNull(nf4, "nf4")[l][p.ordinal()] = Nf4DeviceWeight.upload(t, manager);
        }
        LoraPair pair = init.pair(l, p).orElse(null);
        if (pair != null) {
          NDArray a = manager.create(pair.a()).reshape(pair.r(), pair.in());
          NDArray b = manager.create(pair.b()).reshape(pair.out(), pair.r());
          lora[l][p.ordinal()] = new Lora(a, b, pair.scaling());
        }
      }
    }
    TrainableLlama m =
        new TrainableLlama(
            c,
            manager,
            init.config().loraDropout(),
            embed,
            lmHead,
            finalNorm,
            inputNorms,
            postNorms,
            weights,
            nf4,
            lora,
            memory.recompute(),
            false);
    for (int l = 0; l < layers; l++) {
      for (Projection p : Projection.values()) {
        Lora pair = lora[l][p.ordinal()];
        if (pair != null) {
          m.train(LoraAdapter.key(l, p, "A"), pair.a(), true);
          m.train(LoraAdapter.key(l, p, "B"), pair.b(), true);
        }
      }
    }
    return m;
  }

  /**
   * Collects garbage at once when {@code droppedBytes} (a loader's Java copy of a base that a model
   * now holds on the device) reach {@link MemoryOptions#DEQUANTIZE_ONCE_LIMIT_BYTES}: for a 7B base
   * that is about 3.9 GB of heap, which a full collection returns to the system before training
   * starts instead of keeping it for the length of the run. Callers drop their last reference to
   * the base first.
   */
  public static void collectIfLarge(long droppedBytes) {
    if (droppedBytes >= MemoryOptions.DEQUANTIZE_ONCE_LIMIT_BYTES) {
      System.gc();
    }
  }

  /** Whether {@link #backward} recomputes layer by layer. */
  public boolean recomputes() {
    return recompute;
  }

  /** Whether the frozen projections are kept NF4 on the device. */
  public boolean quantizedOnDevice() {
    return nf4 != null;
  }

  /** The architecture. */
  public ModelConfig config() {
    return config;
  }

  /** The tensors that receive gradients, in a fixed order. */
  public List<Param> trainable() {
    return List.copyOf(trainable);
  }

  /** Number of trainable values. */
  public long trainableParameters() {
    return trainable.stream().mapToLong(p -> p.value().size()).sum();
  }

  /** Number of values in the model, frozen and trainable (embeddings counted once when tied). */
  public long totalParameters() {
    long n = embed.size() + finalNorm.size();
    for (int l = 0; l < config.numHiddenLayers(); l++) {
      n += inputNorms[l].size() + postNorms[l].size();
      for (Projection p : Projection.values()) {
        n += (long) p.inFeatures(config) * p.outFeatures(config);
      }
    }
    long loraValues = 0;
    for (Lora[] row : lora) {
      for (Lora x : row) {
        if (x != null) {
          loraValues += x.a().size() + x.b().size();
        }
      }
    }
    return n + loraValues;
  }

  /**
   * Mean negative log-likelihood of {@code targets} (one per marked position) over the full
   * vocabulary, or over {@code vocabSubset} when given (pretraining: a softmax over the tokens the
   * corpus uses, far cheaper than 32,000 columns on a CPU).
   *
   * @param batch token rows padded to one length
   * @param positions flat indices {@code row * length + slot} whose next token is scored
   * @param targets the token expected after each position (an index into {@code vocabSubset} when
   *     it is given)
   * @param lengths real length of each row (null: no padding); padded slots are held at zero
   * @param dropout true to apply LoRA dropout (training); false for evaluation
   */
  public NDArray loss(
      int[][] batch,
      long[] positions,
      long[] targets,
      int @Nullable [] lengths,
      long @Nullable [] vocabSubset,
      boolean dropout,
      NDManager scope) {
    return head(hidden(batch, lengths, dropout, scope), positions, targets, vocabSubset, scope);
  }

  /**
   * Adds to the trainable tensors' gradients the gradient of {@code scale} times {@link #loss},
   * recomputing layer by layer when {@link #recomputes}, and returns the loss. Opens its own
   * gradient collectors: the caller must hold none (one per JVM at a time).
   */
  public float backward(
      int[][] batch,
      long[] positions,
      long[] targets,
      int @Nullable [] lengths,
      long @Nullable [] vocabSubset,
      boolean dropout,
      float scale,
      NDManager scope) {
    if (recompute) {
      return backwardByLayer(
          batch, positions, targets, lengths, vocabSubset, dropout, scale, scope);
    }
    try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
      NDArray loss = loss(batch, positions, targets, lengths, vocabSubset, dropout, scope);
      collector.backward(loss.mul(scale));
      return loss.getFloat();
    }
  }

  /** The logits after every token of {@code tokens} ({@code [t][vocab]}), without dropout. */
  public float[][] logits(int[] tokens) {
    requireNonNull(tokens, "tokens");
    try (NDManager scope = manager.newSubManager();
        ai.djl.ndarray.NDScope arrays = new ai.djl.ndarray.NDScope()) {
      arrays.suppressNotUsedWarning();
      NDArray h = hidden(new int[][] {tokens}, null, false, scope).reshape(tokens.length, -1);
      float[] flat = LlamaOps.linear(h, lmHead).toFloatArray();
      int v = config.vocabSize();
      float[][] out = new float[tokens.length][v];
      for (int i = 0; i < tokens.length; i++) {
        System.arraycopy(flat, i * v, out[i], 0, v);
      }
      return out;
    }
  }

  /** Final-normed hidden states {@code [batch, length, hidden]} of padded {@code batch}. */
  NDArray hidden(int[][] batch, int @Nullable [] lengths, boolean dropout, NDManager scope) {
    Inputs in = inputs(batch, lengths, scope);
    DropoutMasks masks = dropout && dropoutRate > 0 ? new DropoutMasks(null) : null;
    NDArray x = embedded(in);
    for (int l = 0; l < config.numHiddenLayers(); l++) {
      x = layer(l, x, in, masks);
    }
    return LlamaOps.rmsNorm(x, finalNorm, (float) config.rmsNormEps());
  }

  private float backwardByLayer(
      int[][] batch,
      long[] positions,
      long[] targets,
      int @Nullable [] lengths,
      long @Nullable [] vocabSubset,
      boolean dropout,
      float scale,
      NDManager scope) {
    Inputs in = inputs(batch, lengths, scope);
    DropoutMasks masks = dropout && dropoutRate > 0 ? new DropoutMasks(scope) : null;
    int layers = config.numHiddenLayers();
    NDArray[] saved = new NDArray[layers + 1];
    saved[0] = embedded(in);
    for (int l = 0; l < layers; l++) {
      try (NDManager once = scope.newSubManager()) {
        saved[l + 1] = own(scope, layer(l, leaf(saved[l], once, false), in, masks));
      }
    }
    if (masks != null) {
      masks.replay();
    }
    float value;
    NDArray upstream;
    try (NDManager once = scope.newSubManager();
        GradientCollector collector = Engine.getInstance().newGradientCollector()) {
      NDArray x = leaf(saved[layers], once, true);
      NDArray h = LlamaOps.rmsNorm(x, finalNorm, (float) config.rmsNormEps());
      NDArray loss = head(h, positions, targets, vocabSubset, once);
      collector.backward(loss.mul(scale));
      value = loss.getFloat();
      upstream = own(scope, x.getGradient().duplicate());
    }
    saved[layers].close();
    for (int l = layers - 1; l >= 0; l--) {
      boolean inputGradient = l > 0 || embedTrainable;
      try (NDManager once = scope.newSubManager();
          GradientCollector collector = Engine.getInstance().newGradientCollector()) {
        NDArray x = leaf(saved[l], once, inputGradient);
        // null only after the first layer when the embeddings are frozen, and the loop ends there
        NDArray gradient = requireNonNull(upstream, "upstream");
        collector.backward(layer(l, x, in, masks).mul(gradient).sum());
        gradient.close();
        upstream = inputGradient ? own(scope, x.getGradient().duplicate()) : null;
      }
      saved[l].close();
    }
    if (upstream != null) {
      try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
        collector.backward(embedded(in).mul(upstream).sum());
      }
    }
    return value;
  }

  /** The tensors one forward pass shares across layers. */
  private record Inputs(
      NDArray tokens, @Nullable NDArray valid, NDArray mask, NDArray cos, NDArray sin) {}

  private Inputs inputs(int[][] batch, int @Nullable [] lengths, NDManager scope) {
    int b = batch.length;
    int t = batch[0].length;
    long[] flat = new long[b * t];
    for (int i = 0; i < b; i++) {
      for (int j = 0; j < t; j++) {
        flat[i * t + j] = batch[i][j];
      }
    }
    NDArray tokens = scope.create(flat, new Shape(b, t));
    // Padded slots are zeroed after every layer: nothing reads them (right padding, causal
    // attention), but left free they can overflow, and 0 * inf in backward is NaN.
    NDArray valid =
        lengths == null ? null : scope.create(validMask(lengths, t), new Shape(b, t, 1));
    NDArray mask = scope.create(causalMask(t), new Shape(t, t));
    NDArray cos = own(scope, ropeCos.get("0:{}", t));
    NDArray sin = own(scope, ropeSin.get("0:{}", t));
    return new Inputs(tokens, valid, mask, cos, sin);
  }

  private NDArray embedded(Inputs in) {
    return masked(LlamaOps.lookup(in.tokens(), embed), in.valid());
  }

  /** Layer {@code l} over {@code x}; the result belongs to {@code x}'s manager. */
  private NDArray layer(int l, NDArray x, Inputs in, @Nullable DropoutMasks masks) {
    float eps = (float) config.rmsNormEps();
    NDArray a =
        attention(l, LlamaOps.rmsNorm(x, inputNorms[l], eps), in.mask(), in.cos(), in.sin(), masks);
    x = masked(x.add(a), in.valid());
    return masked(x.add(mlp(l, LlamaOps.rmsNorm(x, postNorms[l], eps), masks)), in.valid());
  }

  private NDArray head(
      NDArray h, long[] positions, long[] targets, long @Nullable [] vocabSubset, NDManager scope) {
    NDArray rows =
        h.reshape(-1, config.hiddenSize()).get(new NDIndex("{}", scope.create(positions)));
    NDArray head =
        vocabSubset == null ? lmHead : LlamaOps.lookup(scope.create(vocabSubset), lmHead);
    NDArray logp = LlamaOps.linear(rows, head).logSoftmax(1);
    NDArray picked = logp.gather(scope.create(targets).reshape(-1, 1), 1);
    return picked.mean().neg();
  }

  /** A copy of {@code x} under {@code manager}, a leaf that records its gradient if asked. */
  private static NDArray leaf(NDArray x, NDManager manager, boolean gradient) {
    NDArray copy = own(manager, x.duplicate());
    if (gradient) {
      copy.setRequiresGradient(true);
    }
    return copy;
  }

  private static NDArray own(NDManager manager, NDArray x) {
    x.attach(manager);
    return x;
  }

  /** The frozen (or, from scratch, trainable) weight of a projection, dense. */
  private NDArray weight(int l, Projection p, NDManager scratch) {
    if (weights != null) {
      return weights[l][p.ordinal()];
    }
    return java.util.Objects.requireNonNull(nf4)[l][p.ordinal()].dequantize(scratch);
  }

  /**
   * LoRA dropout masks. Without an owner each mask is drawn and dropped; with one, the masks of the
   * first pass are kept under it and, after {@link #replay}, handed out again in the same order, so
   * a recomputed layer sees the masks its first pass drew.
   */
  private static final class DropoutMasks {
    private final @Nullable NDManager owner;
    private final Map<Integer, NDArray> kept = new HashMap<>();
    private boolean replay;

    DropoutMasks(@Nullable NDManager owner) {
      this.owner = owner;
    }

    void replay() {
      replay = true;
    }

    /** {@code x} with dropout at {@code rate}, scaled by {@code 1 / (1 - rate)}. */
    NDArray apply(int l, Projection p, NDArray x, double rate) {
      int key = l * Projection.values().length + p.ordinal();
      NDArray keep = replay ? kept.get(key) : null;
      if (keep == null) {
        keep = x.getManager().randomUniform(0f, 1f, x.getShape()).gte((float) rate);
        if (owner != null) {
          kept.put(key, own(owner, keep));
        }
      }
      NDArray scale = own(x.getManager(), keep.toType(DataType.FLOAT32, false));
      return x.mul(scale.muli((float) (1.0 / (1.0 - rate))));
    }
  }

  /** The trained LoRA factors as a PEFT adapter with {@code config}. */
  public LoraAdapter toAdapter(LoraConfig loraConfig) {
    Map<String, LoraPair> pairs = new HashMap<>();
    for (int l = 0; l < lora.length; l++) {
      for (Projection p : Projection.values()) {
        Lora x = lora[l][p.ordinal()];
        if (x != null) {
          int r = (int) x.a().getShape().get(0);
          pairs.put(
              p.modulePath(l),
              new LoraPair(
                  x.a().toFloatArray(),
                  x.b().toFloatArray(),
                  r,
                  p.inFeatures(config),
                  p.outFeatures(config),
                  x.scaling()));
        }
      }
    }
    return LoraAdapter.of(config, loraConfig, pairs);
  }

  /** Every weight by Hugging Face name, FP32 (pretraining output). */
  public Map<String, float[]> weights() {
    if (weights == null) {
      throw new IllegalStateException("weights: NF4 on the device (expected: a dense model)");
    }
    Map<String, float[]> out = new HashMap<>();
    out.put("model.embed_tokens.weight", embed.toFloatArray());
    out.put("model.norm.weight", finalNorm.toFloatArray());
    for (int l = 0; l < weights.length; l++) {
      out.put("model.layers." + l + ".input_layernorm.weight", inputNorms[l].toFloatArray());
      out.put(
          "model.layers." + l + ".post_attention_layernorm.weight", postNorms[l].toFloatArray());
      for (Projection p : Projection.values()) {
        out.put(p.weightName(l), weights[l][p.ordinal()].toFloatArray());
      }
    }
    return out;
  }

  @Override
  public void close() {
    manager.close();
  }

  private void train(String name, NDArray value, boolean decay) {
    value.setRequiresGradient(true);
    trainable.add(new Param(name, value, decay));
  }

  private NDArray attention(
      int l, NDArray x, NDArray mask, NDArray cos, NDArray sin, @Nullable DropoutMasks dropout) {
    long b = x.getShape().get(0);
    long t = x.getShape().get(1);
    int kv = config.numKeyValueHeads();
    int d = config.headDim();
    int g = config.groupSize();
    NDArray q = project(l, Projection.Q_PROJ, x, dropout).reshape(b, t, kv, g, d);
    q = LlamaOps.rotate(q.transpose(0, 2, 3, 1, 4), cos, sin);
    NDArray k = project(l, Projection.K_PROJ, x, dropout).reshape(b, t, kv, 1, d);
    k = LlamaOps.rotate(k.transpose(0, 2, 3, 1, 4), cos, sin);
    NDArray v = project(l, Projection.V_PROJ, x, dropout).reshape(b, t, kv, 1, d);
    v = v.transpose(0, 2, 3, 1, 4);
    NDArray scores = q.matMul(k.swapAxes(3, 4)).mul((float) (1.0 / Math.sqrt(d))).add(mask);
    NDArray out = scores.softmax(4).matMul(v);
    out = out.transpose(0, 3, 1, 2, 4).reshape(b, t, (long) kv * g * d);
    return project(l, Projection.O_PROJ, out, dropout);
  }

  private NDArray mlp(int l, NDArray x, @Nullable DropoutMasks dropout) {
    NDArray gate = project(l, Projection.GATE_PROJ, x, dropout);
    NDArray up = project(l, Projection.UP_PROJ, x, dropout);
    NDArray act = LlamaOps.silu(gate).mul(up);
    return project(l, Projection.DOWN_PROJ, act, dropout);
  }

  private NDArray project(int l, Projection p, NDArray x, @Nullable DropoutMasks dropout) {
    NDArray y = LlamaOps.linear(x, weight(l, p, x.getManager()));
    Lora pair = lora[l][p.ordinal()];
    if (pair == null) {
      return y;
    }
    NDArray in = dropout == null ? x : dropout.apply(l, p, x, dropoutRate);
    return y.add(LlamaOps.linear(LlamaOps.linear(in, pair.a()), pair.b()).mul(pair.scaling()));
  }

  private static NDArray masked(NDArray x, @Nullable NDArray valid) {
    return valid == null ? x : x.mul(valid);
  }

  private static float[] validMask(int[] lengths, int t) {
    float[] mask = new float[lengths.length * t];
    for (int i = 0; i < lengths.length; i++) {
      java.util.Arrays.fill(mask, i * t, i * t + Math.min(t, lengths[i]), 1f);
    }
    return mask;
  }

  private static float[] causalMask(int t) {
    float[] mask = new float[t * t];
    for (int i = 0; i < t; i++) {
      for (int j = i + 1; j < t; j++) {
        mask[i * t + j] = MASKED;
      }
    }
    return mask;
  }

  private static float[] gaussian(SplittableRandom random, long n, double std) {
    float[] out = new float[Math.toIntExact(n)];
    for (int i = 0; i < out.length; i++) {
      out[i] = (float) (random.nextGaussian() * std);
    }
    return out;
  }

  private static NDArray[] ropeTables(ModelConfig config, NDManager manager) {
    float[][] tables = LlamaOps.ropeTables(config);
    Shape shape = new Shape(config.maxPositionEmbeddings(), config.headDim());
    return new NDArray[] {manager.create(tables[0], shape), manager.create(tables[1], shape)};
  }
}
