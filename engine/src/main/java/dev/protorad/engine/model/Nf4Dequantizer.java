package dev.protorad.engine.model;

import static java.util.Objects.requireNonNull;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.protorad.engine.nf4.Nf4Tensor;

/**
 * One NF4 tensor held on the device in its packed form, dequantized on demand.
 *
 * <p>Design (bitsandbytes {@code dequantize_4bit} with a double-quantized state): {@code w[i] =
 * quantMap[nibble(i)] * absmax[i / 64]} with {@code absmax[b] = nestedQuantMap[code[b]] *
 * nestedAbsmax[b / 256] + offset}. DJL has no bitwise or shift ops, so a byte is unpacked with a
 * 256-row lookup table gathered through {@code embedding}; the table already holds the two codebook
 * values of each byte ({@code [quantMap[b >> 4], quantMap[b & 15]]}, high nibble first), so one
 * gather both unpacks and decodes. The 8-bit absmax codes go through the same kind of lookup over
 * the nested map. On the device this costs about 4.1 bits per parameter plus the 2 KiB table.
 */
final class Nf4Dequantizer {

  static final int BLOCK = 64;
  static final int NESTED_BLOCK = 256;

  private final int rows;
  private final int cols;
  private final int blocks;
  private final int groups;
  private final NDArray packed; // uint8 [ceil(n / 2)]
  private final NDArray codes; // uint8 [groups * 256], zero-padded
  private final NDArray nestedAbsmax; // f32 [groups, 1]
  private final NDArray nestedMap; // f32 [256, 1]
  private final NDArray byteTable; // f32 [256, 2]
  private final float offset;

  private Nf4Dequantizer(Nf4Tensor t, NDManager weights, NativeCopy copy) {
    rows = t.rows();
    cols = t.cols();
    long n = (long) rows * cols;
    blocks = (int) ((n + BLOCK - 1) / BLOCK);
    groups = (blocks + NESTED_BLOCK - 1) / NESTED_BLOCK;
    packed = copy.bytes(weights, t.packed(), new Shape(t.packed().length), DataType.UINT8);
    byte[] padded = new byte[groups * NESTED_BLOCK];
    System.arraycopy(t.absmaxCodes(), 0, padded, 0, blocks);
    codes = copy.bytes(weights, padded, new Shape(padded.length), DataType.UINT8);
    nestedAbsmax = copy.floats(weights, t.nestedAbsmax(), new Shape(groups, 1));
    nestedMap = copy.floats(weights, t.nestedQuantMap(), new Shape(NESTED_BLOCK, 1));
    byteTable = copy.floats(weights, byteTable(t.quantMap()), new Shape(256, 2));
    offset = t.absmaxOffset();
  }

  /** Copies {@code t} to the device under {@code weights}. */
  static Nf4Dequantizer upload(Nf4Tensor t, NDManager weights) {
    return upload(t, weights, new NativeCopy());
  }

  /**
   * Copies {@code t} to the device under {@code weights} through {@code copy}; keeps no reference
   * to {@code t} or its arrays.
   */
  static Nf4Dequantizer upload(Nf4Tensor t, NDManager weights, NativeCopy copy) {
    requireNonNull(t, "t");
    long n = (long) t.rows() * t.cols();
    if (t.packed().length != (n + 1) / 2
        || t.absmaxCodes().length != (n + BLOCK - 1) / BLOCK
        || t.quantMap().length != 16
        || t.nestedQuantMap().length != NESTED_BLOCK) {
      throw new IllegalArgumentException(
          "NF4 tensor ["
              + t.rows()
              + ", "
              + t.cols()
              + "]: inconsistent packed/absmax/quant-map lengths");
    }
    return new Nf4Dequantizer(t, weights, copy);
  }

  int rows() {
    return rows;
  }

  int cols() {
    return cols;
  }

  /**
   * Dense {@code [rows, cols]} FP32 weight; it and every intermediate belong to {@code scratch}.
   */
  NDArray dequantize(NDManager scratch) {
    NDArray values =
        LlamaOps.lookup(LlamaOps.own(scratch, packed.toType(DataType.INT32, false)), byteTable);
    values = values.reshape(-1);
    long n = (long) rows * cols;
    if (values.size() != (long) blocks * BLOCK) {
      values = values.concat(scratch.zeros(new Shape((long) blocks * BLOCK - values.size())));
    }
    NDArray w = values.reshape(blocks, BLOCK).mul(absmax(scratch)).reshape(-1);
    if (w.size() != n) {
      w = w.get("0:" + n);
    }
    return w.reshape(rows, cols);
  }

  /** Whether {@link #dequantizeRows} may be used: every row starts on an absmax block. */
  boolean rowsAlignedToBlocks() {
    return cols % BLOCK == 0;
  }

  /**
   * Rows {@code [from, to)} of the dense FP32 weight, {@code [to - from, cols]}, from the per-block
   * absmax {@code [blocks, 1]} of {@link #absmax}; it and every intermediate belong to {@code
   * scratch}. Lets a caller dequantize a large weight a slice at a time.
   *
   * @throws IllegalStateException unless {@link #rowsAlignedToBlocks}
   */
  NDArray dequantizeRows(int from, int to, NDArray absmax, NDManager scratch) {
    if (!rowsAlignedToBlocks()) {
      throw new IllegalStateException("cols: " + cols + " (expected: a multiple of " + BLOCK + ")");
    }
    if (from < 0 || to > rows || from >= to) {
      throw new IndexOutOfBoundsException(
          "rows [" + from + ", " + to + ") (expected: within [0, " + rows + "))");
    }
    long first = (long) from * cols;
    long end = (long) to * cols;
    NDArray bytes = LlamaOps.own(scratch, packed.get(first / 2 + ":" + end / 2));
    NDArray values = LlamaOps.lookup(bytes.toType(DataType.INT32, false), byteTable);
    NDArray scales = absmax.get(first / BLOCK + ":" + end / BLOCK);
    return values.reshape(-1, BLOCK).mul(scales).reshape(to - from, cols);
  }

  /** Per-block absmax {@code [blocks, 1]} rebuilt from the double-quantization state. */
  NDArray absmax(NDManager scratch) {
    NDArray nested =
        LlamaOps.lookup(LlamaOps.own(scratch, codes.toType(DataType.INT32, false)), nestedMap);
    NDArray all = nested.reshape(groups, NESTED_BLOCK).mul(nestedAbsmax).add(offset);
    return all.reshape(-1).get("0:" + blocks).reshape(blocks, 1);
  }

  /** Bytes this tensor holds on the device. */
  long deviceBytes() {
    return packed.size() + codes.size() + 4L * (groups + NESTED_BLOCK + 512);
  }

  private static float[] byteTable(float[] quantMap) {
    float[] table = new float[512];
    for (int b = 0; b < 256; b++) {
      table[2 * b] = quantMap[b >>> 4];
      table[2 * b + 1] = quantMap[b & 0x0f];
    }
    return table;
  }
}
