package dev.protorad.engine.safetensors;

/**
 * Conversions between {@code float} and the 16-bit formats IEEE binary16 (F16) and bfloat16 (BF16),
 * both rounding to nearest, ties to even, as PyTorch does.
 */
public final class HalfFloats {
  private HalfFloats() {}

  /** F16 bits to float (exact). */
  public static float f16ToFloat(short h) {
    int bits = h & 0xffff;
    int sign = (bits & 0x8000) << 16;
    int exp = (bits >>> 10) & 0x1f;
    int mant = bits & 0x3ff;
    if (exp == 0x1f) {
      return Float.intBitsToFloat(sign | 0x7f800000 | (mant << 13));
    }
    if (exp == 0) {
      float v = mant * 0x1p-24f;
      return sign != 0 ? -v : v;
    }
    return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
  }

  /** Float to F16 bits, round to nearest even; overflow gives infinity, NaN stays NaN. */
  public static short floatToF16(float f) {
    int bits = Float.floatToRawIntBits(f);
    int sign = (bits >>> 16) & 0x8000;
    int abs = bits & 0x7fffffff;
    if (abs >= 0x7f800000) {
      int nan = abs > 0x7f800000 ? 0x200 | ((abs >>> 13) & 0x3ff) : 0;
      return (short) (sign | 0x7c00 | nan);
    }
    if (abs >= 0x477ff000) { // >= 65520 rounds to infinity
      return (short) (sign | 0x7c00);
    }
    if (abs < 0x38800000) { // below 2^-14: subnormal half
      return (short) (sign | subnormal(abs));
    }
    int r = abs - 0x38000000;
    return (short) (sign | roundShift(r, 13));
  }

  /** BF16 bits to float (exact). */
  public static float bf16ToFloat(short b) {
    return Float.intBitsToFloat((b & 0xffff) << 16);
  }

  /** Float to BF16 bits, round to nearest even; NaN becomes a quiet NaN. */
  public static short floatToBf16(float f) {
    int bits = Float.floatToRawIntBits(f);
    if ((bits & 0x7fffffff) > 0x7f800000) {
      return (short) ((bits >>> 16) | 0x40);
    }
    int rounding = ((bits >>> 16) & 1) + 0x7fff;
    return (short) ((bits + rounding) >>> 16);
  }

  /** Whether F16 bits encode a finite value. */
  public static boolean isFiniteF16(short h) {
    return (h & 0x7c00) != 0x7c00;
  }

  /** Whether BF16 bits encode a finite value. */
  public static boolean isFiniteBf16(short b) {
    return (b & 0x7f80) != 0x7f80;
  }

  /** Converts an array of F16 bits to floats. */
  public static float[] f16ToFloat(short[] h) {
    float[] out = new float[h.length];
    for (int i = 0; i < h.length; i++) {
      out[i] = f16ToFloat(h[i]);
    }
    return out;
  }

  /** Converts floats to F16 bits. */
  public static short[] floatToF16(float[] f) {
    short[] out = new short[f.length];
    for (int i = 0; i < f.length; i++) {
      out[i] = floatToF16(f[i]);
    }
    return out;
  }

  private static int subnormal(int abs) {
    if (abs <= 0x33000000) { // <= 2^-25: ties to even zero
      return 0;
    }
    int e = abs >>> 23;
    int m = (abs & 0x7fffff) | 0x800000;
    return roundShift(m, 126 - e);
  }

  private static int roundShift(int value, int shift) {
    int r = value >>> shift;
    int rem = value & ((1 << shift) - 1);
    int half = 1 << (shift - 1);
    if (rem > half || (rem == half && (r & 1) != 0)) {
      r++;
    }
    return r;
  }
}
