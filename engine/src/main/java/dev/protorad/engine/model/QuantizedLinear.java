package dev.protorad.engine.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import org.jspecify.annotations.Nullable;

/**
 * A bias-free linear layer over an NF4 weight, with an optional dense copy kept on the device.
 *
 * <p>Without the copy the weight is dequantized on every call (about 2.5 ns per parameter on CPU,
 * more than the matmul itself for one token); with it the layer trades 8 (FP32) or 4 (FP16) bytes
 * per parameter for speed.
 */
final class QuantizedLinear {

  /**
   * Weight elements dequantized at once by a call without the dense copy (32 MiB in FP32): a large
   * projection is dequantized and multiplied slice by slice of rows, so the dequantization of a
   * call needs about 160 MB with its intermediates instead of about 0.5 GB for a whole 7B MLP
   * projection. Measured at 7B on CPU: the prefill's peak did not fall with it (the prefill takes
   * about 0.8 GB of native memory either way, from a source not yet traced), about 0.5 GB of that
   * stays held after the prefill (0.15 GB with whole weights), and the prefill ran faster.
   */
  static final int SLICE_ELEMENTS = 1 << 23;

  @Nullable private final Nf4Dequantizer nf4; // null: an unquantized baseline
  private final Precision precision;
  private final int rows;
  private final int cols;
  @Nullable private NDArray dense;

  QuantizedLinear(Nf4Dequantizer nf4, Precision precision) {
    this.nf4 = nf4;
    this.precision = precision;
    this.rows = nf4.rows();
    this.cols = nf4.cols();
  }

  private QuantizedLinear(NDArray weight) {
    this.nf4 = null;
    this.precision = Precision.FP32;
    this.rows = (int) weight.getShape().get(0);
    this.cols = (int) weight.getShape().get(1);
    this.dense = weight;
  }

  /** A plain FP32 layer over {@code weight} ({@code [out, in]}): the unquantized baseline. */
  static QuantizedLinear unquantized(NDArray weight) {
    return new QuantizedLinear(weight);
  }

  int outFeatures() {
    return rows;
  }

  int inFeatures() {
    return cols;
  }

  /** Dequantizes once and keeps the dense weight under {@code weights}. */
  void cache(NDManager weights) {
    if (nf4 == null || dense != null) {
      return;
    }
    try (NDManager tmp = weights.newSubManager()) {
      NDArray w = convert(nf4.dequantize(tmp));
      w.attach(weights);
      dense = w;
    }
  }

  boolean cached() {
    return dense != null;
  }

  long denseBytes() {
    return (long) rows * cols * (precision == Precision.FP16 ? 2 : 4);
  }

  long quantizedBytes() {
    return nf4 == null ? 0 : nf4.deviceBytes();
  }

  /**
   * The dense weight {@code [out, in]}: the cached one, or a fresh one owned by {@code scratch}.
   */
  NDArray weight(NDManager scratch) {
    if (dense != null) {
      return dense;
    }
    return convert(java.util.Objects.requireNonNull(nf4).dequantize(scratch));
  }

  /**
   * {@code x · Wᵀ} in FP32, computed in the weight's precision; the result belongs to {@code x}'s
   * manager. Without the cache the dense weight lives only for this call (at 7B one projection is
   * up to 180 MB in FP32; a whole layer would be 800 MB).
   */
  NDArray apply(NDArray x, NDManager scratch) {
    return apply(x, scratch, SLICE_ELEMENTS);
  }

  /** As {@link #apply(NDArray, NDManager)}, dequantizing about {@code sliceElements} at a time. */
  NDArray apply(NDArray x, NDManager scratch, int sliceElements) {
    if (dense != null) {
      return multiply(x, dense);
    }
    Nf4Dequantizer q = java.util.Objects.requireNonNull(nf4);
    int sliceRows = Math.max(1, sliceElements / cols);
    if (sliceRows >= rows || !q.rowsAlignedToBlocks()) {
      try (NDManager once = scratch.newSubManager()) {
        return multiply(x, weight(once));
      }
    }
    NDList parts = new NDList();
    try (NDManager call = scratch.newSubManager()) {
      NDArray absmax = q.absmax(call);
      for (int from = 0; from < rows; from += sliceRows) {
        try (NDManager once = call.newSubManager()) {
          NDArray w =
              convert(q.dequantizeRows(from, Math.min(rows, from + sliceRows), absmax, once));
          parts.add(multiply(x, w)); // owned by x's manager
        }
      }
    }
    NDArray out = NDArrays.concat(parts, x.getShape().dimension() - 1);
    parts.close();
    return out;
  }

  private static NDArray multiply(NDArray x, NDArray w) {
    if (w.getDataType() == x.getDataType()) {
      return LlamaOps.linear(x, w);
    }
    return LlamaOps.linear(x.toType(w.getDataType(), false), w).toType(DataType.FLOAT32, false);
  }

  private NDArray convert(NDArray w) {
    return precision == Precision.FP16 ? w.toType(DataType.FLOAT16, false) : w;
  }
}
