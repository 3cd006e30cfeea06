package dev.protorad.engine.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.SparseFormat;

/**
 * Small tensor helpers shared by the decoder.
 *
 * <p>DJL gives an op's result to the manager of its first operand. Where that operand is a weight
 * (shared, long-lived), the result is moved at once to the caller's short-lived manager with {@link
 * #own}, or every request would leak arrays into the weights' manager.
 */
final class Ops {

  private Ops() {}

  /** Moves {@code array} under {@code manager} and returns it. */
  static NDArray own(NDManager manager, NDArray array) {
    array.attach(manager);
    return array;
  }

  /**
   * {@code table[indices]} along the first axis; the result belongs to {@code indices}' manager.
   */
  static NDArray lookup(NDArray indices, NDArray table) {
    return indices
        .getNDArrayInternal()
        .embedding(indices, table, SparseFormat.DENSE)
        .singletonOrThrow();
  }

  /** {@code x · wᵀ}; the result belongs to {@code x}'s manager. */
  static NDArray linear(NDArray x, NDArray w) {
    return x.getNDArrayInternal().linear(x, w, null).singletonOrThrow();
  }

  /** Hugging Face {@code LlamaRMSNorm}: {@code w * x / sqrt(mean(x²) + eps)}. */
  static NDArray rmsNorm(NDArray x, NDArray weight, float eps) {
    int last = x.getShape().dimension() - 1;
    NDArray inv = x.square().mean(new int[] {last}, true).add(eps).pow(-0.5f);
    return x.mul(inv).mul(weight);
  }

  /** {@code x * sigmoid(x)}. */
  static NDArray silu(NDArray x) {
    return x.mul(x.getNDArrayInternal().sigmoid());
  }
}
