package dev.protorad.engine.peft;

import static java.util.Objects.requireNonNull;

import dev.protorad.engine.ModelConfig;
import dev.protorad.engine.checkpoint.Projection;
import dev.protorad.engine.safetensors.DType;
import dev.protorad.engine.safetensors.SafetensorsException;
import dev.protorad.engine.safetensors.SafetensorsFile;
import dev.protorad.engine.safetensors.SafetensorsWriter;
import dev.protorad.engine.safetensors.TensorInfo;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.Optional;
import java.util.random.RandomGenerator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * A LoRA adapter in the Hugging Face PEFT format ({@code adapter_config.json} + {@code
 * adapter_model.safetensors}, tensors {@code
 * base_model.model.model.layers.N.{self_attn,mlp}.X_proj.lora_{A,B}.weight}), checked against the
 * base model it runs on.
 *
 * <p>Refused, each with a message naming the file and key or tensor: pickle ({@code
 * adapter_model.bin}), {@code modules_to_save}, biases, DoRA, targets other than the seven
 * projections, tensors the configuration does not call for, shape mismatches and NaN/Inf values.
 */
public final class LoraAdapter {
  /** Configuration file name. */
  public static final String CONFIG_FILE = "adapter_config.json";

  /** Weights file name. */
  public static final String WEIGHTS_FILE = "adapter_model.safetensors";

  private static final String PICKLE_FILE = "adapter_model.bin";
  private static final Pattern KEY =
      Pattern.compile(
          "base_model\\.model\\.model\\.layers\\.(\\d+)\\.(\\w+)\\.(\\w+)\\.lora_([AB])\\.weight");

  private final ModelConfig base;
  private final LoraConfig config;
  private final LoraPair[][] pairs;
  private final @Nullable LabelVocabulary labelVocabulary;

  private LoraAdapter(ModelConfig base, LoraConfig config, LoraPair[][] pairs) {
    this(base, config, pairs, null);
  }

  private LoraAdapter(
      ModelConfig base,
      LoraConfig config,
      LoraPair[][] pairs,
      @Nullable LabelVocabulary labelVocabulary) {
    this.base = base;
    this.config = config;
    this.pairs = pairs;
    this.labelVocabulary = labelVocabulary;
  }

  /**
   * This adapter, marked as trained with a softmax over {@code vocabulary} at label positions
   * (null: over the whole vocabulary). Not part of the PEFT files: the adapter version's metadata
   * records it ({@link LabelVocabulary#HYPER_PARAMETER}).
   */
  public LoraAdapter withLabelVocabulary(@Nullable LabelVocabulary vocabulary) {
    return new LoraAdapter(base, config, pairs, vocabulary);
  }

  /** The label vocabulary this adapter was trained to score against, if it was. */
  public Optional<LabelVocabulary> labelVocabulary() {
    return Optional.ofNullable(labelVocabulary);
  }

  /**
   * A fresh adapter as PEFT initializes one: A Kaiming-uniform ({@code a = sqrt(5)}, i.e. uniform
   * in ±1/sqrt(in)), B zeros, so the adapter starts as the identity on the base.
   */
  public static LoraAdapter create(ModelConfig base, LoraConfig config, RandomGenerator random) {
    requireNonNull(base, "base");
    requireNonNull(config, "config");
    requireNonNull(random, "random");
    checkTargets(base, config);
    LoraPair[][] pairs = new LoraPair[base.numHiddenLayers()][Projection.values().length];
    for (int i = 0; i < base.numHiddenLayers(); i++) {
      for (Projection p : Projection.values()) {
        if (config.targets(i, p)) {
          pairs[i][p.ordinal()] = fresh(base, config, i, p, random);
        }
      }
    }
    return new LoraAdapter(base, config, pairs);
  }

  /** As {@link #create(ModelConfig, LoraConfig, RandomGenerator)} with a seeded generator. */
  public static LoraAdapter create(ModelConfig base, LoraConfig config, long seed) {
    return create(base, config, new java.util.Random(seed));
  }

  /**
   * An adapter from matrices in memory, keyed by module path ({@code
   * model.layers.0.self_attn.q_proj}); every targeted projection must have one, with the shapes and
   * scaling the configuration implies.
   */
  public static LoraAdapter of(ModelConfig base, LoraConfig config, Map<String, LoraPair> pairs) {
    requireNonNull(base, "base");
    requireNonNull(config, "config");
    requireNonNull(pairs, "pairs");
    checkTargets(base, config);
    LoraPair[][] out = new LoraPair[base.numHiddenLayers()][Projection.values().length];
    int used = 0;
    for (int i = 0; i < base.numHiddenLayers(); i++) {
      for (Projection p : Projection.values()) {
        if (!config.targets(i, p)) {
          continue;
        }
        LoraPair pair = pairs.get(p.modulePath(i));
        if (pair == null) {
          throw new IllegalArgumentException("pairs: missing " + p.modulePath(i));
        }
        checkPair(base, config, i, p, pair);
        out[i][p.ordinal()] = pair;
        used++;
      }
    }
    if (used != pairs.size()) {
      throw new IllegalArgumentException(
          "pairs: " + pairs.size() + " entries (expected: " + used + ", one per targeted module)");
    }
    return new LoraAdapter(base, config, out);
  }

  /**
   * Reads an adapter directory and checks it against {@code base}.
   *
   * @throws AdapterException naming the file and key or tensor at fault
   */
  public static LoraAdapter read(Path dir, ModelConfig base) throws IOException {
    requireNonNull(dir, "dir");
    requireNonNull(base, "base");
    Path configFile = dir.resolve(CONFIG_FILE);
    LoraConfig config = AdapterConfigJson.read(configFile);
    try {
      checkTargets(base, config);
    } catch (IllegalArgumentException e) {
      throw new AdapterException(configFile, "target_modules", String.valueOf(e.getMessage()), e);
    }
    Path weights = dir.resolve(WEIGHTS_FILE);
    if (!Files.exists(weights)) {
      if (Files.exists(dir.resolve(PICKLE_FILE))) {
        throw new AdapterException(
            dir.resolve(PICKLE_FILE),
            null,
            "pickle weights are refused (they can run code); save with safetensors");
      }
      throw new AdapterException(weights, null, "file not found");
    }
    SafetensorsFile file = SafetensorsFile.open(weights);
    return new LoraAdapter(base, config, readPairs(file, base, config));
  }

  /**
   * The configuration in {@code dir}'s {@code adapter_config.json}, without reading the weights.
   *
   * @throws AdapterException naming the file and key at fault
   */
  public static LoraConfig readConfig(Path dir) throws IOException {
    return AdapterConfigJson.read(requireNonNull(dir, "dir").resolve(CONFIG_FILE));
  }

  /**
   * These factors under {@code config}, which must target the same modules with the same ranks: for
   * a run that continues training them with, for example, another dropout.
   *
   * @throws IllegalArgumentException naming the first module that does not fit
   */
  public LoraAdapter withConfig(LoraConfig config) {
    requireNonNull(config, "config");
    checkTargets(base, config);
    for (int i = 0; i < pairs.length; i++) {
      for (Projection p : Projection.values()) {
        LoraPair pair = pairs[i][p.ordinal()];
        if (config.targets(i, p) != (pair != null)) {
          throw new IllegalArgumentException(
              "config: "
                  + p.modulePath(i)
                  + (pair == null ? " is targeted but has no factors" : " is not targeted"));
        }
        if (pair != null) {
          checkPair(base, config, i, p, pair);
        }
      }
    }
    return new LoraAdapter(base, config, pairs);
  }

  /** Writes {@code adapter_config.json} and {@code adapter_model.safetensors} (F32). */
  public void write(Path dir) throws IOException {
    requireNonNull(dir, "dir");
    Files.createDirectories(dir);
    SafetensorsWriter w = SafetensorsWriter.create().metadata("format", "pt");
    for (int i = 0; i < pairs.length; i++) {
      for (Projection p : Projection.values()) {
        LoraPair pair = pairs[i][p.ordinal()];
        if (pair != null) {
          w.addFloats(key(i, p, "A"), DType.F32, new long[] {pair.r(), pair.in()}, pair.a());
          w.addFloats(key(i, p, "B"), DType.F32, new long[] {pair.out(), pair.r()}, pair.b());
        }
      }
    }
    w.write(dir.resolve(WEIGHTS_FILE));
    Files.writeString(dir.resolve(CONFIG_FILE), AdapterConfigJson.toJson(config));
  }

  /** The adapter's configuration. */
  public LoraConfig config() {
    return config;
  }

  /** The base configuration it was checked against. */
  public ModelConfig base() {
    return base;
  }

  /** PEFT's scaling for projection {@code p} of layer {@code layer}. */
  public double scaling(int layer, Projection p) {
    return config.scaling(layer, p);
  }

  /** The LoRA matrices of projection {@code p} in layer {@code layer}, if it is targeted. */
  public Optional<LoraPair> pair(int layer, Projection p) {
    if (layer < 0 || layer >= pairs.length) {
      throw new IndexOutOfBoundsException(
          "layer: " + layer + " (expected: 0.." + (pairs.length - 1) + ")");
    }
    return Optional.ofNullable(pairs[layer][requireNonNull(p, "p").ordinal()]);
  }

  /** Bytes held by all LoRA matrices (the weight of this adapter in a cache). */
  public long tensorBytes() {
    long sum = 0;
    for (LoraPair[] layer : pairs) {
      for (LoraPair pair : layer) {
        sum += pair == null ? 0 : pair.bytes();
      }
    }
    return sum;
  }

  /** Number of trainable parameters. */
  public long parameters() {
    return tensorBytes() / 4;
  }

  /** The PEFT tensor name of {@code lora_A} or {@code lora_B} ({@code which}) of a projection. */
  public static String key(int layer, Projection p, String which) {
    return "base_model.model." + p.modulePath(layer) + ".lora_" + which + ".weight";
  }

  private static LoraPair fresh(
      ModelConfig base, LoraConfig config, int layer, Projection p, RandomGenerator random) {
    int r = config.rank(layer, p);
    int in = p.inFeatures(base);
    int out = p.outFeatures(base);
    float[] a = new float[r * in];
    double bound = 1.0 / Math.sqrt(in);
    for (int k = 0; k < a.length; k++) {
      a[k] = (float) ((random.nextDouble() * 2 - 1) * bound);
    }
    return new LoraPair(a, new float[out * r], r, in, out, (float) config.scaling(layer, p));
  }

  private static void checkTargets(ModelConfig base, LoraConfig config) {
    TargetModules targets = config.targetModules();
    boolean any = false;
    for (int i = 0; i < base.numHiddenLayers(); i++) {
      for (Projection p : Projection.values()) {
        any |= config.targets(i, p);
      }
    }
    if (!any) {
      throw new IllegalArgumentException(
          "target_modules: " + targets + " matches none of q_proj … down_proj in this base");
    }
    if (targets.names().isPresent()) {
      for (String name : targets.names().get()) {
        if (!matchesSomeProjection(base, name)) {
          throw new IllegalArgumentException(
              "target_modules: unknown or unsupported module "
                  + name
                  + " (expected: q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj)");
        }
      }
    }
  }

  private static boolean matchesSomeProjection(ModelConfig base, String name) {
    TargetModules single = TargetModules.of(name);
    for (int i = 0; i < base.numHiddenLayers(); i++) {
      for (Projection p : Projection.values()) {
        if (single.matches(i, p)) {
          return true;
        }
      }
    }
    return false;
  }

  private static void checkPair(
      ModelConfig base, LoraConfig config, int layer, Projection p, LoraPair pair) {
    int r = config.rank(layer, p);
    if (pair.r() != r || pair.in() != p.inFeatures(base) || pair.out() != p.outFeatures(base)) {
      throw new IllegalArgumentException(
          p.modulePath(layer)
              + ": r, in, out = "
              + pair.r()
              + ", "
              + pair.in()
              + ", "
              + pair.out()
              + " (expected: "
              + r
              + ", "
              + p.inFeatures(base)
              + ", "
              + p.outFeatures(base)
              + ")");
    }
  }

  private static LoraPair[][] readPairs(SafetensorsFile file, ModelConfig base, LoraConfig config)
      throws IOException {
    for (String name : file.names()) {
      checkKey(file, base, config, name);
    }
    LoraPair[][] pairs = new LoraPair[base.numHiddenLayers()][Projection.values().length];
    for (int i = 0; i < base.numHiddenLayers(); i++) {
      for (Projection p : Projection.values()) {
        if (config.targets(i, p)) {
          pairs[i][p.ordinal()] = readPair(file, base, config, i, p);
        }
      }
    }
    return pairs;
  }

  private static void checkKey(
      SafetensorsFile file, ModelConfig base, LoraConfig config, String name)
      throws AdapterException {
    Matcher m = KEY.matcher(name);
    if (!m.matches()) {
      throw new AdapterException(
          file.path(),
          name,
          "unexpected tensor (only lora_A/lora_B of the seven projections are supported;"
              + " modules_to_save, embeddings, biases and DoRA are refused)");
    }
    int layer = parseLayer(m.group(1));
    Optional<Projection> p = Projection.fromModuleName(m.group(3));
    if (p.isEmpty() || !p.get().parent().equals(m.group(2))) {
      throw new AdapterException(
          file.path(), name, "unknown module " + m.group(2) + "." + m.group(3));
    }
    if (layer >= base.numHiddenLayers()) {
      throw new AdapterException(
          file.path(),
          name,
          "layer " + m.group(1) + " beyond the base's " + base.numHiddenLayers() + " layers");
    }
    if (!config.targets(layer, p.get())) {
      throw new AdapterException(
          file.path(), name, "module not in target_modules " + config.targetModules());
    }
  }

  private static int parseLayer(String digits) {
    try {
      return Integer.parseInt(digits);
    } catch (NumberFormatException e) {
      return Integer.MAX_VALUE;
    }
  }

  private static LoraPair readPair(
      SafetensorsFile file, ModelConfig base, LoraConfig config, int layer, Projection p)
      throws IOException {
    int r = config.rank(layer, p);
    int in = p.inFeatures(base);
    int out = p.outFeatures(base);
    float[] a = matrix(file, key(layer, p, "A"), r, in);
    float[] b = matrix(file, key(layer, p, "B"), out, r);
    return new LoraPair(a, b, r, in, out, (float) config.scaling(layer, p));
  }

  private static float[] matrix(SafetensorsFile file, String name, int rows, int cols)
      throws IOException {
    if (!file.contains(name)) {
      throw new AdapterException(file.path(), name, "tensor missing for a targeted module");
    }
    TensorInfo info = file.info(name);
    if (!info.dtype().isFloatingPoint()) {
      throw new AdapterException(
          file.path(), name, "dtype " + info.dtype() + " (expected: F32, F16 or BF16)");
    }
    if (!info.hasShape(rows, cols)) {
      throw new AdapterException(
          file.path(),
          name,
          "shape "
              + Arrays.toString(info.shape())
              + " (expected: ["
              + rows
              + ", "
              + cols
              + "] from the base config and r)");
    }
    try {
      return file.finiteFloats(name);
    } catch (SafetensorsException e) {
      throw new AdapterException(file.path(), name, String.valueOf(e.getMessage()), e);
    }
  }
}
