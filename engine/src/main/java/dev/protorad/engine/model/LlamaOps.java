package dev.protorad.engine.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.SparseFormat;
import dev.protorad.engine.ModelConfig;

/**
 * The Llama decoder's tensor operations, one definition for serving ({@link LlamaModel}, {@link
 * DecoderLayer}) and training (the server's {@code TrainableLlama}), so that both compute the same
 * function of the same weights.
 *
 * <p>DJL gives an op's result to the manager of its first operand. Where that operand is a weight
 * (shared, long-lived), the result is moved at once to the caller's short-lived manager with {@link
 * #own}, or every request would leak arrays into the weights' manager.
 */
public final class LlamaOps {

  private LlamaOps() {}

  /** Moves {@code array} under {@code manager} and returns it. */
  public static NDArray own(NDManager manager, NDArray array) {
    array.attach(manager);
    return array;
  }

  /**
   * {@code table[indices]} along the first axis; the result belongs to {@code indices}' manager.
   */
  public static NDArray lookup(NDArray indices, NDArray table) {
    return indices
        .getNDArrayInternal()
        .embedding(indices, table, SparseFormat.DENSE)
        .singletonOrThrow();
  }

  /** {@code x · wᵀ}; the result belongs to {@code x}'s manager. */
  public static NDArray linear(NDArray x, NDArray w) {
    return x.getNDArrayInternal().linear(x, w, null).singletonOrThrow();
  }

  /** Hugging Face {@code LlamaRMSNorm}: {@code w * x / sqrt(mean(x²) + eps)}. */
  public static NDArray rmsNorm(NDArray x, NDArray weight, float eps) {
    int last = x.getShape().dimension() - 1;
    NDArray inv = x.square().mean(new int[] {last}, true).add(eps).pow(-0.5f);
    return x.mul(inv).mul(weight);
  }

  /** {@code x * sigmoid(x)}. */
  public static NDArray silu(NDArray x) {
    return x.mul(x.getNDArrayInternal().sigmoid());
  }

  /**
   * {@code x * cos + rotate_half(x) * sin} over the last axis (Hugging Face's rotary embedding).
   */
  public static NDArray rotate(NDArray x, NDArray cos, NDArray sin) {
    int last = x.getShape().dimension() - 1;
    long half = x.getShape().get(last) / 2;
    String lead = ":, ".repeat(last);
    NDArray first = x.get(lead + "0:{}", half);
    NDArray second = x.get(lead + "{}:", half);
    NDArray rotated = second.neg().concat(first, last);
    return x.mul(cos).add(rotated.mul(sin));
  }

  /**
   * Hugging Face {@code LlamaRotaryEmbedding}'s tables for every position: {@code cat(freqs,
   * freqs)} cosines, then sines, each {@code maxPositionEmbeddings × headDim}, row-major.
   */
  public static float[][] ropeTables(ModelConfig config) {
    int d = config.headDim();
    int positions = config.maxPositionEmbeddings();
    float[] invFreq = new float[d / 2];
    for (int i = 0; i < d / 2; i++) {
      invFreq[i] = (float) (1.0 / Math.pow(config.ropeTheta(), (2.0 * i) / d));
    }
    float[] cos = new float[positions * d];
    float[] sin = new float[positions * d];
    for (int p = 0; p < positions; p++) {
      for (int i = 0; i < d / 2; i++) {
        float angle = p * invFreq[i];
        float c = (float) Math.cos(angle);
        float s = (float) Math.sin(angle);
        cos[p * d + i] = c;
        cos[p * d + i + d / 2] = c;
        sin[p * d + i] = s;
        sin[p * d + i + d / 2] = s;
      }
    }
    return new float[][] {cos, sin};
  }
}
