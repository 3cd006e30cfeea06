package dev.protorad.engine.peft;

import static java.util.Objects.requireNonNull;

import dev.protorad.engine.checkpoint.Projection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * The LoRA part of a PEFT {@code adapter_config.json}.
 *
 * @param r default rank
 * @param loraAlpha default alpha
 * @param targetModules which projections carry an adapter
 * @param useRslora scale by {@code alpha / sqrt(r)} instead of {@code alpha / r}
 * @param rankPattern per-module ranks; keys matched as PEFT does (first key, in order, such that
 *     the module name matches {@code (.*\.)?(key)$})
 * @param alphaPattern per-module alphas, matched the same way
 * @param loraDropout dropout on the adapter input during training
 * @param baseModelNameOrPath the base the adapter was trained on (may be empty)
 */
public record LoraConfig(
    int r,
    double loraAlpha,
    TargetModules targetModules,
    boolean useRslora,
    Map<String, Integer> rankPattern,
    Map<String, Double> alphaPattern,
    double loraDropout,
    String baseModelNameOrPath) {

  /** Checks ranks, alphas and dropout; copies the patterns, keeping their order. */
  public LoraConfig {
    if (r <= 0) {
      throw new IllegalArgumentException("r: " + r + " (expected: > 0)");
    }
    requireFiniteAlpha("lora_alpha", loraAlpha);
    requireNonNull(targetModules, "targetModules");
    rankPattern = Collections.unmodifiableMap(new LinkedHashMap<>(rankPattern));
    alphaPattern = Collections.unmodifiableMap(new LinkedHashMap<>(alphaPattern));
    rankPattern.forEach(
        (k, v) -> {
          if (v == null || v <= 0) {
            throw new IllegalArgumentException("rank_pattern." + k + ": " + v + " (expected: > 0)");
          }
        });
    alphaPattern.forEach((k, v) -> requireFiniteAlpha("alpha_pattern." + k, v));
    rankPattern.keySet().forEach(k -> requireRegex("rank_pattern", k));
    alphaPattern.keySet().forEach(k -> requireRegex("alpha_pattern", k));
    if (!(loraDropout >= 0 && loraDropout < 1)) {
      throw new IllegalArgumentException("lora_dropout: " + loraDropout + " (expected: [0, 1))");
    }
    requireNonNull(baseModelNameOrPath, "baseModelNameOrPath");
  }

  /** A plain configuration: no patterns, no rsLoRA, no dropout. */
  public static LoraConfig of(int r, double loraAlpha, TargetModules targetModules) {
    return new LoraConfig(r, loraAlpha, targetModules, false, Map.of(), Map.of(), 0.0, "");
  }

  /** This configuration with rsLoRA on or off. */
  public LoraConfig withRslora(boolean on) {
    return new LoraConfig(
        r,
        loraAlpha,
        targetModules,
        on,
        rankPattern,
        alphaPattern,
        loraDropout,
        baseModelNameOrPath);
  }

  /** This configuration with other rank and alpha patterns. */
  public LoraConfig withPatterns(Map<String, Integer> ranks, Map<String, Double> alphas) {
    return new LoraConfig(
        r, loraAlpha, targetModules, useRslora, ranks, alphas, loraDropout, baseModelNameOrPath);
  }

  /** This configuration with another base model name. */
  public LoraConfig withBaseModel(String name) {
    return new LoraConfig(
        r, loraAlpha, targetModules, useRslora, rankPattern, alphaPattern, loraDropout, name);
  }

  /** This configuration with another dropout. */
  public LoraConfig withDropout(double dropout) {
    return new LoraConfig(
        r,
        loraAlpha,
        targetModules,
        useRslora,
        rankPattern,
        alphaPattern,
        dropout,
        baseModelNameOrPath);
  }

  /** Whether projection {@code p} of layer {@code layer} carries an adapter. */
  public boolean targets(int layer, Projection p) {
    return targetModules.matches(layer, p);
  }

  /** The rank of projection {@code p} in layer {@code layer} (rank_pattern, else r). */
  public int rank(int layer, Projection p) {
    String key = patternKey(rankPattern, p.modulePath(layer));
    return rankPattern.getOrDefault(key, r);
  }

  /** The alpha of projection {@code p} in layer {@code layer} (alpha_pattern, else lora_alpha). */
  public double alpha(int layer, Projection p) {
    String key = patternKey(alphaPattern, p.modulePath(layer));
    return alphaPattern.getOrDefault(key, loraAlpha);
  }

  /** PEFT's scaling: {@code alpha / r}, or {@code alpha / sqrt(r)} with rsLoRA. */
  public double scaling(int layer, Projection p) {
    int rank = rank(layer, p);
    double alpha = alpha(layer, p);
    return useRslora ? alpha / Math.sqrt(rank) : alpha / rank;
  }

  /**
   * PEFT's {@code get_pattern_key}: the first pattern key (in order) such that the module name
   * matches {@code (.*\.)?(key)$}, else the module name itself.
   */
  static String patternKey(Map<String, ?> patterns, String modulePath) {
    for (String key : patterns.keySet()) {
      if (Pattern.compile("(.*\\.)?(" + key + ")$").matcher(modulePath).matches()) {
        return key;
      }
    }
    return modulePath;
  }

  private static void requireRegex(String field, String key) {
    try {
      Pattern.compile(key);
    } catch (PatternSyntaxException e) {
      throw new IllegalArgumentException(
          field + ": key " + key + " (expected: a valid regular expression)", e);
    }
  }

  private static void requireFiniteAlpha(String key, Double alpha) {
    if (alpha == null || !Double.isFinite(alpha)) {
      throw new IllegalArgumentException(key + ": " + alpha + " (expected: a finite number)");
    }
  }
}
