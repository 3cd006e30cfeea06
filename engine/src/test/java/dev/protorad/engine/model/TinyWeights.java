package dev.protorad.engine.model;

import dev.protorad.engine.ModelConfig;
import dev.protorad.engine.checkpoint.Projection;
import dev.protorad.engine.nf4.Nf4;
import dev.protorad.engine.nf4.Nf4Tensor;
import dev.protorad.engine.peft.LoraAdapter;
import dev.protorad.engine.peft.LoraConfig;
import dev.protorad.engine.peft.LoraPair;
import dev.protorad.engine.peft.TargetModules;
import java.nio.file.Path;
import java.util.Optional;
import java.util.Random;
import java.util.function.BiFunction;

/** Seeded random weights for a tiny Llama with the real 32000-token vocabulary. */
final class TinyWeights implements DecoderWeights {

  static final Path TOKENIZER = Path.of("..", "models", "llama2-tokenizer", "tokenizer.json");

  static final ModelConfig CONFIG =
      new ModelConfig(128, 256, 2, 4, 2, 1e-5, 10_000.0, 32_000, 512, false, 1, 2);

  private final ModelConfig config;
  private final float[] embed;
  private final float[] head;
  private final float[] finalNorm;
  private final float[][] inputNorms;
  private final float[][] postNorms;
  private final Nf4Tensor[][] projections;
  private final float[][][] originals;

  private TinyWeights(ModelConfig c, long seed) {
    this.config = c;
    Random random = new Random(seed);
    int v = c.vocabSize();
    int h = c.hiddenSize();
    embed = gaussian(random, v * h, 1.0);
    head = gaussian(random, v * h, 1.0 / Math.sqrt(h));
    finalNorm = norm(random, h);
    inputNorms = new float[c.numHiddenLayers()][];
    postNorms = new float[c.numHiddenLayers()][];
    projections = new Nf4Tensor[c.numHiddenLayers()][Projection.values().length];
    originals = new float[c.numHiddenLayers()][Projection.values().length][];
    for (int l = 0; l < c.numHiddenLayers(); l++) {
      inputNorms[l] = norm(random, h);
      postNorms[l] = norm(random, h);
      for (Projection p : Projection.values()) {
        int in = p.inFeatures(c);
        int out = p.outFeatures(c);
        originals[l][p.ordinal()] = gaussian(random, in * out, 1.0 / Math.sqrt(in));
        projections[l][p.ordinal()] = Nf4.quantize(originals[l][p.ordinal()], out, in);
      }
    }
  }

  static TinyWeights create(long seed) {
    return new TinyWeights(CONFIG, seed);
  }

  static TinyWeights create(ModelConfig config, long seed) {
    return new TinyWeights(config, seed);
  }

  /** Random LoRA factors for every projection, rank {@code r}; {@code B} zero when asked. */
  /** {@link #lora} as a PEFT adapter (all linear projections, alpha 2). */
  static LoraAdapter loraAdapter(ModelConfig c, long seed, int r) {
    BiFunction<Integer, Projection, Optional<LoraPair>> pairs = lora(c, seed, r, false);
    java.util.Map<String, LoraPair> byModule = new java.util.HashMap<>();
    for (int l = 0; l < c.numHiddenLayers(); l++) {
      for (Projection p : Projection.values()) {
        byModule.put(p.modulePath(l), pairs.apply(l, p).orElseThrow());
      }
    }
    return LoraAdapter.of(c, LoraConfig.of(r, 2, TargetModules.allLinear()), byModule);
  }

  static BiFunction<Integer, Projection, Optional<LoraPair>> lora(
      ModelConfig c, long seed, int r, boolean zeroB) {
    Random random = new Random(seed);
    LoraPair[][] pairs = new LoraPair[c.numHiddenLayers()][Projection.values().length];
    for (int l = 0; l < c.numHiddenLayers(); l++) {
      for (Projection p : Projection.values()) {
        int in = p.inFeatures(c);
        int out = p.outFeatures(c);
        float[] a = gaussian(random, r * in, 1.0 / Math.sqrt(in));
        float[] b = zeroB ? new float[out * r] : gaussian(random, out * r, 0.5);
        pairs[l][p.ordinal()] = new LoraPair(a, b, r, in, out, 2.0f / r);
      }
    }
    return (layer, p) -> Optional.of(pairs[layer][p.ordinal()]);
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
    return finalNorm;
  }

  @Override
  public float[] inputNorm(int layer) {
    return inputNorms[layer];
  }

  @Override
  public float[] postAttentionNorm(int layer) {
    return postNorms[layer];
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

  private static float[] norm(Random random, int n) {
    float[] out = new float[n];
    for (int i = 0; i < n; i++) {
      out[i] = (float) (1.0 + 0.1 * random.nextGaussian());
    }
    return out;
  }
}
