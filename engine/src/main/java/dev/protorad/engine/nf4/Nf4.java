package dev.protorad.engine.nf4;

import static java.util.Objects.requireNonNull;

import dev.protorad.engine.safetensors.FloatReader;
import java.util.stream.IntStream;

/**
 * NF4 quantization with double quantization, reproducing bitsandbytes ({@code
 * functional.quantize_4bit(..., quant_type="nf4", compress_statistics=True)}).
 *
 * <p>Design note (bitsandbytes semantics, {@code csrc/kernels.cu} and {@code functional.py}):
 *
 * <ul>
 *   <li>The row-major weight is cut into blocks of 64; each block keeps its fp32 absmax, and each
 *       element {@code x} becomes the code chosen by bnb's decision tree ({@code dQuantizeNF4}) for
 *       {@code x * (1 / absmax)}, a multiplication by the reciprocal as the kernel does. The tree's
 *       thresholds are the midpoints of the 16 NF4 values, so it picks the nearest value.
 *   <li>Two codes per byte, the first element in the high nibble. A partial last byte is padded
 *       with the code of 0.0, as the kernel pads with zeros.
 *   <li>Double quantization: the absmax values minus their mean are quantized with {@code
 *       quantize_blockwise} (blocks of 256, an fp32 absmax per block) to the signed dynamic 8-bit
 *       map, choosing the nearest entry by bnb's binary search ({@code dQuantize}). The mean is
 *       summed in double and rounded once; torch's fp32 reduction may differ in the last bit.
 *   <li>Dequantization uses the maps stored with the tensor, never recomputed ones, because the
 *       dynamic map differs by up to 2 ulp between builds.
 * </ul>
 *
 * <p>Blocks are independent, so quantization runs as parallel streams over groups of blocks.
 */
public final class Nf4 {
  /** The 16 NF4 values of bitsandbytes ({@code get_4bit_type("nf4")}), in code order. */
  private static final float[] NF4 = {
    -1.0f,
    -0.6961928009986877f,
    -0.5250730514526367f,
    -0.39491748809814453f,
    -0.28444138169288635f,
    -0.18477343022823334f,
    -0.09105003625154495f,
    0.0f,
    0.07958029955625534f,
    0.16093020141124725f,
    0.24611230194568634f,
    0.33791524171829224f,
    0.44070982933044434f,
    0.5626170039176941f,
    0.7229568362236023f,
    1.0f
  };

  /**
   * The 15 decision thresholds of {@code dQuantizeNF4}, ascending: the tree returns the number of
   * thresholds below x, which {@link #fastCode} computes without branches.
   */
  private static final float[] THRESHOLDS = {
    -0.8480964004993439f,
    -0.6106329262256622f,
    -0.4599952697753906f,
    -0.33967943489551544f,
    -0.23460740596055984f,
    -0.13791173323988914f,
    -0.045525018125772476f,
    0.03979014977812767f,
    0.1202552504837513f,
    0.2035212516784668f,
    0.2920137718319893f,
    0.3893125355243683f,
    0.5016634166240692f,
    0.6427869200706482f,
    0.8614784181118011f
  };

  private static final int BLOCKS_PER_TASK = 256;

  private Nf4() {}

  /** A copy of the 16 NF4 code values. */
  public static float[] codebook() {
    return NF4.clone();
  }

  /**
   * Quantizes a row-major {@code [rows, cols]} weight to NF4 with double quantization, in parallel
   * over groups of 256 blocks (on the calling thread's ForkJoinPool: the common pool, unless called
   * from a task of another pool). The result does not depend on the thread count.
   *
   * @throws IllegalArgumentException when the length does not match the shape or a value is NaN or
   *     infinite (naming the first such element)
   */
  public static Nf4Tensor quantize(float[] w, int rows, int cols) {
    requireNonNull(w, "w");
    if (rows <= 0 || cols <= 0 || (long) rows * cols != w.length) {
      throw new IllegalArgumentException(
          "shape: ["
              + rows
              + ", "
              + cols
              + "] (expected: positive dimensions whose product is w.length="
              + w.length
              + ")");
    }
    return quantize(FloatReader.of(w), rows, cols);
  }

  /**
   * As {@link #quantize(float[], int, int)}, reading the weight range by range (for example
   * straight out of a memory-mapped F16 tensor), so no full-size fp32 copy is made.
   */
  public static Nf4Tensor quantize(FloatReader reader, int rows, int cols) {
    requireNonNull(reader, "reader");
    long n = (long) rows * cols;
    if (rows <= 0 || cols <= 0 || n > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException(
          "shape: [" + rows + ", " + cols + "] (expected: positive, at most 2^31 - 9 elements)");
    }
    int blocks = (int) Nf4Tensor.ceilDiv(n, Nf4Tensor.BLOCK_SIZE);
    float[] absmax = new float[blocks];
    byte[] packed = new byte[(int) ((n + 1) / 2)];
    int tasks = (int) Nf4Tensor.ceilDiv(blocks, BLOCKS_PER_TASK);
    IntStream.range(0, tasks)
        .parallel()
        .forEach(t -> quantizeBlocks(reader, (int) n, t, absmax, packed));
    DoubleQuantized dq = doubleQuantize(absmax);
    return new Nf4Tensor(rows, cols, packed, dq.codes, dq.scales, dq.map, dq.offset, NF4.clone());
  }

  /** The fp32 weight, row-major, decoded with the tensor's own maps. */
  public static float[] dequantize(Nf4Tensor t) {
    requireNonNull(t, "t");
    long n = t.elements();
    if (n > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException(
          "t: " + n + " elements (expected: at most " + (Integer.MAX_VALUE - 8) + ")");
    }
    float[] out = new float[(int) n];
    dequantize(t, out);
    return out;
  }

  /**
   * Decodes {@code t} into {@code out} (length {@code rows * cols}), reusing the caller's array.
   */
  public static void dequantize(Nf4Tensor t, float[] out) {
    requireNonNull(t, "t");
    requireNonNull(out, "out");
    if (out.length != t.elements()) {
      throw new IllegalArgumentException(
          "out: length " + out.length + " (expected: " + t.elements() + ")");
    }
    float[] absmax = t.absmax();
    float[] map = t.quantMap();
    byte[] packed = t.packed();
    int tasks = (int) Nf4Tensor.ceilDiv(absmax.length, BLOCKS_PER_TASK);
    IntStream.range(0, tasks)
        .parallel()
        .forEach(task -> dequantizeBlocks(packed, absmax, map, task, out));
  }

  /**
   * The NF4 code bitsandbytes chooses for a value already scaled to [-1, 1] ({@code dQuantizeNF4}).
   * NaN falls through to code 0, as in the kernel.
   */
  public static int nf4Code(float x) {
    if (x > 0.03979014977812767f) {
      if (x > 0.3893125355243683f) {
        if (x > 0.6427869200706482f) {
          return x > 0.8614784181118011f ? 0b1111 : 0b1110;
        }
        return x > 0.5016634166240692f ? 0b1101 : 0b1100;
      }
      if (x > 0.2035212516784668f) {
        return x > 0.2920137718319893f ? 0b1011 : 0b1010;
      }
      return x > 0.1202552504837513f ? 0b1001 : 0b1000;
    }
    if (x > -0.33967943489551544f) {
      if (x > -0.13791173323988914f) {
        return x > -0.045525018125772476f ? 0b0111 : 0b0110;
      }
      return x > -0.23460740596055984f ? 0b0101 : 0b0100;
    }
    if (x > -0.6106329262256622f) {
      return x > -0.4599952697753906f ? 0b0011 : 0b0010;
    }
    return x > -0.8480964004993439f ? 0b0001 : 0b0000;
  }

  /**
   * The same code as {@link #nf4Code}, by a branch-free binary search over the sorted thresholds
   * (four compares that compile to conditional moves instead of mispredicted branches).
   */
  static int fastCode(float x) {
    int i = x > THRESHOLDS[7] ? 8 : 0;
    i += x > THRESHOLDS[i + 3] ? 4 : 0;
    i += x > THRESHOLDS[i + 1] ? 2 : 0;
    i += x > THRESHOLDS[i] ? 1 : 0;
    return i;
  }

  /**
   * The index bitsandbytes chooses in a sorted 256-entry map for a value scaled to [-1, 1] ({@code
   * dQuantize<0>}: a binary search from the middle, then the nearer neighbour by midpoint).
   */
  public static int dynamicCode(float[] map, float x) {
    int pivot = 127;
    int upperPivot = 255;
    int lowerPivot = 0;
    float lower = -1.0f;
    float upper = 1.0f;
    float val = map[pivot];
    for (int i = 64; i > 0; i >>= 1) {
      if (x > val) {
        lowerPivot = pivot;
        lower = val;
        pivot += i;
      } else {
        upperPivot = pivot;
        upper = val;
        pivot -= i;
      }
      val = map[pivot];
    }
    if (upperPivot == 255) {
      upper = map[upperPivot];
    }
    if (lowerPivot == 0) {
      lower = map[lowerPivot];
    }
    if (x > val) {
      return x > (upper + val) * 0.5f ? upperPivot : pivot;
    }
    return x < (lower + val) * 0.5f ? lowerPivot : pivot;
  }

  private static void quantizeBlocks(
      FloatReader reader, int n, int task, float[] absmax, byte[] packed) {
    int first = task * BLOCKS_PER_TASK * Nf4Tensor.BLOCK_SIZE;
    int length = Math.min(BLOCKS_PER_TASK * Nf4Tensor.BLOCK_SIZE, n - first);
    float[] w = new float[length];
    reader.read(first, w, 0, length);
    for (int start = 0; start < length; start += Nf4Tensor.BLOCK_SIZE) {
      int end = Math.min(length, start + Nf4Tensor.BLOCK_SIZE);
      float max = blockAbsmax(w, start, end, first);
      absmax[(first + start) / Nf4Tensor.BLOCK_SIZE] = max;
      float scale = 1.0f / max;
      for (int i = start; i < end; i += 2) {
        int hi = fastCode(w[i] * scale);
        int lo = i + 1 < end ? fastCode(w[i + 1] * scale) : fastCode(0.0f * scale);
        packed[(first + i) >>> 1] = (byte) ((hi << 4) | lo);
      }
    }
  }

  private static float blockAbsmax(float[] w, int start, int end, int base) {
    float max = 0.0f;
    for (int i = start; i < end; i++) {
      float v = w[i];
      if (!Float.isFinite(v)) {
        throw new IllegalArgumentException(
            "w: non-finite value "
                + v
                + " at element "
                + (base + i)
                + " (expected: finite weights)");
      }
      max = Math.max(max, Math.abs(v));
    }
    return max;
  }

  private static void dequantizeBlocks(
      byte[] packed, float[] absmax, float[] map, int task, float[] out) {
    int firstBlock = task * BLOCKS_PER_TASK;
    int lastBlock = Math.min(absmax.length, firstBlock + BLOCKS_PER_TASK);
    for (int b = firstBlock; b < lastBlock; b++) {
      int start = b * Nf4Tensor.BLOCK_SIZE;
      int end = Math.min(out.length, start + Nf4Tensor.BLOCK_SIZE);
      float a = absmax[b];
      int i = start;
      for (; i + 1 < end; i += 2) {
        int v = packed[i >>> 1] & 0xff;
        out[i] = map[v >>> 4] * a;
        out[i + 1] = map[v & 0x0f] * a;
      }
      if (i < end) {
        out[i] = map[(packed[i >>> 1] & 0xff) >>> 4] * a;
      }
    }
  }

  private record DoubleQuantized(byte[] codes, float[] scales, float[] map, float offset) {}

  private static DoubleQuantized doubleQuantize(float[] absmax) {
    double sum = 0;
    for (float a : absmax) {
      sum += a;
    }
    float offset = (float) (sum / absmax.length);
    float[] map = DynamicMap.signed();
    int nested = (int) Nf4Tensor.ceilDiv(absmax.length, Nf4Tensor.NESTED_BLOCK_SIZE);
    float[] scales = new float[nested];
    byte[] codes = new byte[absmax.length];
    IntStream.range(0, nested)
        .parallel()
        .forEach(k -> quantizeNested(absmax, offset, map, k, scales, codes));
    return new DoubleQuantized(codes, scales, map, offset);
  }

  private static void quantizeNested(
      float[] absmax, float offset, float[] map, int k, float[] scales, byte[] codes) {
    int start = k * Nf4Tensor.NESTED_BLOCK_SIZE;
    int end = Math.min(absmax.length, start + Nf4Tensor.NESTED_BLOCK_SIZE);
    float max = 0.0f;
    for (int b = start; b < end; b++) {
      max = Math.max(max, Math.abs(absmax[b] - offset));
    }
    scales[k] = max;
    float scale = 1.0f / max;
    for (int b = start; b < end; b++) {
      codes[b] = (byte) dynamicCode(map, (absmax[b] - offset) * scale);
    }
  }
}
