package dev.protorad.engine.checkpoint;

import static java.util.Objects.requireNonNull;

import dev.protorad.engine.CheckpointException;
import dev.protorad.engine.ModelConfig;
import dev.protorad.engine.nf4.BnbLayout;
import dev.protorad.engine.nf4.Nf4;
import dev.protorad.engine.nf4.Nf4Tensor;
import dev.protorad.engine.safetensors.FloatReader;
import dev.protorad.engine.safetensors.HalfFloats;
import dev.protorad.engine.safetensors.SafetensorsException;
import dev.protorad.engine.safetensors.TensorInfo;
import dev.protorad.engine.safetensors.TensorSource;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ForkJoinPool;
import org.jspecify.annotations.Nullable;

/**
 * A base checkpoint read once, part by part, in a fixed order: the embeddings, the LM head, the
 * final norm, then one layer at a time (its norms and its seven projections, NF4-quantized as read
 * or loaded pre-quantized). The stream keeps no part once it has handed it out, so a consumer that
 * copies each part elsewhere and drops it ({@code LlamaModel.builder(BaseStream)} copies them to
 * the device) never holds more than one layer in Java arrays: the whole base is never on the Java
 * heap.
 *
 * <p>Checks and error messages are those of {@link BaseCheckpoint#load}, which reads through a
 * stream and keeps every part. The {@link #fingerprint} is computed as the parts go by and equals
 * the loaded checkpoint's. Projections are read with positional reads ({@link
 * TensorSource#floatReader}), so their pages are not counted in the process's RSS; the embeddings
 * and norms through mappings of one tensor at a time.
 *
 * <p>Not thread-safe. Close it (or read it to its end) to stop its quantization threads.
 */
public final class BaseStream implements AutoCloseable {
  private static final int PROJECTIONS = Projection.values().length;

  private enum Step {
    EMBED_TOKENS,
    LM_HEAD,
    FINAL_NORM,
    LAYERS,
    DONE
  }

  private final ModelConfig config;
  private final Path tokenizerJson;
  private final TensorSource source;
  private final LoadOptions options;
  @Nullable private String sourceDtype;
  @Nullable private final Fingerprint digest;
  private final ForkJoinPool pool;
  private Step next = Step.EMBED_TOKENS;
  private int nextLayer;
  private short @Nullable [] tiedHead; // the embeddings, between the two steps, when tied
  @Nullable private String fingerprint;

  private BaseStream(
      ModelConfig config,
      Path tokenizerJson,
      TensorSource source,
      LoadOptions options,
      boolean fingerprint)
      throws IOException {
    this.config = config;
    this.tokenizerJson = tokenizerJson;
    this.source = source;
    this.options = options;
    this.digest = fingerprint ? Fingerprint.start(config) : null;
    this.pool = new ForkJoinPool(options.parallelism());
  }

  /**
   * Opens a checkpoint directory as {@link BaseCheckpoint#load} does, reading only {@code
   * config.json} and the safetensors headers; the weights are read by the calls that follow.
   *
   * @throws CheckpointException for a missing or invalid config or tokenizer
   * @throws SafetensorsException for missing or invalid safetensors files
   */
  public static BaseStream open(Path dir, LoadOptions options) throws IOException {
    return open(dir, options, true, false);
  }

  /**
   * Opens {@code dir}; {@code fingerprint}: digest the parts as they go by; {@code wholeBase}:
   * first check that the heap can hold the whole base (for a caller that keeps every part).
   */
  static BaseStream open(Path dir, LoadOptions options, boolean fingerprint, boolean wholeBase)
      throws IOException {
    requireNonNull(dir, "dir");
    requireNonNull(options, "options");
    if (!Files.isDirectory(dir)) {
      throw new CheckpointException(dir, null, "not a checkpoint directory");
    }
    ModelConfig config = ModelConfig.read(dir.resolve("config.json"));
    Path tokenizer = dir.resolve(BaseCheckpoint.TOKENIZER_JSON);
    if (!Files.isRegularFile(tokenizer)) {
      throw new CheckpointException(tokenizer, null, "file not found");
    }
    if (wholeBase) {
      requireHeap(dir, config);
    }
    return new BaseStream(config, tokenizer, TensorSource.open(dir), options, fingerprint);
  }

  /** Fails early, with the figure, when the heap cannot hold the base at all. */
  private static void requireHeap(Path dir, ModelConfig config) throws CheckpointException {
    long needed = MemoryReport.estimate(config).totalBytes();
    long max = Runtime.getRuntime().maxMemory();
    if (needed > max) {
      throw new CheckpointException(
          dir,
          null,
          String.format(
              Locale.ROOT,
              "this base holds %.2f GB once loaded but the heap is limited to %.2f GB (raise -Xmx)",
              needed / 1e9,
              max / 1e9));
    }
  }

  /** The architecture. */
  public ModelConfig config() {
    return config;
  }

  /** The Hugging Face {@code tokenizer.json}. */
  public Path tokenizerJson() {
    return tokenizerJson;
  }

  /** Torch dtype name of the source weights, as {@link BaseCheckpoint#sourceDtype}. */
  public String sourceDtype() throws IOException {
    String dtype = sourceDtype;
    if (dtype == null) {
      dtype = dtypeOf(Projection.Q_PROJ.weightName(0));
      sourceDtype = dtype;
    }
    return dtype;
  }

  /** What the base holds once read, by kind (the same figures as a loaded checkpoint's). */
  public MemoryReport memoryReport() {
    return MemoryReport.estimate(config);
  }

  /** Step 1: token embeddings {@code [vocab, hidden]} as F16 bits. */
  public short[] embedTokensF16() throws IOException {
    expect(Step.EMBED_TOKENS, "the embeddings");
    long[] shape = {config.vocabSize(), config.hiddenSize()};
    short[] embed = f16("model.embed_tokens.weight", shape);
    if (digest != null) {
      digest.embedTokens(embed);
    }
    if (config.tieWordEmbeddings()) {
      tiedHead = embed;
    }
    next = Step.LM_HEAD;
    return embed;
  }

  /**
   * Step 2: the LM head {@code [vocab, hidden]} as F16 bits: the embeddings' array when tied (then
   * this step may be skipped).
   */
  public short[] lmHeadF16() throws IOException {
    expect(Step.LM_HEAD, "the LM head");
    short[] head = tiedHead;
    tiedHead = null;
    if (head == null) {
      long[] shape = {config.vocabSize(), config.hiddenSize()};
      head = f16("lm_head.weight", shape);
    }
    if (digest != null) {
      digest.lmHead(head, config.tieWordEmbeddings());
    }
    next = Step.FINAL_NORM;
    return head;
  }

  /** Step 3: the final RMSNorm weight {@code [hidden]}. */
  public float[] finalNorm() throws IOException {
    if (next == Step.LM_HEAD && config.tieWordEmbeddings()) {
      lmHeadF16();
    }
    expect(Step.FINAL_NORM, "the final norm");
    float[] norm = norm("model.norm.weight");
    if (digest != null) {
      digest.finalNorm(norm);
    }
    next = Step.LAYERS;
    return norm;
  }

  /** Whether {@link #nextLayer} has a layer left to read. */
  public boolean hasNextLayer() {
    return next.compareTo(Step.LAYERS) <= 0 && nextLayer < config.numHiddenLayers();
  }

  /** Step 4, once per layer in order: the next layer's norms and NF4 projections. */
  public BaseLayer nextLayer() throws IOException {
    expect(Step.LAYERS, "layer " + nextLayer);
    int i = nextLayer;
    float[] inputNorm = norm(BaseCheckpoint.layerNorm(i, "input_layernorm"));
    float[] postNorm = norm(BaseCheckpoint.layerNorm(i, "post_attention_layernorm"));
    Nf4Tensor[] projections = new Nf4Tensor[PROJECTIONS];
    for (Projection p : Projection.values()) {
      projections[p.ordinal()] = projection(i, p);
    }
    if (digest != null) {
      digest.layer(i, inputNorm, postNorm, projections);
    }
    nextLayer++;
    if (nextLayer == config.numHiddenLayers()) {
      next = Step.DONE;
      pool.shutdown();
      if (digest != null) {
        fingerprint = digest.finish();
      }
    }
    return new BaseLayer(i, inputNorm, postNorm, projections);
  }

  /**
   * The fingerprint {@link BaseCheckpoint#fingerprint} gives for this base, once every layer has
   * been read.
   *
   * @throws IllegalStateException before the last layer has been read
   */
  public String fingerprint() {
    if (fingerprint == null) {
      throw new IllegalStateException(
          "fingerprint: "
              + nextLayer
              + " of "
              + config.numHiddenLayers()
              + " layers read (expected: all, from a stream opened with BaseStream.open)");
    }
    return fingerprint;
  }

  /** Stops the quantization threads; parts not yet read can no longer be. */
  @Override
  public void close() {
    pool.shutdown();
    tiedHead = null;
    next = Step.DONE;
  }

  private void expect(Step step, String what) {
    if (next != step) {
      throw new IllegalStateException(
          "read "
              + what
              + " out of order (expected next: "
              + (next == Step.LAYERS ? "layer " + nextLayer : next.name().toLowerCase(Locale.ROOT))
              + ")");
    }
  }

  private Nf4Tensor projection(int layer, Projection p) throws IOException {
    String name = p.weightName(layer);
    int rows = p.outFeatures(config);
    int cols = p.inFeatures(config);
    if (BnbLayout.isQuantized(source, name)) {
      Nf4Tensor t = BnbLayout.read(source, name);
      if (t.rows() != rows || t.cols() != cols) {
        throw new CheckpointException(
            source.fileOf(name),
            name,
            "quantized shape ["
                + t.rows()
                + ", "
                + t.cols()
                + "] (expected: ["
                + rows
                + ", "
                + cols
                + "] from config.json)");
      }
      return t;
    }
    checked(name, new long[] {rows, cols});
    try (FloatReader reader = source.floatReader(name)) {
      return quantize(name, reader, rows, cols);
    }
  }

  private Nf4Tensor quantize(String name, FloatReader w, int rows, int cols) throws IOException {
    try {
      return pool.submit(() -> Nf4.quantize(w, rows, cols)).get();
    } catch (ExecutionException e) {
      if (e.getCause() instanceof OutOfMemoryError) {
        throw new CheckpointException(
            source.fileOf(name),
            name,
            String.format(
                Locale.ROOT,
                "out of heap while quantizing: the base holds %.2f GB once loaded, the heap"
                    + " is limited to %.2f GB (raise -Xmx)",
                MemoryReport.estimate(config).totalBytes() / 1e9,
                Runtime.getRuntime().maxMemory() / 1e9),
            e);
      }
      throw new CheckpointException(
          source.fileOf(name),
          name,
          "cannot quantize: " + (e.getCause() == null ? e : e.getCause()).getMessage(),
          e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CheckpointException(source.fileOf(name), name, "interrupted", e);
    }
  }

  private String dtypeOf(String weightName) throws IOException {
    if (BnbLayout.isQuantized(source, weightName)) {
      return BnbLayout.dtype(source, weightName);
    }
    return switch (source.info(weightName).dtype()) {
      case BF16 -> "bfloat16";
      case F32 -> "float32";
      default -> "float16";
    };
  }

  private float[] norm(String name) throws IOException {
    checked(name, new long[] {config.hiddenSize()});
    return options.requireFinite() ? source.finiteFloats(name) : source.floats(name);
  }

  private short[] f16(String name, long[] shape) throws IOException {
    checked(name, shape);
    short[] v = source.float16(name);
    if (options.requireFinite()) {
      for (int i = 0; i < v.length; i++) {
        if (!HalfFloats.isFiniteF16(v[i])) {
          throw new CheckpointException(
              source.fileOf(name),
              name,
              "non-finite value at element " + i + " (after conversion to F16)");
        }
      }
    }
    return v;
  }

  private void checked(String name, long[] shape) throws IOException {
    TensorInfo info = source.info(name);
    if (!info.dtype().isFloatingPoint()) {
      throw new CheckpointException(
          source.fileOf(name), name, "dtype " + info.dtype() + " (expected: F32, F16 or BF16)");
    }
    if (!info.hasShape(shape)) {
      throw new CheckpointException(
          source.fileOf(name),
          name,
          "shape "
              + Arrays.toString(info.shape())
              + " (expected: "
              + Arrays.toString(shape)
              + " from config.json)");
    }
  }
}
