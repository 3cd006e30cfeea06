package dev.protorad.testing;

import dev.protorad.clinical.catalog.Catalog;
import dev.protorad.engine.ModelConfig;
import dev.protorad.engine.checkpoint.BaseCheckpoint;
import dev.protorad.engine.checkpoint.Projection;
import dev.protorad.engine.nf4.Nf4;
import dev.protorad.engine.nf4.Nf4Tensor;
import dev.protorad.engine.safetensors.HalfFloats;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/** A seeded tiny NF4 base with the real Llama-2 vocabulary, and a three-protocol catalog. */
public final class TinyBase {

  /** The repository's Llama-2 tokenizer. */
  public static final Path TOKENIZER =
      Path.of("..", "models", "llama2-tokenizer", "tokenizer.json");

  /** Hidden 64, one layer, two heads, tied embeddings. */
  public static final ModelConfig CONFIG = ModelConfig.of(64, 128, 1, 2, 2, 32_000, 256, true);

  /** Three protocols with short names. */
  public static final Catalog CATALOG =
      Catalog.parse(
          """
          protocols:
            - id: ct-head-wo
              name: CT Head WO Contrast
              modality: CT
              region: head
              contrast: none
              indications: [head trauma]
            - id: ct-chest-w
              name: CT Chest W Contrast
              modality: CT
              region: chest
              contrast: iv
              indications: [lung mass]
            - id: us-pelvis
              name: US Pelvis
              modality: US
              region: pelvis
              contrast: none
              indications: [pelvic pain]
          rules: []
          """,
          "tiny.yaml");

  private TinyBase() {}

  /** The base for {@code seed}. */
  public static BaseCheckpoint create(long seed) {
    return create(seed, CONFIG);
  }

  /** As {@link #create(long)} with {@code layers} decoder layers instead of one. */
  public static BaseCheckpoint create(long seed, int layers) {
    return create(seed, ModelConfig.of(64, 128, layers, 2, 2, 32_000, 256, true));
  }

  /** As {@link #create(long)} with an LM head of its own (untied, as Llama-2 and Meditron). */
  public static BaseCheckpoint untied(long seed) {
    return create(seed, ModelConfig.of(64, 128, 1, 2, 2, 32_000, 256, false));
  }

  private static BaseCheckpoint create(long seed, ModelConfig c) {
    SplittableRandom r = new SplittableRandom(seed);
    short[] embed = HalfFloats.floatToF16(gaussian(r, c.vocabSize() * c.hiddenSize(), 0.05));
    float[] ones = new float[c.hiddenSize()];
    Arrays.fill(ones, 1f);
    int layers = c.numHiddenLayers();
    float[][] norms = new float[layers][];
    Nf4Tensor[][] projections = new Nf4Tensor[layers][Projection.values().length];
    for (int l = 0; l < layers; l++) {
      norms[l] = ones.clone();
      for (Projection p : Projection.values()) {
        int in = p.inFeatures(c);
        int out = p.outFeatures(c);
        projections[l][p.ordinal()] =
            Nf4.quantize(gaussian(r, in * out, 1.0 / Math.sqrt(in)), out, in);
      }
    }
    short[] head =
        c.tieWordEmbeddings()
            ? embed
            : HalfFloats.floatToF16(gaussian(r, c.vocabSize() * c.hiddenSize(), 0.05));
    return BaseCheckpoint.of(c, embed, head, ones, norms, norms, projections, TOKENIZER);
  }

  /** A JSONL dataset: {@code perLabel} short notes for each tiny-catalog label, no split field. */
  public static byte[] jsonl(int perLabel) {
    List<String[]> kinds =
        List.of(
            new String[] {"ct-head-wo", "fall with head strike, confusion"},
            new String[] {"ct-chest-w", "new lung mass on x-ray, staging"},
            new String[] {"us-pelvis", "pelvic pain, r/o ovarian cyst"});
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < perLabel; i++) {
      for (String[] k : kinds) {
        sb.append("{\"note\": \"")
            .append(k[1])
            .append(" #")
            .append(i)
            .append("\", \"label\": \"")
            .append(k[0])
            .append("\"}\n");
      }
    }
    return sb.toString().getBytes(StandardCharsets.UTF_8);
  }

  private static float[] gaussian(SplittableRandom r, int n, double std) {
    float[] out = new float[n];
    for (int i = 0; i < n; i++) {
      out[i] = (float) (r.nextGaussian() * std);
    }
    return out;
  }
}
