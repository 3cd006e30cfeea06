package dev.protorad.server.engine.checkpoint;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.protorad.server.engine.ModelConfig;
import dev.protorad.server.engine.nf4.BnbLayout;
import dev.protorad.server.engine.nf4.Nf4;
import dev.protorad.server.engine.nf4.Nf4Tensor;
import dev.protorad.server.engine.safetensors.DType;
import dev.protorad.server.engine.safetensors.FloatReader;
import dev.protorad.server.engine.safetensors.HalfFloats;
import dev.protorad.server.engine.safetensors.SafetensorsException;
import dev.protorad.server.engine.safetensors.SafetensorsWriter;
import dev.protorad.server.engine.safetensors.TensorInfo;
import dev.protorad.server.engine.safetensors.TensorSource;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ForkJoinPool;

/**
 * A loaded Llama base: configuration, FP16 embeddings and LM head, FP32 norms and the seven
 * projections of every layer in NF4 with double quantization.
 *
 * <p>{@link #load} accepts a Hugging Face checkpoint directory in F32, F16 or BF16 (the projections
 * are quantized at load time, in parallel) or one already in the bitsandbytes 4-bit layout (loaded
 * as stored, never re-quantized). Every tensor's shape is checked against {@code config.json};
 * errors name the file and tensor.
 */
public final class BaseCheckpoint {
  /** Tokenizer file name. */
  public static final String TOKENIZER_JSON = "tokenizer.json";

  private static final int PROJECTIONS = Projection.values().length;

  private final ModelConfig config;
  private final short[] embedTokens;
  private final short[] lmHead;
  private final float[] finalNorm;
  private final float[][] inputNorms;
  private final float[][] postAttentionNorms;
  private final Nf4Tensor[][] projections;
  private final Path tokenizerJson;
  private final String sourceDtype;
  private volatile String fingerprint;

  private BaseCheckpoint(
      ModelConfig config,
      short[] embedTokens,
      short[] lmHead,
      float[] finalNorm,
      float[][] inputNorms,
      float[][] postAttentionNorms,
      Nf4Tensor[][] projections,
      Path tokenizerJson,
      String sourceDtype) {
    this.config = config;
    this.embedTokens = embedTokens;
    this.lmHead = lmHead;
    this.finalNorm = finalNorm;
    this.inputNorms = inputNorms;
    this.postAttentionNorms = postAttentionNorms;
    this.projections = projections;
    this.tokenizerJson = tokenizerJson;
    this.sourceDtype = sourceDtype;
  }

  /**
   * Assembles a base from parts already in memory (tests, tools). Arrays are held, not copied.
   *
   * @param embedTokens F16 bits, {@code [vocab, hidden]}
   * @param lmHead F16 bits, {@code [vocab, hidden]}; the same array as {@code embedTokens} when
   *     tied
   * @param projections {@code [layer][Projection.ordinal()]}
   */
  public static BaseCheckpoint of(
      ModelConfig config,
      short[] embedTokens,
      short[] lmHead,
      float[] finalNorm,
      float[][] inputNorms,
      float[][] postAttentionNorms,
      Nf4Tensor[][] projections,
      Path tokenizerJson) {
    requireNonNull(config, "config");
    long embed = (long) config.vocabSize() * config.hiddenSize();
    requireLength("embedTokens", requireNonNull(embedTokens, "embedTokens").length, embed);
    requireLength("lmHead", requireNonNull(lmHead, "lmHead").length, embed);
    requireLength("finalNorm", requireNonNull(finalNorm, "finalNorm").length, config.hiddenSize());
    int layers = config.numHiddenLayers();
    requireLength("inputNorms", requireNonNull(inputNorms, "inputNorms").length, layers);
    requireLength(
        "postAttentionNorms",
        requireNonNull(postAttentionNorms, "postAttentionNorms").length,
        layers);
    requireLength("projections", requireNonNull(projections, "projections").length, layers);
    for (int i = 0; i < layers; i++) {
      requireLength("inputNorms[" + i + "]", inputNorms[i].length, config.hiddenSize());
      requireLength(
          "postAttentionNorms[" + i + "]", postAttentionNorms[i].length, config.hiddenSize());
      requireLength("projections[" + i + "]", projections[i].length, PROJECTIONS);
      for (Projection p : Projection.values()) {
        Nf4Tensor t = requireNonNull(projections[i][p.ordinal()], "projections");
        if (t.rows() != p.outFeatures(config) || t.cols() != p.inFeatures(config)) {
          throw new IllegalArgumentException(
              "projections["
                  + i
                  + "]["
                  + p
                  + "]: ["
                  + t.rows()
                  + ", "
                  + t.cols()
                  + "] (expected: ["
                  + p.outFeatures(config)
                  + ", "
                  + p.inFeatures(config)
                  + "])");
        }
      }
    }
    return new BaseCheckpoint(
        config,
        embedTokens,
        lmHead,
        finalNorm,
        inputNorms,
        postAttentionNorms,
        projections,
        requireNonNull(tokenizerJson, "tokenizerJson"),
        "float16");
  }

  /**
   * Loads a checkpoint directory ({@code config.json}, {@code tokenizer.json}, {@code
   * model.safetensors} or {@code model.safetensors.index.json} with its shards).
   *
   * @throws CheckpointException for a missing or invalid config or tokenizer, a wrong shape or
   *     non-finite weights
   * @throws SafetensorsException for missing, truncated or lying safetensors files
   */
  public static BaseCheckpoint load(Path dir, LoadOptions options) throws IOException {
    requireNonNull(dir, "dir");
    requireNonNull(options, "options");
    if (!Files.isDirectory(dir)) {
      throw new CheckpointException(dir, null, "not a checkpoint directory");
    }
    ModelConfig config = ModelConfig.read(dir.resolve("config.json"));
    Path tokenizer = dir.resolve(TOKENIZER_JSON);
    if (!Files.isRegularFile(tokenizer)) {
      throw new CheckpointException(tokenizer, null, "file not found");
    }
    requireHeap(dir, config);
    TensorSource source = TensorSource.open(dir);
    return new Loader(config, source, options).load(tokenizer);
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
              java.util.Locale.ROOT,
              "this base holds %.2f GB once loaded but the heap is limited to %.2f GB (raise -Xmx)",
              needed / 1e9,
              max / 1e9));
    }
  }

  /** The architecture. */
  public ModelConfig config() {
    return config;
  }

  /** Token embeddings {@code [vocab, hidden]} as F16 bits (held, not copied). */
  public short[] embedTokensF16() {
    return embedTokens;
  }

  /** LM head {@code [vocab, hidden]} as F16 bits; the embeddings' array when tied. */
  public short[] lmHeadF16() {
    return lmHead;
  }

  /** Token embeddings {@code [vocab, hidden]} converted to fp32 (a new array on each call). */
  public float[] embedTokens() {
    return HalfFloats.f16ToFloat(embedTokens);
  }

  /** LM head {@code [vocab, hidden]} converted to fp32 (a new array on each call). */
  public float[] lmHead() {
    return HalfFloats.f16ToFloat(lmHead);
  }

  /** Whether the LM head is the embedding matrix. */
  public boolean tiedEmbeddings() {
    return lmHead == embedTokens;
  }

  /** Final RMSNorm weight {@code [hidden]}. */
  public float[] finalNorm() {
    return finalNorm;
  }

  /** RMSNorm weight before attention in layer {@code layer}. */
  public float[] inputNorm(int layer) {
    return inputNorms[checkLayer(layer)];
  }

  /** RMSNorm weight before the MLP in layer {@code layer}. */
  public float[] postAttentionNorm(int layer) {
    return postAttentionNorms[checkLayer(layer)];
  }

  /** The NF4 weight {@code [out, in]} of projection {@code p} in layer {@code layer}. */
  public Nf4Tensor projection(int layer, Projection p) {
    return projections[checkLayer(layer)][requireNonNull(p, "p").ordinal()];
  }

  /** The Hugging Face {@code tokenizer.json}. */
  public Path tokenizerJson() {
    return tokenizerJson;
  }

  /**
   * Torch dtype name of the source weights ({@code float16}, {@code bfloat16}, {@code float32}).
   */
  public String sourceDtype() {
    return sourceDtype;
  }

  /** Bytes held per tensor kind. */
  public MemoryReport memoryReport() {
    return MemoryReport.of(this);
  }

  /**
   * SHA-256 (hex) over the configuration and every tensor as held (names, shapes and contents of
   * the quantized projections, embeddings and norms). The same model quantized here or loaded
   * pre-quantized gives the same fingerprint. Computed once, on first call.
   */
  public String fingerprint() {
    String f = fingerprint;
    if (f == null) {
      synchronized (this) {
        if (fingerprint == null) {
          fingerprint = computeFingerprint();
        }
        f = fingerprint;
      }
    }
    return f;
  }

  /**
   * Writes this base as a pre-quantized checkpoint: {@code config.json} with a bitsandbytes {@code
   * quantization_config}, {@code model.safetensors} in the bitsandbytes 4-bit layout (embeddings
   * F16, norms F32) and the tokenizer files.
   */
  public void writeQuantized(Path outDir) throws IOException {
    requireNonNull(outDir, "outDir");
    Files.createDirectories(outDir);
    SafetensorsWriter w = SafetensorsWriter.create().metadata("format", "pt");
    long[] embedShape = {config.vocabSize(), config.hiddenSize()};
    long[] normShape = {config.hiddenSize()};
    w.addF16("model.embed_tokens.weight", embedShape, embedTokens);
    for (int i = 0; i < config.numHiddenLayers(); i++) {
      w.addFloats(layerNorm(i, "input_layernorm"), DType.F32, normShape, inputNorms[i]);
      w.addFloats(
          layerNorm(i, "post_attention_layernorm"), DType.F32, normShape, postAttentionNorms[i]);
      for (Projection p : Projection.values()) {
        BnbLayout.write(w, p.weightName(i), projections[i][p.ordinal()], sourceDtype);
      }
    }
    w.addFloats("model.norm.weight", DType.F32, normShape, finalNorm);
    if (!tiedEmbeddings()) {
      w.addF16("lm_head.weight", embedShape, lmHead);
    }
    w.write(outDir.resolve("model.safetensors"));
    Files.writeString(outDir.resolve("config.json"), quantizedConfigJson());
    copyTokenizer(tokenizerJson, outDir);
  }

  /** Copies {@code tokenizer.json} and, when present beside it, {@code tokenizer_config.json}. */
  static void copyTokenizer(Path tokenizerJson, Path outDir) throws IOException {
    Path target = outDir.resolve(TOKENIZER_JSON);
    if (!Files.exists(target) || !Files.isSameFile(tokenizerJson, target)) {
      Files.copy(tokenizerJson, target, StandardCopyOption.REPLACE_EXISTING);
    }
    Path sibling = tokenizerJson.resolveSibling("tokenizer_config.json");
    Path siblingTarget = outDir.resolve("tokenizer_config.json");
    if (Files.exists(sibling)
        && (!Files.exists(siblingTarget) || !Files.isSameFile(sibling, siblingTarget))) {
      Files.copy(sibling, siblingTarget, StandardCopyOption.REPLACE_EXISTING);
    }
  }

  private String quantizedConfigJson() {
    ObjectNode root = config.toJsonNode();
    root.put("torch_dtype", sourceDtype);
    ObjectNode q = root.putObject("quantization_config");
    q.put("quant_method", "bitsandbytes");
    q.put("load_in_4bit", true);
    q.put("load_in_8bit", false);
    q.put("bnb_4bit_quant_type", "nf4");
    q.put("bnb_4bit_use_double_quant", true);
    q.put("bnb_4bit_compute_dtype", sourceDtype);
    q.put("bnb_4bit_quant_storage", "uint8");
    return ModelConfig.toJson(root);
  }

  static String layerNorm(int layer, String name) {
    return "model.layers." + layer + "." + name + ".weight";
  }

  private int checkLayer(int layer) {
    if (layer < 0 || layer >= config.numHiddenLayers()) {
      throw new IndexOutOfBoundsException(
          "layer: " + layer + " (expected: 0.." + (config.numHiddenLayers() - 1) + ")");
    }
    return layer;
  }

  private String computeFingerprint() {
    MessageDigest md;
    try {
      md = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
    update(md, "protorad-base-v1\n" + config.toJson());
    digestShorts(md, "model.embed_tokens.weight", embedTokens);
    digestShorts(md, tiedEmbeddings() ? "lm_head.tied" : "lm_head.weight", lmHead);
    digestFloats(md, "model.norm.weight", finalNorm);
    for (int i = 0; i < config.numHiddenLayers(); i++) {
      digestFloats(md, layerNorm(i, "input_layernorm"), inputNorms[i]);
      digestFloats(md, layerNorm(i, "post_attention_layernorm"), postAttentionNorms[i]);
      for (Projection p : Projection.values()) {
        digestNf4(md, p.weightName(i), projections[i][p.ordinal()]);
      }
    }
    return HexFormat.of().formatHex(md.digest());
  }

  private static void digestNf4(MessageDigest md, String name, Nf4Tensor t) {
    update(md, name + " nf4 [" + t.rows() + "," + t.cols() + "] " + t.absmaxOffset() + "\n");
    md.update(t.packed());
    md.update(t.absmaxCodes());
    digestFloats(md, name + ".nested_absmax", t.nestedAbsmax());
    digestFloats(md, name + ".nested_quant_map", t.nestedQuantMap());
    digestFloats(md, name + ".quant_map", t.quantMap());
  }

  private static void digestShorts(MessageDigest md, String name, short[] v) {
    update(md, name + " f16 " + v.length + "\n");
    ByteBuffer b = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
    for (int off = 0; off < v.length; off += b.capacity() / 2) {
      int len = Math.min(b.capacity() / 2, v.length - off);
      b.clear();
      b.asShortBuffer().put(v, off, len);
      md.update(b.array(), 0, len * 2);
    }
  }

  private static void digestFloats(MessageDigest md, String name, float[] v) {
    update(md, name + " f32 " + v.length + "\n");
    ByteBuffer b = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
    for (int off = 0; off < v.length; off += b.capacity() / 4) {
      int len = Math.min(b.capacity() / 4, v.length - off);
      b.clear();
      b.asFloatBuffer().put(v, off, len);
      md.update(b.array(), 0, len * 4);
    }
  }

  private static void update(MessageDigest md, String s) {
    md.update(s.getBytes(StandardCharsets.UTF_8));
  }

  private static void requireLength(String name, int actual, long expected) {
    if (actual != expected) {
      throw new IllegalArgumentException(
          name + ": length " + actual + " (expected: " + expected + ")");
    }
  }

  /** Reads and checks each tensor of a checkpoint against its configuration. */
  private static final class Loader {
    private final ModelConfig config;
    private final TensorSource source;
    private final LoadOptions options;
    private ForkJoinPool pool;

    Loader(ModelConfig config, TensorSource source, LoadOptions options) {
      this.config = config;
      this.source = source;
      this.options = options;
    }

    BaseCheckpoint load(Path tokenizer) throws IOException {
      pool = new ForkJoinPool(options.parallelism());
      try {
        return loadAll(tokenizer);
      } finally {
        pool.shutdown();
      }
    }

    private BaseCheckpoint loadAll(Path tokenizer) throws IOException {
      long[] embedShape = {config.vocabSize(), config.hiddenSize()};
      short[] embed = f16("model.embed_tokens.weight", embedShape);
      short[] head = config.tieWordEmbeddings() ? embed : f16("lm_head.weight", embedShape);
      float[] norm = norm("model.norm.weight");
      int layers = config.numHiddenLayers();
      float[][] inputNorms = new float[layers][];
      float[][] postNorms = new float[layers][];
      Nf4Tensor[][] projections = new Nf4Tensor[layers][PROJECTIONS];
      String dtype = null;
      for (int i = 0; i < layers; i++) {
        inputNorms[i] = norm(layerNorm(i, "input_layernorm"));
        postNorms[i] = norm(layerNorm(i, "post_attention_layernorm"));
        for (Projection p : Projection.values()) {
          projections[i][p.ordinal()] = projection(i, p);
          if (dtype == null) {
            dtype = dtypeOf(p.weightName(i));
          }
        }
      }
      return new BaseCheckpoint(
          config, embed, head, norm, inputNorms, postNorms, projections, tokenizer, dtype);
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
      return quantize(name, source.floatReader(name), rows, cols);
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
                  java.util.Locale.ROOT,
                  "out of heap while quantizing: the base holds %.2f GB once loaded, the heap"
                      + " is limited to %.2f GB (raise -Xmx)",
                  MemoryReport.estimate(config).totalBytes() / 1e9,
                  Runtime.getRuntime().maxMemory() / 1e9),
              e);
        }
        throw new CheckpointException(
            source.fileOf(name), name, "cannot quantize: " + e.getCause().getMessage(), e);
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
      return floats(name, new long[] {config.hiddenSize()});
    }

    private float[] floats(String name, long[] shape) throws IOException {
      checked(name, shape);
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
                + java.util.Arrays.toString(info.shape())
                + " (expected: "
                + java.util.Arrays.toString(shape)
                + " from config.json)");
      }
    }
  }

  static List<String> fpTensorNames(ModelConfig config) {
    List<String> names = new ArrayList<>();
    names.add("model.embed_tokens.weight");
    for (int i = 0; i < config.numHiddenLayers(); i++) {
      names.add(layerNorm(i, "input_layernorm"));
      names.add(layerNorm(i, "post_attention_layernorm"));
      for (Projection p : Projection.values()) {
        names.add(p.weightName(i));
      }
    }
    names.add("model.norm.weight");
    if (!config.tieWordEmbeddings()) {
      names.add("lm_head.weight");
    }
    return names;
  }
}
