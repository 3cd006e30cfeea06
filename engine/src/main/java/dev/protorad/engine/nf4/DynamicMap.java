package dev.protorad.engine.nf4;

import java.util.Arrays;

/**
 * The signed dynamic 8-bit map of bitsandbytes ({@code create_dynamic_map(signed=True,
 * max_exponent_bits=7, total_bits=8)}): for each exponent {@code i} in 0..6, the midpoints of
 * {@code linspace(0.1, 1, 2^i + 1)} scaled by {@code 10^(i-6)}, with both signs, plus 0 and 1,
 * sorted — 256 values in [-1, 1].
 *
 * <p>Computed in fp32 the way torch's CPU {@code linspace} does (start + step·i for the first half,
 * end − step·(n−1−i) for the second); other builds may differ by an ulp or two, which is why
 * loaders use the map stored in a checkpoint.
 */
public final class DynamicMap {
  private static final float[] SIGNED = build();

  private DynamicMap() {}

  /** A copy of the 256-entry signed dynamic map, ascending. */
  public static float[] signed() {
    return SIGNED.clone();
  }

  private static float[] build() {
    float[] data = new float[256];
    int k = 0;
    for (int i = 0; i < 7; i++) {
      int items = (1 << i) + 1;
      float[] boundaries = linspace(0.1f, 1.0f, items);
      float scale = (float) Math.pow(10, -6 + i);
      for (int j = 0; j + 1 < items; j++) {
        float mean = (boundaries[j] + boundaries[j + 1]) / 2.0f;
        data[k++] = scale * mean;
        data[k++] = -scale * mean;
      }
    }
    data[k++] = 0.0f;
    data[k++] = 1.0f;
    if (k != 256) {
      throw new IllegalStateException("dynamic map has " + k + " entries");
    }
    Arrays.sort(data);
    return data;
  }

  private static float[] linspace(float start, float end, int steps) {
    float[] out = new float[steps];
    float step = (end - start) / (float) (steps - 1);
    int halfway = steps / 2;
    for (int i = 0; i < steps; i++) {
      out[i] = i < halfway ? start + step * i : end - step * (steps - i - 1);
    }
    return out;
  }
}
