package dev.protorad.bench;

import dev.protorad.engine.ModelConfig;
import dev.protorad.engine.checkpoint.Projection;
import dev.protorad.engine.checkpoint.RandomCheckpoint;
import dev.protorad.engine.model.DecoderWeights;
import dev.protorad.engine.nf4.Nf4;
import dev.protorad.engine.nf4.Nf4Tensor;
import dev.protorad.engine.peft.LoraPair;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.Random;
import java.util.function.BiFunction;

/** Seeded random in-memory weights for engine benchmarks (quantized to NF4 here, in Java). */
final class BenchWeights implements DecoderWeights {

  /** The small model both engine benchmarks use: 4 layers, hidden 512, GQA 8/2, vocab 32000. */
  static final ModelConfig SMALL =
      new ModelConfig(512, 1408, 4, 8, 2, 1e-5, 10_000.0, 32_000, 1024, false, 1, 2);

  private final ModelConfig config;
  private final float[] embed;
  private final float[] head;
  private final float[] ones;
  private final Nf4Tensor[][] projections;
  private final float[][][] originals;

  BenchWeights(ModelConfig c, long seed) {
    this.config = c;
    Random random = new Random(seed);
    embed = gaussian(random, c.vocabSize() * c.hiddenSize(), 1.0);
    head = gaussian(random, c.vocabSize() * c.hiddenSize(), 1.0 / Math.sqrt(c.hiddenSize()));
    ones = new float[c.hiddenSize()];
    java.util.Arrays.fill(ones, 1f);
    projections = new Nf4Tensor[c.numHiddenLayers()][Projection.values().length];
    originals = new float[c.numHiddenLayers()][Projection.values().length][];
    for (int l = 0; l < c.numHiddenLayers(); l++) {
      for (Projection p : Projection.values()) {
        int in = p.inFeatures(c);
        int out = p.outFeatures(c);
        originals[l][p.ordinal()] = gaussian(random, in * out, 1.0 / Math.sqrt(in));
        projections[l][p.ordinal()] = Nf4.quantize(originals[l][p.ordinal()], out, in);
      }
    }
  }

  /** Random LoRA factors of rank {@code r} on all seven projections. */
  static BiFunction<Integer, Projection, Optional<LoraPair>> lora(ModelConfig c, long seed, int r) {
    Random random = new Random(seed);
    LoraPair[][] pairs = new LoraPair[c.numHiddenLayers()][Projection.values().length];
    for (int l = 0; l < c.numHiddenLayers(); l++) {
      for (Projection p : Projection.values()) {
        int in = p.inFeatures(c);
        int out = p.outFeatures(c);
        pairs[l][p.ordinal()] =
            new LoraPair(
                gaussian(random, r * in, 1.0 / Math.sqrt(in)),
                gaussian(random, out * r, 0.1),
                r,
                in,
                out,
                2.0f);
      }
    }
    return (layer, p) -> Optional.of(pairs[layer][p.ordinal()]);
  }

  /** Random token ids (BOS first). */
  static int[] tokens(int n, long seed) {
    Random random = new Random(seed);
    int[] out = new int[n];
    out[0] = 1;
    for (int i = 1; i < n; i++) {
      out[i] = 3 + random.nextInt(31_990);
    }
    return out;
  }

  /** The repository's Llama-2 tokenizer, from the repository root or a module directory. */
  static Path tokenizer() {
    for (String p :
        new String[] {
          "models/llama2-tokenizer/tokenizer.json", "../models/llama2-tokenizer/tokenizer.json"
        }) {
      if (Files.isRegularFile(Path.of(p))) {
        return Path.of(p);
      }
    }
    throw new IllegalStateException("models/llama2-tokenizer/tokenizer.json not found");
  }

  /** Median of {@code runs} timings of {@code task} after {@code warmup} untimed runs, in ms. */
  static double medianMillis(int warmup, int runs, Runnable task) {
    for (int i = 0; i < warmup; i++) {
      task.run();
    }
    double[] times = new double[runs];
    for (int i = 0; i < runs; i++) {
      long t0 = System.nanoTime();
      task.run();
      times[i] = (System.nanoTime() - t0) / 1e6;
    }
    java.util.Arrays.sort(times);
    return times[runs / 2];
  }

  /**
   * The checkpoint a serving benchmark runs on: {@code -Dprotorad.bench.model}, else {@code
   * models/demo-base} when present, else a tiny random checkpoint written under {@code work} (the
   * answers are then meaningless, the costs are not).
   */
  static Path modelDir(Path work) throws IOException {
    String chosen = System.getProperty("protorad.bench.model");
    if (chosen != null) {
      return Path.of(chosen);
    }
    Path demo = Path.of("models", "demo-base");
    if (Files.exists(demo.resolve("config.json"))) {
      return demo;
    }
    Path dir = work.resolve("tiny");
    RandomCheckpoint.builder(RandomCheckpoint.Preset.TINY).seed(1).build().write(dir);
    return dir;
  }

  /**
   * Medians in ms of {@code runs} timings of each task, the tasks run round-robin so that load
   * drifting on a shared machine affects them alike.
   */
  static double[] interleavedMedians(int warmup, int runs, Runnable... tasks) {
    for (int i = 0; i < warmup; i++) {
      for (Runnable t : tasks) {
        t.run();
      }
    }
    double[][] times = new double[tasks.length][runs];
    for (int i = 0; i < runs; i++) {
      for (int k = 0; k < tasks.length; k++) {
        long t0 = System.nanoTime();
        tasks[k].run();
        times[k][i] = (System.nanoTime() - t0) / 1e6;
      }
    }
    double[] medians = new double[tasks.length];
    for (int k = 0; k < tasks.length; k++) {
      java.util.Arrays.sort(times[k]);
      medians[k] = times[k][runs / 2];
    }
    return medians;
  }

  @Override
  public ModelConfig config() {
    return config;
  }

  @Override
  public float[] embedTokens() {
    return embed;
  }

  @Override
  public float[] lmHead() {
    return head;
  }

  @Override
  public Optional<float[]> unquantizedProjection(int layer, Projection p) {
    return Optional.of(originals[layer][p.ordinal()]);
  }

  @Override
  public float[] finalNorm() {
    return ones;
  }

  @Override
  public float[] inputNorm(int layer) {
    return ones;
  }

  @Override
  public float[] postAttentionNorm(int layer) {
    return ones;
  }

  @Override
  public Nf4Tensor projection(int layer, Projection p) {
    return projections[layer][p.ordinal()];
  }

  private static float[] gaussian(Random random, int n, double std) {
    float[] out = new float[n];
    for (int i = 0; i < n; i++) {
      out[i] = (float) (random.nextGaussian() * std);
    }
    return out;
  }
}
