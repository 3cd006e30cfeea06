package dev.protorad.engine.checkpoint;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.protorad.engine.CheckpointException;
import dev.protorad.engine.ModelConfig;
import dev.protorad.engine.nf4.BnbLayout;
import dev.protorad.engine.nf4.Nf4Tensor;
import dev.protorad.engine.safetensors.DType;
import dev.protorad.engine.safetensors.HalfFloats;
import dev.protorad.engine.safetensors.SafetensorsException;
import dev.protorad.engine.safetensors.SafetensorsWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

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
  private volatile @Nullable String fingerprint;

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
    try (BaseStream stream = BaseStream.open(dir, options, false, true)) {
      return readAll(stream);
    }
  }

  /**
   * Opens {@code dir} for reading part by part ({@link BaseStream}): for consumers that copy the
   * base elsewhere and need never hold all of it in Java arrays.
   */
  public static BaseStream stream(Path dir, LoadOptions options) throws IOException {
    return BaseStream.open(dir, options);
  }

  private static BaseCheckpoint readAll(BaseStream stream) throws IOException {
    ModelConfig config = stream.config();
    short[] embed = stream.embedTokensF16();
    short[] head = stream.lmHeadF16();
    float[] norm = stream.finalNorm();
    int layers = config.numHiddenLayers();
    float[][] inputNorms = new float[layers][];
    float[][] postNorms = new float[layers][];
    Nf4Tensor[][] projections = new Nf4Tensor[layers][];
    for (int i = 0; i < layers; i++) {
      BaseLayer layer = stream.nextLayer();
      inputNorms[i] = layer.inputNorm();
      postNorms[i] = layer.postAttentionNorm();
      projections[i] = layer.projections();
    }
    return new BaseCheckpoint(
        config,
        embed,
        head,
        norm,
        inputNorms,
        postNorms,
        projections,
        stream.tokenizerJson(),
        stream.sourceDtype());
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
    Fingerprint f = Fingerprint.start(config);
    f.embedTokens(embedTokens);
    f.lmHead(lmHead, tiedEmbeddings());
    f.finalNorm(finalNorm);
    for (int i = 0; i < config.numHiddenLayers(); i++) {
      f.layer(i, inputNorms[i], postAttentionNorms[i], projections[i]);
    }
    return f.finish();
  }

  private static void requireLength(String name, int actual, long expected) {
    if (actual != expected) {
      throw new IllegalArgumentException(
          name + ": length " + actual + " (expected: " + expected + ")");
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
