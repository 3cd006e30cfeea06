package dev.protorad.engine.nf4;

import static java.util.Objects.requireNonNull;

import java.util.Arrays;

/**
 * bitsandbytes NF4 with double quantization of a row-major {@code [rows, cols]} weight.
 *
 * <p>Decoding: {@code absmax[b] = nestedQuantMap[absmaxCodes[b] & 0xff] * nestedAbsmax[b / 256] +
 * absmaxOffset} and {@code w[i] = quantMap[nibble(i)] * absmax[i / 64]}, where element {@code 2k}
 * is the high nibble of {@code packed[k]} and {@code 2k + 1} the low nibble.
 *
 * <p>The arrays are held, not copied (a 7B base holds gigabytes of them): treat them as read-only.
 *
 * @param rows output features
 * @param cols input features
 * @param packed {@code ceil(rows * cols / 2)} bytes of 4-bit codes, high nibble first
 * @param absmaxCodes one uint8 code per block of 64 elements
 * @param nestedAbsmax one fp32 scale per 256 absmax codes
 * @param nestedQuantMap the 256-entry signed dynamic map the absmax codes index
 * @param absmaxOffset the mean subtracted from the absmax values before quantizing them
 * @param quantMap the 16 NF4 code values
 */
public record Nf4Tensor(
    int rows,
    int cols,
    byte[] packed,
    byte[] absmaxCodes,
    float[] nestedAbsmax,
    float[] nestedQuantMap,
    float absmaxOffset,
    float[] quantMap) {

  /** Elements per absmax block. */
  public static final int BLOCK_SIZE = 64;

  /** Absmax values per nested block. */
  public static final int NESTED_BLOCK_SIZE = 256;

  /** Checks every array length against the shape. */
  public Nf4Tensor {
    if (rows <= 0 || cols <= 0) {
      throw new IllegalArgumentException(
          "shape: [" + rows + ", " + cols + "] (expected: positive dimensions)");
    }
    long n = (long) rows * cols;
    requireLength("packed", requireNonNull(packed, "packed").length, (n + 1) / 2);
    long blocks = ceilDiv(n, BLOCK_SIZE);
    requireLength("absmaxCodes", requireNonNull(absmaxCodes, "absmaxCodes").length, blocks);
    requireLength(
        "nestedAbsmax",
        requireNonNull(nestedAbsmax, "nestedAbsmax").length,
        ceilDiv(blocks, NESTED_BLOCK_SIZE));
    requireLength("nestedQuantMap", requireNonNull(nestedQuantMap, "nestedQuantMap").length, 256);
    requireLength("quantMap", requireNonNull(quantMap, "quantMap").length, 16);
    if (!Float.isFinite(absmaxOffset)) {
      throw new IllegalArgumentException(
          "absmaxOffset: " + absmaxOffset + " (expected: a finite value)");
    }
  }

  /** Number of weight elements, {@code rows * cols}. */
  public long elements() {
    return (long) rows * cols;
  }

  /** Number of blocks of 64. */
  public int blocks() {
    return absmaxCodes.length;
  }

  /** The absmax of block {@code b}, decoded from its 8-bit code. */
  public float absmax(int b) {
    return nestedQuantMap[absmaxCodes[b] & 0xff] * nestedAbsmax[b / NESTED_BLOCK_SIZE]
        + absmaxOffset;
  }

  /** All decoded absmax values. */
  public float[] absmax() {
    float[] out = new float[blocks()];
    for (int b = 0; b < out.length; b++) {
      out[b] = absmax(b);
    }
    return out;
  }

  /** The 4-bit code of element {@code i}. */
  public int code(long i) {
    int byteValue = packed[(int) (i >>> 1)] & 0xff;
    return (i & 1) == 0 ? byteValue >>> 4 : byteValue & 0x0f;
  }

  /** Bytes of packed 4-bit codes. */
  public long packedBytes() {
    return packed.length;
  }

  /** Bytes of quantization constants: absmax codes, nested scales, both maps and the offset. */
  public long constantBytes() {
    return absmaxCodes.length
        + 4L * nestedAbsmax.length
        + 4L * nestedQuantMap.length
        + 4L * quantMap.length
        + 4L;
  }

  /** Bytes held: {@link #packedBytes()} + {@link #constantBytes()}. */
  public long heldBytes() {
    return packedBytes() + constantBytes();
  }

  /** Bits stored per weight element, constants included (about 4.127). */
  public double bitsPerParameter() {
    return heldBytes() * 8.0 / elements();
  }

  /** The weight in fp32, row-major (see {@link Nf4#dequantize}). */
  public float[] dequantize() {
    return Nf4.dequantize(this);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Nf4Tensor t
        && rows == t.rows
        && cols == t.cols
        && Float.floatToIntBits(absmaxOffset) == Float.floatToIntBits(t.absmaxOffset)
        && Arrays.equals(packed, t.packed)
        && Arrays.equals(absmaxCodes, t.absmaxCodes)
        && Arrays.equals(nestedAbsmax, t.nestedAbsmax)
        && Arrays.equals(nestedQuantMap, t.nestedQuantMap)
        && Arrays.equals(quantMap, t.quantMap);
  }

  @Override
  public int hashCode() {
    return (rows * 31 + cols) * 31 + Arrays.hashCode(absmaxCodes);
  }

  @Override
  public String toString() {
    return "Nf4Tensor[" + rows + " x " + cols + ", " + heldBytes() + " bytes]";
  }

  static long ceilDiv(long a, long b) {
    return (a + b - 1) / b;
  }

  private static void requireLength(String name, int actual, long expected) {
    if (actual != expected) {
      throw new IllegalArgumentException(
          name + ": length " + actual + " (expected: " + expected + ")");
    }
  }
}
