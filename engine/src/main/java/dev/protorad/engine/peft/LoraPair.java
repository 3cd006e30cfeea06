package dev.protorad.engine.peft;

import static java.util.Objects.requireNonNull;

/**
 * The two LoRA matrices of one projection: {@code delta(x) = scaling * B (A x)}.
 *
 * <p>The arrays are held, not copied (training updates them in place).
 *
 * @param a {@code [r, in]}, row-major
 * @param b {@code [out, r]}, row-major
 * @param r rank
 * @param in input features
 * @param out output features
 * @param scaling {@code alpha / r}, or {@code alpha / sqrt(r)} with rsLoRA
 */
public record LoraPair(float[] a, float[] b, int r, int in, int out, float scaling) {

  /** Checks the array lengths against the dimensions. */
  public LoraPair {
    requireNonNull(a, "a");
    requireNonNull(b, "b");
    if (r <= 0 || in <= 0 || out <= 0) {
      throw new IllegalArgumentException(
          "r, in, out: " + r + ", " + in + ", " + out + " (expected: all > 0)");
    }
    if (a.length != (long) r * in) {
      throw new IllegalArgumentException(
          "a: length " + a.length + " (expected: r * in = " + (long) r * in + ")");
    }
    if (b.length != (long) out * r) {
      throw new IllegalArgumentException(
          "b: length " + b.length + " (expected: out * r = " + (long) out * r + ")");
    }
    if (!Float.isFinite(scaling)) {
      throw new IllegalArgumentException("scaling: " + scaling + " (expected: finite)");
    }
  }

  /** Bytes held by the two matrices. */
  public long bytes() {
    return 4L * (a.length + b.length);
  }
}
