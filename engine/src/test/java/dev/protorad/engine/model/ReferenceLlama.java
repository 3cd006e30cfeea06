package dev.protorad.engine.model;

import dev.protorad.engine.ModelConfig;
import dev.protorad.engine.checkpoint.Projection;
import dev.protorad.engine.nf4.Nf4;
import dev.protorad.engine.peft.LoraPair;
import java.util.Optional;
import java.util.function.BiFunction;

/**
 * A plain-Java FP32 Llama over the dequantized weights, written straight from Hugging Face {@code
 * modeling_llama} (explicit {@code repeat_kv}, {@code rotate_half}, causal softmax): the reference
 * the DJL decoder is tested against.
 */
final class ReferenceLlama {

  private final DecoderWeights w;
  private final ModelConfig c;
  private final float[][][] dense; // [layer][projection][out * in]
  private final BiFunction<Integer, Projection, Optional<LoraPair>> lora;

  ReferenceLlama(DecoderWeights w, BiFunction<Integer, Projection, Optional<LoraPair>> lora) {
    this.w = w;
    this.c = w.config();
    this.lora = lora;
    dense = new float[c.numHiddenLayers()][Projection.values().length][];
    for (int l = 0; l < c.numHiddenLayers(); l++) {
      for (Projection p : Projection.values()) {
        dense[l][p.ordinal()] = Nf4.dequantize(w.projection(l, p));
      }
    }
  }

  ReferenceLlama(DecoderWeights w) {
    this(w, (l, p) -> Optional.empty());
  }

  /** Logits {@code [t][vocab]} of every position of {@code tokens}. */
  float[][] logits(int[] tokens) {
    int t = tokens.length;
    int h = c.hiddenSize();
    float[][] x = new float[t][h];
    float[] embed = w.embedTokens();
    for (int i = 0; i < t; i++) {
      System.arraycopy(embed, tokens[i] * h, x[i], 0, h);
    }
    for (int l = 0; l < c.numHiddenLayers(); l++) {
      add(x, attention(l, norm(x, w.inputNorm(l))));
      add(x, mlp(l, norm(x, w.postAttentionNorm(l))));
    }
    float[][] out = norm(x, w.finalNorm());
    float[] head = w.lmHead();
    float[][] logits = new float[t][c.vocabSize()];
    for (int i = 0; i < t; i++) {
      logits[i] = matVec(head, c.vocabSize(), h, out[i]);
    }
    return logits;
  }

  private float[][] attention(int l, float[][] x) {
    int t = x.length;
    int d = c.headDim();
    float[][] q = project(l, Projection.Q_PROJ, x);
    float[][] k = project(l, Projection.K_PROJ, x);
    float[][] v = project(l, Projection.V_PROJ, x);
    rope(q, c.numAttentionHeads());
    rope(k, c.numKeyValueHeads());
    float[][] out = new float[t][c.hiddenSize()];
    for (int head = 0; head < c.numAttentionHeads(); head++) {
      int kv = head / c.groupSize();
      for (int i = 0; i < t; i++) {
        double[] scores = new double[i + 1];
        double max = Double.NEGATIVE_INFINITY;
        for (int j = 0; j <= i; j++) {
          double s = 0;
          for (int e = 0; e < d; e++) {
            s += q[i][head * d + e] * k[j][kv * d + e];
          }
          scores[j] = s / Math.sqrt(d);
          max = Math.max(max, scores[j]);
        }
        double total = 0;
        for (int j = 0; j <= i; j++) {
          scores[j] = Math.exp(scores[j] - max);
          total += scores[j];
        }
        for (int e = 0; e < d; e++) {
          double acc = 0;
          for (int j = 0; j <= i; j++) {
            acc += scores[j] / total * v[j][kv * d + e];
          }
          out[i][head * d + e] = (float) acc;
        }
      }
    }
    return project(l, Projection.O_PROJ, out);
  }

  private float[][] mlp(int l, float[][] x) {
    float[][] gate = project(l, Projection.GATE_PROJ, x);
    float[][] up = project(l, Projection.UP_PROJ, x);
    for (int i = 0; i < gate.length; i++) {
      for (int j = 0; j < gate[i].length; j++) {
        double g = gate[i][j];
        gate[i][j] = (float) (g / (1 + Math.exp(-g)) * up[i][j]);
      }
    }
    return project(l, Projection.DOWN_PROJ, gate);
  }

  private void rope(float[][] x, int heads) {
    int d = c.headDim();
    int half = d / 2;
    for (int pos = 0; pos < x.length; pos++) {
      for (int head = 0; head < heads; head++) {
        for (int i = 0; i < half; i++) {
          double invFreq = 1.0 / Math.pow(c.ropeTheta(), (2.0 * i) / d);
          double angle = pos * invFreq;
          int a = head * d + i;
          double x1 = x[pos][a];
          double x2 = x[pos][a + half];
          x[pos][a] = (float) (x1 * Math.cos(angle) - x2 * Math.sin(angle));
          x[pos][a + half] = (float) (x2 * Math.cos(angle) + x1 * Math.sin(angle));
        }
      }
    }
  }

  private float[][] project(int l, Projection p, float[][] x) {
    int in = p.inFeatures(c);
    int out = p.outFeatures(c);
    Optional<LoraPair> pair = lora.apply(l, p);
    float[][] y = new float[x.length][];
    for (int i = 0; i < x.length; i++) {
      y[i] = matVec(dense[l][p.ordinal()], out, in, x[i]);
      if (pair.isPresent()) {
        LoraPair f = pair.get();
        float[] ax = matVec(f.a(), f.r(), in, x[i]);
        float[] bax = matVec(f.b(), out, f.r(), ax);
        for (int o = 0; o < out; o++) {
          y[i][o] += f.scaling() * bax[o];
        }
      }
    }
    return y;
  }

  private float[][] norm(float[][] x, float[] weight) {
    float[][] out = new float[x.length][];
    for (int i = 0; i < x.length; i++) {
      double sq = 0;
      for (float v : x[i]) {
        sq += v * v;
      }
      double inv = 1.0 / Math.sqrt(sq / x[i].length + c.rmsNormEps());
      out[i] = new float[x[i].length];
      for (int j = 0; j < x[i].length; j++) {
        out[i][j] = (float) (weight[j] * x[i][j] * inv);
      }
    }
    return out;
  }

  private static void add(float[][] x, float[][] delta) {
    for (int i = 0; i < x.length; i++) {
      for (int j = 0; j < x[i].length; j++) {
        x[i][j] += delta[i][j];
      }
    }
  }

  private static float[] matVec(float[] m, int rows, int cols, float[] v) {
    float[] out = new float[rows];
    for (int r = 0; r < rows; r++) {
      double acc = 0;
      int base = r * cols;
      for (int k = 0; k < cols; k++) {
        acc += m[base + k] * v[k];
      }
      out[r] = (float) acc;
    }
    return out;
  }
}
