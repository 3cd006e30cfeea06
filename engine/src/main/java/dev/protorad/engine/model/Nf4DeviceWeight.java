package dev.protorad.engine.model;

import static java.util.Objects.requireNonNull;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.protorad.engine.nf4.Nf4Tensor;

/**
 * An NF4 weight kept packed on the device (about 4.1 bits per parameter) and dequantized to a dense
 * FP32 {@code [rows, cols]} array each time it is needed, as bitsandbytes does: the form in which
 * QLoRA training holds its frozen base.
 */
public final class Nf4DeviceWeight {

  private final Nf4Dequantizer nf4;

  private Nf4DeviceWeight(Nf4Dequantizer nf4) {
    this.nf4 = nf4;
  }

  /** Copies {@code t} to the device under {@code weights}; keeps no reference to {@code t}. */
  public static Nf4DeviceWeight upload(Nf4Tensor t, NDManager weights) {
    requireNonNull(t, "t");
    requireNonNull(weights, "weights");
    return new Nf4DeviceWeight(Nf4Dequantizer.upload(t, weights));
  }

  /** Output features (rows). */
  public int rows() {
    return nf4.rows();
  }

  /** Input features (columns). */
  public int cols() {
    return nf4.cols();
  }

  /**
   * The dense FP32 weight {@code [rows, cols]}, owned by {@code target}; the intermediates of the
   * dequantization are freed before this returns.
   */
  public NDArray dequantize(NDManager target) {
    requireNonNull(target, "target");
    try (NDManager scratch = target.newSubManager()) {
      return LlamaOps.own(target, nf4.dequantize(scratch));
    }
  }

  /** Bytes held on the device. */
  public long deviceBytes() {
    return nf4.deviceBytes();
  }
}
