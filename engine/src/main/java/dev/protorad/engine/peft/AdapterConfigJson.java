package dev.protorad.engine.peft;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Reads and writes the LoRA part of {@code adapter_config.json}, refusing what is not honoured. */
final class AdapterConfigJson {
  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private AdapterConfigJson() {}

  static LoraConfig read(Path file) throws AdapterException {
    JsonNode root;
    try {
      root = JSON.readTree(Files.readString(file));
    } catch (NoSuchFileException e) {
      throw new AdapterException(file, null, "file not found", e);
    } catch (IOException e) {
      throw new AdapterException(file, null, "not valid JSON (" + e.getMessage() + ")", e);
    }
    if (root == null || !root.isObject()) {
      throw new AdapterException(file, null, "not a JSON object");
    }
    refuseUnsupported(file, root);
    try {
      return new LoraConfig(
          requiredInt(file, root, "r"),
          number(file, root, "lora_alpha", Double.NaN),
          targets(file, root),
          root.path("use_rslora").asBoolean(false),
          rankPattern(file, root),
          alphaPattern(file, root),
          number(file, root, "lora_dropout", 0.0),
          root.path("base_model_name_or_path").asText(""));
    } catch (IllegalArgumentException e) {
      throw new AdapterException(file, null, String.valueOf(e.getMessage()), e);
    }
  }

  static String toJson(LoraConfig c) {
    ObjectNode root = JSON.createObjectNode();
    root.put("peft_type", "LORA");
    root.put("task_type", "CAUSAL_LM");
    root.put("base_model_name_or_path", c.baseModelNameOrPath());
    root.put("r", c.r());
    root.put("lora_alpha", c.loraAlpha());
    root.put("lora_dropout", c.loraDropout());
    if (c.targetModules().names().isPresent()) {
      ArrayNode t = root.putArray("target_modules");
      c.targetModules().names().get().forEach(t::add);
    } else {
      root.put("target_modules", c.targetModules().expression().orElseThrow());
    }
    root.put("use_rslora", c.useRslora());
    ObjectNode ranks = root.putObject("rank_pattern");
    c.rankPattern().forEach(ranks::put);
    ObjectNode alphas = root.putObject("alpha_pattern");
    c.alphaPattern().forEach(alphas::put);
    root.put("bias", "none");
    root.put("fan_in_fan_out", false);
    root.put("inference_mode", true);
    root.put("init_lora_weights", true);
    root.putNull("modules_to_save");
    root.putNull("layers_to_transform");
    root.putNull("layers_pattern");
    root.put("use_dora", false);
    try {
      return JSON.writeValueAsString(root) + "\n";
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  private static void refuseUnsupported(Path file, JsonNode root) throws AdapterException {
    String type = root.path("peft_type").asText("LORA");
    if (!type.equals("LORA")) {
      throw new AdapterException(file, "peft_type", type + " (expected: LORA)");
    }
    JsonNode save = root.get("modules_to_save");
    if (save != null && !save.isNull() && !(save.isArray() && save.size() == 0)) {
      throw new AdapterException(
          file, "modules_to_save", save + " (expected: null; full-module copies are refused)");
    }
    String bias = root.path("bias").asText("none");
    if (!bias.equals("none")) {
      throw new AdapterException(file, "bias", bias + " (expected: none)");
    }
    for (String key : List.of("use_dora", "fan_in_fan_out", "lora_bias")) {
      if (root.path(key).asBoolean(false)) {
        throw new AdapterException(file, key, "true (expected: false; unsupported)");
      }
    }
    for (String key :
        List.of(
            "layers_to_transform",
            "layers_pattern",
            "exclude_modules",
            "target_parameters",
            "trainable_token_indices")) {
      JsonNode v = root.get(key);
      if (v != null && !v.isNull() && !(v.isArray() && v.size() == 0)) {
        throw new AdapterException(file, key, v + " (expected: null; unsupported)");
      }
    }
  }

  private static TargetModules targets(Path file, JsonNode root) throws AdapterException {
    JsonNode t = root.get("target_modules");
    if (t != null && t.isTextual()) {
      return TargetModules.parse(t.textValue());
    }
    if (t == null || !t.isArray() || t.size() == 0) {
      throw new AdapterException(
          file, "target_modules", t + " (expected: a list of module names or a string)");
    }
    List<String> names = new ArrayList<>();
    for (JsonNode n : t) {
      if (!n.isTextual()) {
        throw new AdapterException(file, "target_modules", t + " (expected: strings)");
      }
      names.add(n.textValue());
    }
    return TargetModules.of(names);
  }

  private static Map<String, Integer> rankPattern(Path file, JsonNode root)
      throws AdapterException {
    Map<String, Integer> out = new LinkedHashMap<>();
    for (Map.Entry<String, JsonNode> e : entries(file, root, "rank_pattern")) {
      if (!e.getValue().canConvertToInt() || !e.getValue().isIntegralNumber()) {
        throw new AdapterException(
            file, "rank_pattern." + e.getKey(), e.getValue() + " (expected: an integer)");
      }
      out.put(e.getKey(), e.getValue().intValue());
    }
    return out;
  }

  private static Map<String, Double> alphaPattern(Path file, JsonNode root)
      throws AdapterException {
    Map<String, Double> out = new LinkedHashMap<>();
    for (Map.Entry<String, JsonNode> e : entries(file, root, "alpha_pattern")) {
      if (!e.getValue().isNumber()) {
        throw new AdapterException(
            file, "alpha_pattern." + e.getKey(), e.getValue() + " (expected: a number)");
      }
      out.put(e.getKey(), e.getValue().doubleValue());
    }
    return out;
  }

  private static List<Map.Entry<String, JsonNode>> entries(Path file, JsonNode root, String key)
      throws AdapterException {
    JsonNode node = root.get(key);
    List<Map.Entry<String, JsonNode>> out = new ArrayList<>();
    if (node == null || node.isNull()) {
      return out;
    }
    if (!node.isObject()) {
      throw new AdapterException(file, key, node + " (expected: an object)");
    }
    for (Map.Entry<String, JsonNode> e : node.properties()) {
      out.add(e);
    }
    return out;
  }

  private static int requiredInt(Path file, JsonNode root, String key) throws AdapterException {
    JsonNode n = root.get(key);
    if (n == null || !n.isIntegralNumber() || !n.canConvertToInt()) {
      throw new AdapterException(file, key, n + " (expected: a positive integer)");
    }
    return n.intValue();
  }

  private static double number(Path file, JsonNode root, String key, double def)
      throws AdapterException {
    JsonNode n = root.get(key);
    if (n == null || n.isNull()) {
      if (Double.isNaN(def)) {
        throw new AdapterException(file, key, "missing (expected: a number)");
      }
      return def;
    }
    if (!n.isNumber()) {
      throw new AdapterException(file, key, n + " (expected: a number)");
    }
    return n.doubleValue();
  }
}
