package dev.protorad.engine.model;

import static java.util.Objects.requireNonNull;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.protorad.engine.ModelConfig;
import dev.protorad.engine.checkpoint.BaseCheckpoint;
import dev.protorad.engine.checkpoint.BaseStream;
import dev.protorad.engine.checkpoint.Projection;
import dev.protorad.engine.nf4.Nf4Tensor;
import dev.protorad.engine.peft.LabelVocabulary;
import dev.protorad.engine.peft.LoraAdapter;
import dev.protorad.engine.peft.LoraPair;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Optional;
import java.util.function.BiFunction;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * A Llama-family decoder over an NF4 base, on DJL (PyTorch): the weights shared by every request,
 * and forward passes for batches whose rows may each use their own LoRA adapter.
 *
 * <p>Design: follows Hugging Face transformers {@code modeling_llama} (RMSNorm, rotary embeddings
 * with {@code rotate_half}, grouped-query attention, SwiGLU MLP) with bitsandbytes-style NF4
 * projections ({@link Nf4Dequantizer}). Memory discipline, because DJL gives an op's result to the
 * manager of its first operand: every request runs in a sub-manager of the model's manager, every
 * layer in a sub-manager of the request's, and only the layer's output moves up; results never land
 * in the weights' manager. The KV cache is preallocated per request ({@link KvCache}).
 *
 * <p>Thread-safe: requests may run concurrently; see {@link EngineSettings} for the thread settings
 * that suit that.
 */
public final class LlamaModel implements AutoCloseable {

  /** Default {@link Builder#dequantCacheThresholdBytes}: 2 GiB of dense weights. */
  public static final long DEFAULT_DEQUANT_CACHE_THRESHOLD_BYTES = 2L << 30;

  /** Input and output width of each projection. */
  record Dims(ModelConfig c) {
    int in(Projection p) {
      return p == Projection.DOWN_PROJ ? c.intermediateSize() : c.hiddenSize();
    }

    int out(Projection p) {
      return switch (p) {
        case Q_PROJ, O_PROJ, DOWN_PROJ -> c.hiddenSize();
        case K_PROJ, V_PROJ -> c.kvDim();
        case GATE_PROJ, UP_PROJ -> c.intermediateSize();
      };
    }
  }

  private final ModelConfig config;
  private final Dims dims;
  private final NDManager manager;
  private final NDArray embedTokens;
  private final NDArray lmHead;
  private final NDArray finalNorm;
  private final NDArray ropeCos;
  private final NDArray ropeSin;
  private final List<DecoderLayer> layers;
  private final LoraStrategy loraStrategy;
  private final ModelMemory memory;

  private LlamaModel(Builder b, NDManager manager) {
    this.config = b.weights.config();
    this.dims = new Dims(config);
    this.manager = manager;
    int vocab = config.vocabSize();
    int hidden = config.hiddenSize();
    Shape shape = new Shape(vocab, hidden);
    // The weights are read once, in this order, and each part is dropped once copied: a streamed
    // base (BaseStream) is never held whole in Java arrays.
    NativeCopy copy = new NativeCopy();
    embedTokens =
        dense(
            b.weights::embedTokens, b.weights.embedTokensF16(), shape, b.embeddingPrecision, copy);
    lmHead =
        config.tieWordEmbeddings()
            ? embedTokens
            : dense(b.weights::lmHead, b.weights.lmHeadF16(), shape, b.embeddingPrecision, copy);
    finalNorm = vector(b.weights.finalNorm(), "model.norm.weight", copy);
    NDArray[] rope = ropeTables(copy);
    ropeCos = rope[0];
    ropeSin = rope[1];
    layers = new ArrayList<>(config.numHiddenLayers());
    for (int l = 0; l < config.numHiddenLayers(); l++) {
      layers.add(layer(b, l, copy));
    }
    boolean cache = b.unquantized || cacheEnabled(b, manager.getDevice());
    long quantized = 0;
    long dense = 0;
    for (DecoderLayer layer : layers) {
      for (QuantizedLinear q : layer.projections().values()) {
        if (cache) {
          q.cache(manager);
          dense += q.denseBytes();
        }
        quantized += q.quantizedBytes();
      }
    }
    this.loraStrategy = b.loraStrategy;
    long embeddingBytes = bytes(embedTokens) + (lmHead == embedTokens ? 0 : bytes(lmHead));
    long other = bytes(finalNorm) + bytes(ropeCos) + bytes(ropeSin) + 8L * hidden * layers.size();
    this.memory = new ModelMemory(quantized, dense, embeddingBytes, other, device().toString());
  }

  /** Starts building a model over a loaded base checkpoint. */
  public static Builder builder(BaseCheckpoint checkpoint) {
    return new Builder(DecoderWeights.of(checkpoint));
  }

  /**
   * Starts building a model that reads {@code stream} to its end as it builds: each part of the
   * base is copied to the device as it is read and dropped, so the Java heap holds at most one
   * layer of the base at a time instead of all of it (the way to load a large base for serving).
   * {@link Builder#build} may be called once; afterwards {@code stream} gives the base's
   * fingerprint.
   */
  public static Builder builder(BaseStream stream) {
    return new Builder(new StreamedWeights(stream));
  }

  /** Starts building a model over {@code weights}. */
  public static Builder builder(DecoderWeights weights) {
    return new Builder(weights);
  }

  /** The architecture. */
  public ModelConfig config() {
    return config;
  }

  /** Bytes held on the device, by kind. */
  public ModelMemory memory() {
    return memory;
  }

  /**
   * Copies a PEFT adapter to the device.
   *
   * @param id the adapter version, e.g. {@code chest-ct@3}
   * @throws IllegalArgumentException when a factor's shape does not match this model
   */
  public AdapterHandle loadAdapter(String id, LoraAdapter adapter) {
    requireNonNull(adapter, "adapter");
    return AdapterHandle.upload(
        id,
        layers.size(),
        adapter::pair,
        dims,
        manager.newSubManager(),
        adapter.labelVocabulary().orElse(null));
  }

  /** Copies the LoRA factors {@code pairs(layer, projection)} to the device. */
  public AdapterHandle loadAdapter(
      String id, BiFunction<Integer, Projection, Optional<LoraPair>> pairs) {
    return AdapterHandle.upload(id, layers.size(), pairs, dims, manager.newSubManager(), null);
  }

  /**
   * Runs one batch and returns the logits of every real token: {@code [row][slot][vocab]}, each row
   * as long as its own tokens. Meant for tests and tools; scoring and generation read only the
   * logits they need.
   */
  public float[][][] forward(List<BatchRow> rows, Padding padding) {
    StepInput in = input(rows, padding);
    try (NDManager request = newRequestManager()) {
      NDArray h = prefill(in, lora(rows, in.length()), request);
      float[] all = logits(h).toFloatArray();
      return split(all, in);
    }
  }

  /** Runs one batch and returns each row's logits after its last token: {@code [row][vocab]}. */
  public float[][] lastLogits(List<BatchRow> rows, Padding padding) {
    StepInput in = input(rows, padding);
    try (NDManager request = newRequestManager()) {
      NDArray h = prefill(in, lora(rows, in.length()), request);
      float[] flat = logits(lastHidden(h, in)).toFloatArray();
      return rowsOf(flat, in.batch(), config.vocabSize());
    }
  }

  /** Frees the device memory of the weights (adapters are closed separately). */
  @Override
  public void close() {
    manager.close();
  }

  // ---- engine-internal API (DJL types) ----

  /** A fresh request scope; close it when the request ends. */
  NDManager newRequestManager() {
    return manager.newSubManager();
  }

  /** Live native arrays under this model (weights, adapters and open requests). */
  public int liveArrays() {
    return manager.getManagedArrays().size();
  }

  Device device() {
    return manager.getDevice();
  }

  /** Where this model runs, for reports and logs: {@code cpu()} or {@code gpu(0)}. */
  public String deviceName() {
    return manager.getDevice().toString();
  }

  LoraStrategy loraStrategy() {
    return loraStrategy;
  }

  LoraBatch lora(List<BatchRow> rows, int length) {
    List<@Nullable AdapterHandle> adapters = new ArrayList<>(rows.size());
    for (BatchRow r : rows) {
      adapters.add(r.adapter());
    }
    return LoraBatch.of(adapters, loraStrategy, length);
  }

  /**
   * Runs {@code in} over a fresh cache sized to it; final-normed hidden states in {@code request}.
   */
  NDArray prefill(StepInput in, LoraBatch lora, NDManager request) {
    KvCache cache = KvCache.allocate(config, in.batch(), in.length(), request, null);
    return hidden(in, cache, lora, request);
  }

  /**
   * One forward step: writes the keys and values of {@code in} into {@code cache} and returns the
   * final-normed hidden states {@code [batch, t, hidden]}, owned by {@code request}.
   */
  NDArray hidden(StepInput in, KvCache cache, LoraBatch lora, NDManager request) {
    cache.checkRoom(in);
    checkTokens(in);
    ForwardContext ctx = context(in, cache, lora, request);
    NDArray tokens = request.create(in.tokens(), new Shape(in.batch(), in.length()));
    NDArray h = toFloat(LlamaOps.lookup(tokens, embedTokens));
    for (DecoderLayer layer : layers) {
      try (NDManager scratch = request.newSubManager()) {
        h.attach(scratch);
        NDArray next = layer.forward(h, ctx, scratch);
        next.attach(request);
        h = next;
      }
    }
    cache.advance(in);
    return LlamaOps.rmsNorm(h, finalNorm, (float) config.rmsNormEps());
  }

  /** The hidden state after each row's last real token, {@code [batch, hidden]}. */
  NDArray lastHidden(NDArray h, StepInput in) {
    long[] flat = new long[in.batch()];
    for (int b = 0; b < in.batch(); b++) {
      flat[b] = (long) b * in.length() + in.lastSlot(b);
    }
    NDArray rows = h.reshape(-1, config.hiddenSize());
    return rows.get(new NDIndex("{}", h.getManager().create(flat)));
  }

  /** LM head over hidden states {@code [..., hidden]}: FP32 logits owned by {@code h}'s manager. */
  NDArray logits(NDArray h) {
    if (lmHead.getDataType() == DataType.FLOAT32) {
      return LlamaOps.linear(h, lmHead);
    }
    if (device().isGpu()) {
      return LlamaOps.linear(h.toType(lmHead.getDataType(), false), lmHead)
          .toType(DataType.FLOAT32, false);
    }
    // PyTorch's CPU half-precision matmul is slow: widen the head for this call only.
    NDArray head = LlamaOps.own(h.getManager(), lmHead.toType(DataType.FLOAT32, false));
    return LlamaOps.linear(h, head);
  }

  /**
   * LM head over hidden states {@code [..., hidden]} restricted to the rows of {@code vocabulary}:
   * FP32 logits {@code [..., vocabulary.size()]}, owned by {@code h}'s manager.
   */
  NDArray logits(NDArray h, LabelVocabulary vocabulary) {
    NDManager m = h.getManager();
    long[] ids = new long[vocabulary.size()];
    int[] tokens = vocabulary.tokens();
    for (int i = 0; i < ids.length; i++) {
      ids[i] = tokens[i];
    }
    NDArray rows = LlamaOps.lookup(m.create(ids), lmHead);
    return LlamaOps.linear(h, toFloat(rows));
  }

  private ForwardContext context(StepInput in, KvCache cache, LoraBatch lora, NDManager request) {
    int b = in.batch();
    int t = in.length();
    int d = config.headDim();
    NDArray positions = request.create(in.positions(), new Shape(b, t));
    NDArray cos = LlamaOps.lookup(positions, ropeCos);
    NDArray sin = LlamaOps.lookup(positions, ropeSin);
    ForwardContext.TreeKeys tree = null;
    float[] mask;
    int[][] ancestors = in.ancestors();
    if (ancestors == null) {
      mask = cache.mask(in);
    } else {
      // A packed trie: each node reads its few ancestors, gathered, not every node of the step.
      int depth = 0;
      for (int[] a : ancestors) {
        depth = Math.max(depth, a.length);
      }
      long[] indices = new long[t * depth];
      for (int i = 0; i < t; i++) {
        for (int k = 0; k < depth; k++) {
          indices[i * depth + k] = k < ancestors[i].length ? ancestors[i][k] : i;
        }
      }
      tree = new ForwardContext.TreeKeys(request.create(indices), depth);
      mask = cache.treeMask(in, depth);
    }
    int keys = mask.length / (b * t);
    return new ForwardContext(
        b,
        t,
        cache,
        lora,
        cos.reshape(b, 1, 1, t, d),
        sin.reshape(b, 1, 1, t, d),
        cos.reshape(b, 1, t, d),
        sin.reshape(b, 1, t, d),
        request.create(mask, new Shape(b, 1, 1, t, keys)),
        tree);
  }

  private void checkTokens(StepInput in) {
    for (long id : in.tokens()) {
      if (id < 0 || id >= config.vocabSize()) {
        throw new IllegalArgumentException(
            "token id: " + id + " (expected: 0.." + (config.vocabSize() - 1) + ")");
      }
    }
    for (long pos : in.positions()) {
      if (pos >= config.maxPositionEmbeddings()) {
        throw new IllegalArgumentException(
            "position: "
                + pos
                + " (expected: < max_position_embeddings="
                + config.maxPositionEmbeddings()
                + ")");
      }
    }
  }

  private StepInput input(List<BatchRow> rows, Padding padding) {
    requireNonNull(rows, "rows");
    requireNonNull(padding, "padding");
    List<int[]> tokens = new ArrayList<>(rows.size());
    for (BatchRow r : rows) {
      tokens.add(r.tokens());
    }
    return StepInput.padded(tokens, 0, padding);
  }

  private float[][][] split(float[] all, StepInput in) {
    int v = config.vocabSize();
    float[][][] out = new float[in.batch()][][];
    for (int b = 0; b < in.batch(); b++) {
      List<float[]> slots = new ArrayList<>();
      for (int i = 0; i < in.length(); i++) {
        if (in.valid()[b * in.length() + i]) {
          float[] row = new float[v];
          System.arraycopy(all, (b * in.length() + i) * v, row, 0, v);
          slots.add(row);
        }
      }
      out[b] = slots.toArray(new float[0][]);
    }
    return out;
  }

  static float[][] rowsOf(float[] flat, int rows, int width) {
    float[][] out = new float[rows][width];
    for (int r = 0; r < rows; r++) {
      System.arraycopy(flat, r * width, out[r], 0, width);
    }
    return out;
  }

  private DecoderLayer layer(Builder b, int l, NativeCopy copy) {
    DecoderWeights w = b.weights;
    EnumMap<Projection, QuantizedLinear> projections = new EnumMap<>(Projection.class);
    for (Projection p : Projection.values()) {
      projections.put(p, b.unquantized ? unquantized(w, l, p, copy) : quantized(w, l, p, b, copy));
    }
    return new DecoderLayer(
        l,
        config,
        vector(w.inputNorm(l), "input_layernorm", copy),
        vector(w.postAttentionNorm(l), "post_attention_layernorm", copy),
        projections);
  }

  private QuantizedLinear quantized(
      DecoderWeights w, int l, Projection p, Builder b, NativeCopy copy) {
    Nf4Tensor t = w.projection(l, p);
    checkShape(l, p, t.rows(), t.cols());
    return new QuantizedLinear(Nf4Dequantizer.upload(t, manager, copy), b.dequantPrecision);
  }

  private QuantizedLinear unquantized(DecoderWeights w, int l, Projection p, NativeCopy copy) {
    float[] values =
        w.unquantizedProjection(l, p)
            .orElseThrow(
                () ->
                    new IllegalArgumentException(
                        "unquantized: the weights hold no FP32 projection for layer "
                            + l
                            + " "
                            + p));
    if (values.length != (long) dims.out(p) * dims.in(p)) {
      checkShape(l, p, values.length / dims.in(p), dims.in(p));
    }
    return QuantizedLinear.unquantized(
        copy.floats(manager, values, new Shape(dims.out(p), dims.in(p))));
  }

  private void checkShape(int l, Projection p, int rows, int cols) {
    if (rows != dims.out(p) || cols != dims.in(p)) {
      throw new IllegalArgumentException(
          "layer "
              + l
              + " "
              + p
              + ": ["
              + rows
              + ", "
              + cols
              + "] (expected: ["
              + dims.out(p)
              + ", "
              + dims.in(p)
              + "])");
    }
  }

  /**
   * An embedding matrix in {@code precision}. F16 bits, when offered, are copied as they are and
   * widened on the device (exact), so no FP32 copy is made in Java.
   */
  private NDArray dense(
      Supplier<float[]> fp32,
      Optional<short[]> fp16,
      Shape shape,
      Precision precision,
      NativeCopy copy) {
    if (fp16.isPresent()) {
      short[] bits = fp16.get();
      if (bits.length != shape.size()) {
        throw new IllegalArgumentException(
            "embedding: " + bits.length + " values (expected: " + shape + ")");
      }
      return converted(copy.halves(manager, bits, shape), precision);
    }
    float[] values = fp32.get();
    if (values.length != shape.size()) {
      throw new IllegalArgumentException(
          "embedding: " + values.length + " values (expected: " + shape + ")");
    }
    return converted(copy.floats(manager, values, shape), precision);
  }

  private static NDArray converted(NDArray a, Precision precision) {
    DataType type = precision == Precision.FP16 ? DataType.FLOAT16 : DataType.FLOAT32;
    if (a.getDataType() == type) {
      return a;
    }
    NDArray converted = a.toType(type, false);
    a.close();
    return converted;
  }

  private NDArray vector(float[] values, String name, NativeCopy copy) {
    if (values.length != config.hiddenSize()) {
      throw new IllegalArgumentException(
          name + ": " + values.length + " values (expected: " + config.hiddenSize() + ")");
    }
    return copy.floats(manager, values, new Shape(values.length));
  }

  /** Hugging Face {@code LlamaRotaryEmbedding}: {@code cat(freqs, freqs)} cosines and sines. */
  private NDArray[] ropeTables(NativeCopy copy) {
    float[][] tables = LlamaOps.ropeTables(config);
    Shape shape = new Shape(config.maxPositionEmbeddings(), config.headDim());
    return new NDArray[] {
      copy.floats(manager, tables[0], shape), copy.floats(manager, tables[1], shape)
    };
  }

  private static NDArray toFloat(NDArray a) {
    return a.getDataType() == DataType.FLOAT32 ? a : a.toType(DataType.FLOAT32, false);
  }

  private static long bytes(NDArray a) {
    return a.size() * a.getDataType().getNumOfBytes();
  }

  private boolean cacheEnabled(Builder b, Device device) {
    return switch (b.dequantCache) {
      case ON -> true;
      case OFF -> false;
      case AUTO -> !device.isGpu() && denseBytes(b) <= b.dequantCacheThresholdBytes;
    };
  }

  private long denseBytes(Builder b) {
    long params = 0;
    for (Projection p : Projection.values()) {
      params += (long) dims.in(p) * dims.out(p);
    }
    return params * layers.size() * (b.dequantPrecision == Precision.FP16 ? 2 : 4);
  }

  /** Options of a {@link LlamaModel}; defaults suit serving on CPU. */
  public static final class Builder {
    private final DecoderWeights weights;
    private DequantCache dequantCache = DequantCache.AUTO;
    private long dequantCacheThresholdBytes = DEFAULT_DEQUANT_CACHE_THRESHOLD_BYTES;
    private Precision dequantPrecision = Precision.FP32;
    private Precision embeddingPrecision = Precision.FP32;
    private LoraStrategy loraStrategy = LoraStrategy.AUTO;
    private boolean preferGpu = true;
    private boolean unquantized;

    private Builder(DecoderWeights weights) {
      this.weights = requireNonNull(weights, "weights");
    }

    /** Whether dense copies of the projections are kept (default {@link DequantCache#AUTO}). */
    public Builder dequantCache(DequantCache mode) {
      this.dequantCache = requireNonNull(mode, "mode");
      return this;
    }

    /** Largest dense weight size cached under {@link DequantCache#AUTO} (default 2 GiB). */
    public Builder dequantCacheThresholdBytes(long bytes) {
      if (bytes < 0) {
        throw new IllegalArgumentException("bytes: " + bytes + " (expected: >= 0)");
      }
      this.dequantCacheThresholdBytes = bytes;
      return this;
    }

    /** Precision of dequantized projection weights (default FP32; FP16 suits GPUs). */
    public Builder dequantPrecision(Precision precision) {
      this.dequantPrecision = requireNonNull(precision, "precision");
      return this;
    }

    /** Storage of the embeddings and LM head (default FP32; FP16 halves them, as at 7B). */
    public Builder embeddingPrecision(Precision precision) {
      this.embeddingPrecision = requireNonNull(precision, "precision");
      return this;
    }

    /** How mixed-adapter batches compute their LoRA deltas (default {@link LoraStrategy#AUTO}). */
    public Builder loraStrategy(LoraStrategy strategy) {
      this.loraStrategy = requireNonNull(strategy, "strategy");
      return this;
    }

    /**
     * Runs every projection in FP32 from {@link DecoderWeights#unquantizedProjection} instead of
     * NF4: the unquantized baseline for benchmarks and quality checks (default false).
     */
    public Builder unquantized(boolean unquantized) {
      this.unquantized = unquantized;
      return this;
    }

    /** Whether to use the GPU when PyTorch sees one (default true). */
    public Builder preferGpu(boolean preferGpu) {
      this.preferGpu = preferGpu;
      return this;
    }

    /**
     * Copies the weights to the device and builds the model.
     *
     * @throws java.io.UncheckedIOException wrapping the {@code CheckpointException} or {@code
     *     SafetensorsException} when a streamed base cannot be read
     * @throws IllegalStateException when a streamed base has already been read
     */
    public LlamaModel build() {
      Device device = preferGpu ? EngineSettings.device() : cpu();
      NDManager manager = NDManager.newBaseManager(device);
      try {
        return new LlamaModel(this, manager);
      } catch (RuntimeException e) {
        manager.close();
        throw e;
      } finally {
        if (weights instanceof StreamedWeights streamed) {
          streamed.release();
        }
      }
    }

    private static Device cpu() {
      EngineSettings.applyDefaults();
      return Device.cpu();
    }
  }
}
