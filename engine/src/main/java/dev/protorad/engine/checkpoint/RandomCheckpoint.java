package dev.protorad.engine.checkpoint;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.protorad.engine.CheckpointException;
import dev.protorad.engine.ModelConfig;
import dev.protorad.engine.safetensors.DType;
import dev.protorad.engine.safetensors.SafetensorsWriter;
import dev.protorad.engine.safetensors.ShardedSafetensors;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import org.jspecify.annotations.Nullable;

/**
 * Writes a Hugging Face Llama checkpoint with random weights (for scale and integration work):
 * {@code config.json}, the tokenizer, and F16, BF16 or F32 safetensors, optionally sharded with a
 * {@code model.safetensors.index.json}. Weights are N(0, 0.02²) and norms are ones, so forward
 * passes stay finite. The same seed gives the same bytes, whatever the thread count; tensors are
 * generated while they are written, so a 7B checkpoint needs little heap.
 */
public final class RandomCheckpoint {
  /** Standard deviation of the random weights (Llama's {@code initializer_range}). */
  public static final double DEFAULT_STD = 0.02;

  /** Where the repository keeps the Llama-2 tokenizer. */
  public static final String REPO_TOKENIZER = "models/llama2-tokenizer/tokenizer.json";

  private static final int SUB_CHUNK = 1 << 16;

  /** Named sizes. */
  public enum Preset {
    /** hidden 256, 4 layers, 4 heads, 2 KV heads, intermediate 704, vocab 32000. */
    TINY(new ModelConfig(256, 704, 4, 4, 2, 1e-5, 10_000.0, 32_000, 2048, false, 1, 2)),
    /** Llama-2-7B: hidden 4096, 32 layers, 32 heads, intermediate 11008, vocab 32000. */
    LLAMA_2_7B(new ModelConfig(4096, 11008, 32, 32, 32, 1e-5, 10_000.0, 32_000, 4096, false, 1, 2));

    @SuppressWarnings("ImmutableEnumChecker") // ModelConfig is a record of final primitives
    private final ModelConfig config;

    Preset(ModelConfig config) {
      this.config = config;
    }

    /** The preset's architecture. */
    public ModelConfig config() {
      return config;
    }

    /** The preset spelled {@code tiny} or {@code llama-2-7b}. */
    public static Preset parse(String name) {
      requireNonNull(name, "name");
      for (Preset p : values()) {
        if (p.cliName().equals(name.toLowerCase(Locale.ROOT))) {
          return p;
        }
      }
      throw new IllegalArgumentException("preset: " + name + " (expected: tiny or llama-2-7b)");
    }

    /** The command-line spelling. */
    public String cliName() {
      return name().toLowerCase(Locale.ROOT).replace("llama_2_7b", "llama-2-7b");
    }
  }

  private final ModelConfig config;
  private final DType dtype;
  private final int shards;
  private final long seed;
  private final double std;
  private final @Nullable Path tokenizer;

  private RandomCheckpoint(Builder b) {
    this.config = b.config;
    this.dtype = b.dtype;
    this.shards = b.shards;
    this.seed = b.seed;
    this.std = b.std;
    this.tokenizer = b.tokenizer;
  }

  /** A builder for a checkpoint of {@code config}. */
  public static Builder builder(ModelConfig config) {
    return new Builder(config);
  }

  /** A builder for a preset. */
  public static Builder builder(Preset preset) {
    return new Builder(requireNonNull(preset, "preset").config());
  }

  /**
   * The repository's Llama-2 tokenizer, found by walking up from the working directory, if there.
   */
  public static Optional<Path> repositoryTokenizer() {
    for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
      Path candidate = dir.resolve(REPO_TOKENIZER);
      if (Files.isRegularFile(candidate)) {
        return Optional.of(candidate);
      }
    }
    return Optional.empty();
  }

  /** Writes the checkpoint into {@code outDir} (created if needed). */
  public void write(Path outDir) throws IOException {
    requireNonNull(outDir, "outDir");
    Files.createDirectories(outDir);
    List<String> names = BaseCheckpoint.fpTensorNames(config);
    List<List<String>> groups = split(names);
    List<String> files = new ArrayList<>();
    for (int s = 0; s < groups.size(); s++) {
      String file =
          groups.size() == 1
              ? "model.safetensors"
              : String.format(Locale.ROOT, "model-%05d-of-%05d.safetensors", s + 1, groups.size());
      SafetensorsWriter w = SafetensorsWriter.create().metadata("format", "pt");
      for (String name : groups.get(s)) {
        add(w, name);
      }
      w.write(outDir.resolve(file));
      files.add(file);
    }
    if (groups.size() > 1) {
      writeIndex(outDir, groups, files);
    }
    ObjectNode json = config.toJsonNode();
    json.put("torch_dtype", torchDtype());
    json.put("initializer_range", std);
    Files.writeString(outDir.resolve("config.json"), ModelConfig.toJson(json));
    if (tokenizer == null) {
      throw new CheckpointException(
          outDir.resolve("tokenizer.json"),
          null,
          "no tokenizer.json to copy: the repository's was not found; name one with tokenizer()");
    }
    BaseCheckpoint.copyTokenizer(tokenizer, outDir);
  }

  /** Total bytes of tensor data the checkpoint holds. */
  public long dataBytes() {
    return BaseCheckpoint.fpTensorNames(config).stream()
        .mapToLong(n -> elements(shape(n)) * dtype.bytes())
        .sum();
  }

  private void add(SafetensorsWriter w, String name) {
    long[] shape = shape(name);
    if (name.endsWith("norm.weight")) {
      w.addGenerated(
          name, dtype, shape, (off, chunk, len) -> java.util.Arrays.fill(chunk, 0, len, 1f));
    } else {
      long tensorSeed = seed * 0x9E3779B97F4A7C15L + name.hashCode();
      w.addGenerated(
          name, dtype, shape, (off, chunk, len) -> gaussian(tensorSeed, off, chunk, len));
    }
  }

  private void gaussian(long tensorSeed, long offset, float[] chunk, int len) {
    int subChunks = (len + SUB_CHUNK - 1) / SUB_CHUNK;
    IntStream.range(0, subChunks)
        .parallel()
        .forEach(
            k -> {
              int from = k * SUB_CHUNK;
              int to = Math.min(len, from + SUB_CHUNK);
              long absolute = (offset + from) / SUB_CHUNK;
              SplittableRandom r =
                  new SplittableRandom(tensorSeed ^ (absolute * 0xBF58476D1CE4E5B9L));
              for (int i = from; i < to; i++) {
                chunk[i] = (float) (r.nextGaussian() * std);
              }
            });
  }

  private long[] shape(String name) {
    long hidden = config.hiddenSize();
    if (name.equals("model.embed_tokens.weight") || name.equals("lm_head.weight")) {
      return new long[] {config.vocabSize(), hidden};
    }
    if (name.endsWith("norm.weight")) {
      return new long[] {hidden};
    }
    for (Projection p : Projection.values()) {
      if (name.endsWith("." + p.moduleName() + ".weight")) {
        return new long[] {p.outFeatures(config), p.inFeatures(config)};
      }
    }
    throw new IllegalStateException("unknown tensor " + name);
  }

  private static long elements(long[] shape) {
    long n = 1;
    for (long d : shape) {
      n *= d;
    }
    return n;
  }

  private List<List<String>> split(List<String> names) {
    long total = names.stream().mapToLong(n -> elements(shape(n))).sum();
    long target = (total + shards - 1) / shards;
    List<List<String>> groups = new ArrayList<>();
    List<String> current = new ArrayList<>();
    long size = 0;
    for (String n : names) {
      if (!current.isEmpty() && size >= target && groups.size() < shards - 1) {
        groups.add(current);
        current = new ArrayList<>();
        size = 0;
      }
      current.add(n);
      size += elements(shape(n));
    }
    groups.add(current);
    return groups;
  }

  private void writeIndex(Path outDir, List<List<String>> groups, List<String> files)
      throws IOException {
    ObjectNode root = config.toJsonNode().objectNode();
    root.putObject("metadata").put("total_size", dataBytes());
    ObjectNode map = root.putObject("weight_map");
    for (int s = 0; s < groups.size(); s++) {
      for (String name : groups.get(s)) {
        map.put(name, files.get(s));
      }
    }
    Files.write(
        outDir.resolve(ShardedSafetensors.INDEX_FILE),
        ModelConfig.toJson(root).getBytes(StandardCharsets.UTF_8));
  }

  private String torchDtype() {
    return switch (dtype) {
      case BF16 -> "bfloat16";
      case F32 -> "float32";
      default -> "float16";
    };
  }

  /** Options of a random checkpoint; each setter checks its argument. */
  public static final class Builder {
    @SuppressWarnings("ImmutableEnumChecker") // ModelConfig is a record of final primitives
    private final ModelConfig config;

    private DType dtype = DType.F16;
    private int shards = 1;
    private long seed = 0;
    private double std = DEFAULT_STD;
    private @Nullable Path tokenizer;

    private Builder(ModelConfig config) {
      this.config = requireNonNull(config, "config");
      this.tokenizer = repositoryTokenizer().orElse(null);
    }

    /** F16 (default), BF16 or F32. */
    public Builder dtype(DType dtype) {
      requireNonNull(dtype, "dtype");
      if (dtype != DType.F16 && dtype != DType.BF16 && dtype != DType.F32) {
        throw new IllegalArgumentException("dtype: " + dtype + " (expected: F16, BF16 or F32)");
      }
      this.dtype = dtype;
      return this;
    }

    /** Number of safetensors files (1 = a single {@code model.safetensors}). */
    public Builder shards(int shards) {
      int tensors = BaseCheckpoint.fpTensorNames(config).size();
      if (shards < 1 || shards > tensors) {
        throw new IllegalArgumentException("shards: " + shards + " (expected: 1.." + tensors + ")");
      }
      this.shards = shards;
      return this;
    }

    /** Seed of the random weights. */
    public Builder seed(long seed) {
      this.seed = seed;
      return this;
    }

    /** Standard deviation of the random weights (default 0.02). */
    public Builder std(double std) {
      if (!(std > 0) || !Double.isFinite(std)) {
        throw new IllegalArgumentException("std: " + std + " (expected: finite, > 0)");
      }
      this.std = std;
      return this;
    }

    /** The {@code tokenizer.json} to copy (default: the repository's Llama-2 tokenizer). */
    public Builder tokenizer(Path tokenizerJson) {
      requireNonNull(tokenizerJson, "tokenizerJson");
      if (!Files.isRegularFile(tokenizerJson)) {
        throw new IllegalArgumentException(
            "tokenizerJson: " + tokenizerJson + " (expected: an existing tokenizer.json)");
      }
      this.tokenizer = tokenizerJson;
      return this;
    }

    /** The configured maker. */
    public RandomCheckpoint build() {
      if (tokenizer == null) {
        throw new IllegalStateException(
            "no tokenizer: pass one, or run inside the repository (" + REPO_TOKENIZER + ")");
      }
      return new RandomCheckpoint(this);
    }
  }
}
