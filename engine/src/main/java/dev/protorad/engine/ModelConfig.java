package dev.protorad.engine;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * The architecture of a Llama-family base model, as read from a Hugging Face {@code config.json}
 * ({@code LlamaForCausalLM} only).
 *
 * <p>Every error names the {@code config.json} key at fault and the value expected.
 *
 * @param hiddenSize {@code hidden_size}
 * @param intermediateSize {@code intermediate_size} (the SwiGLU MLP width)
 * @param numHiddenLayers {@code num_hidden_layers}
 * @param numAttentionHeads {@code num_attention_heads}
 * @param numKeyValueHeads {@code num_key_value_heads} (grouped-query attention; defaults to the
 *     number of heads)
 * @param rmsNormEps {@code rms_norm_eps}
 * @param ropeTheta {@code rope_theta} (default 10000)
 * @param vocabSize {@code vocab_size} (any positive value, e.g. 32017)
 * @param maxPositionEmbeddings {@code max_position_embeddings}
 * @param tieWordEmbeddings {@code tie_word_embeddings}: the LM head reuses the embeddings
 * @param bosTokenId {@code bos_token_id} (default 1)
 * @param eosTokenId {@code eos_token_id} (default 2)
 */
public record ModelConfig(
    int hiddenSize,
    int intermediateSize,
    int numHiddenLayers,
    int numAttentionHeads,
    int numKeyValueHeads,
    double rmsNormEps,
    double ropeTheta,
    int vocabSize,
    int maxPositionEmbeddings,
    boolean tieWordEmbeddings,
    int bosTokenId,
    int eosTokenId) {

  /** The only architecture accepted. */
  public static final String ARCHITECTURE = "LlamaForCausalLM";

  /** Default {@code rope_theta} when the key is absent. */
  public static final double DEFAULT_ROPE_THETA = 10_000.0;

  /** Default {@code rms_norm_eps} when the key is absent. */
  public static final double DEFAULT_RMS_NORM_EPS = 1e-6;

  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  /** Validates every field; messages name the {@code config.json} key. */
  public ModelConfig {
    positive("hidden_size", hiddenSize);
    positive("intermediate_size", intermediateSize);
    positive("num_hidden_layers", numHiddenLayers);
    positive("num_attention_heads", numAttentionHeads);
    positive("num_key_value_heads", numKeyValueHeads);
    positive("vocab_size", vocabSize);
    positive("max_position_embeddings", maxPositionEmbeddings);
    if (hiddenSize % numAttentionHeads != 0) {
      throw new IllegalArgumentException(
          "hidden_size: "
              + hiddenSize
              + " (expected: a multiple of num_attention_heads="
              + numAttentionHeads
              + ")");
    }
    if (numAttentionHeads % numKeyValueHeads != 0) {
      throw new IllegalArgumentException(
          "num_key_value_heads: "
              + numKeyValueHeads
              + " (expected: a divisor of num_attention_heads="
              + numAttentionHeads
              + ")");
    }
    if ((hiddenSize / numAttentionHeads) % 2 != 0) {
      throw new IllegalArgumentException(
          "hidden_size: "
              + hiddenSize
              + " (expected: hidden_size / num_attention_heads even, for rotary embeddings)");
    }
    if (!(rmsNormEps > 0) || !Double.isFinite(rmsNormEps) || rmsNormEps >= 1) {
      throw new IllegalArgumentException(
          "rms_norm_eps: " + rmsNormEps + " (expected: a finite value in (0, 1))");
    }
    if (!(ropeTheta > 0) || !Double.isFinite(ropeTheta)) {
      throw new IllegalArgumentException(
          "rope_theta: " + ropeTheta + " (expected: a finite value > 0)");
    }
    tokenId("bos_token_id", bosTokenId, vocabSize);
    tokenId("eos_token_id", eosTokenId, vocabSize);
  }

  /**
   * A configuration with the usual defaults: no GQA unless {@code numKeyValueHeads} differs,
   * rope_theta 10000, rms_norm_eps 1e-6, bos 1, eos 2.
   */
  public static ModelConfig of(
      int hiddenSize,
      int intermediateSize,
      int numHiddenLayers,
      int numAttentionHeads,
      int numKeyValueHeads,
      int vocabSize,
      int maxPositionEmbeddings,
      boolean tieWordEmbeddings) {
    return new ModelConfig(
        hiddenSize,
        intermediateSize,
        numHiddenLayers,
        numAttentionHeads,
        numKeyValueHeads,
        DEFAULT_RMS_NORM_EPS,
        DEFAULT_ROPE_THETA,
        vocabSize,
        maxPositionEmbeddings,
        tieWordEmbeddings,
        1,
        2);
  }

  /** Dimension of one attention head: {@code hidden_size / num_attention_heads}. */
  public int headDim() {
    return hiddenSize / numAttentionHeads;
  }

  /** Width of the key and value projections: {@code num_key_value_heads * head_dim}. */
  public int kvDim() {
    return numKeyValueHeads * headDim();
  }

  /** Query heads sharing one key/value head. */
  public int groupSize() {
    return numAttentionHeads / numKeyValueHeads;
  }

  /**
   * Reads {@code config.json}.
   *
   * @throws CheckpointException naming the file and key when it is missing, not JSON, not a {@code
   *     LlamaForCausalLM}, or a field is out of range
   */
  public static ModelConfig read(Path configJson) throws IOException {
    String text;
    try {
      text = Files.readString(configJson);
    } catch (NoSuchFileException e) {
      throw new CheckpointException(configJson, null, "file not found", e);
    }
    try {
      return fromJson(text);
    } catch (IllegalArgumentException e) {
      throw new CheckpointException(configJson, null, String.valueOf(e.getMessage()), e);
    }
  }

  /**
   * Parses the text of a {@code config.json}.
   *
   * @throws IllegalArgumentException naming the key at fault
   */
  public static ModelConfig fromJson(String json) {
    JsonNode root;
    try {
      root = JSON.readTree(json);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("not valid JSON (" + e.getOriginalMessage() + ")", e);
    }
    if (root == null || !root.isObject()) {
      throw new IllegalArgumentException("not a JSON object");
    }
    checkArchitecture(root);
    checkUnsupported(root);
    int heads = requiredInt(root, "num_attention_heads");
    int hidden = requiredInt(root, "hidden_size");
    if (root.hasNonNull("head_dim") && intValue(root, "head_dim") != hidden / heads) {
      throw new IllegalArgumentException(
          "head_dim: "
              + root.get("head_dim")
              + " (expected: hidden_size / num_attention_heads = "
              + hidden / heads
              + ")");
    }
    return new ModelConfig(
        hidden,
        requiredInt(root, "intermediate_size"),
        requiredInt(root, "num_hidden_layers"),
        heads,
        root.hasNonNull("num_key_value_heads") ? intValue(root, "num_key_value_heads") : heads,
        optionalDouble(root, "rms_norm_eps", DEFAULT_RMS_NORM_EPS),
        optionalDouble(root, "rope_theta", DEFAULT_ROPE_THETA),
        requiredInt(root, "vocab_size"),
        requiredInt(root, "max_position_embeddings"),
        optionalBoolean(root, "tie_word_embeddings", false),
        root.hasNonNull("bos_token_id") ? intValue(root, "bos_token_id") : 1,
        root.hasNonNull("eos_token_id") ? intValue(root, "eos_token_id") : 2);
  }

  /** This configuration as a Hugging Face {@code config.json} tree. */
  public ObjectNode toJsonNode() {
    ObjectNode root = JSON.createObjectNode();
    root.putArray("architectures").add(ARCHITECTURE);
    root.put("model_type", "llama");
    root.put("hidden_act", "silu");
    root.put("hidden_size", hiddenSize);
    root.put("intermediate_size", intermediateSize);
    root.put("num_hidden_layers", numHiddenLayers);
    root.put("num_attention_heads", numAttentionHeads);
    root.put("num_key_value_heads", numKeyValueHeads);
    root.put("rms_norm_eps", rmsNormEps);
    root.put("rope_theta", ropeTheta);
    root.putNull("rope_scaling");
    root.put("vocab_size", vocabSize);
    root.put("max_position_embeddings", maxPositionEmbeddings);
    root.put("tie_word_embeddings", tieWordEmbeddings);
    root.put("bos_token_id", bosTokenId);
    root.put("eos_token_id", eosTokenId);
    root.put("attention_bias", false);
    return root;
  }

  /** This configuration as the text of a Hugging Face {@code config.json}. */
  public String toJson() {
    return toJson(toJsonNode());
  }

  /** Pretty-prints a JSON tree the way this class writes {@code config.json}. */
  public static String toJson(JsonNode node) {
    try {
      return JSON.writeValueAsString(node) + "\n";
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  private static void checkArchitecture(JsonNode root) {
    JsonNode archs = root.get("architectures");
    if (archs == null || !archs.isArray() || archs.size() == 0) {
      throw new IllegalArgumentException(
          "architectures: " + archs + " (expected: [\"" + ARCHITECTURE + "\"])");
    }
    for (JsonNode a : archs) {
      if (!ARCHITECTURE.equals(a.asText())) {
        throw new IllegalArgumentException(
            "architectures: "
                + archs
                + " (unsupported architecture; expected: [\""
                + ARCHITECTURE
                + "\"])");
      }
    }
  }

  private static void checkUnsupported(JsonNode root) {
    if (root.hasNonNull("hidden_act") && !"silu".equals(root.get("hidden_act").asText())) {
      throw new IllegalArgumentException(
          "hidden_act: " + root.get("hidden_act") + " (expected: \"silu\")");
    }
    if (root.hasNonNull("rope_scaling")) {
      throw new IllegalArgumentException(
          "rope_scaling: " + root.get("rope_scaling") + " (expected: null; scaling unsupported)");
    }
    for (String key : new String[] {"attention_bias", "mlp_bias"}) {
      if (root.path(key).asBoolean(false)) {
        throw new IllegalArgumentException(key + ": true (expected: false; biases unsupported)");
      }
    }
  }

  private static int requiredInt(JsonNode root, String key) {
    if (!root.hasNonNull(key)) {
      throw new IllegalArgumentException(key + ": missing (expected: a positive integer)");
    }
    return intValue(root, key);
  }

  private static int intValue(JsonNode root, String key) {
    JsonNode n = root.get(key);
    if (!n.isIntegralNumber() || !n.canConvertToInt()) {
      if (n.isArray() && key.endsWith("_token_id") && n.size() > 0 && n.get(0).canConvertToInt()) {
        return n.get(0).intValue();
      }
      throw new IllegalArgumentException(key + ": " + n + " (expected: an integer)");
    }
    return n.intValue();
  }

  private static double optionalDouble(JsonNode root, String key, double def) {
    if (!root.hasNonNull(key)) {
      return def;
    }
    JsonNode n = root.get(key);
    if (!n.isNumber()) {
      throw new IllegalArgumentException(key + ": " + n + " (expected: a number)");
    }
    return n.doubleValue();
  }

  private static boolean optionalBoolean(JsonNode root, String key, boolean def) {
    if (!root.hasNonNull(key)) {
      return def;
    }
    JsonNode n = root.get(key);
    if (!n.isBoolean()) {
      throw new IllegalArgumentException(key + ": " + n + " (expected: true or false)");
    }
    return n.booleanValue();
  }

  private static void positive(String key, int value) {
    if (value <= 0) {
      throw new IllegalArgumentException(key + ": " + value + " (expected: > 0)");
    }
  }

  private static void tokenId(String key, int id, int vocabSize) {
    if (id < 0 || id >= vocabSize) {
      throw new IllegalArgumentException(
          key + ": " + id + " (expected: 0.." + (vocabSize - 1) + ")");
    }
  }
}
