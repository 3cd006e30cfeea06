package dev.protorad.engine.safetensors;

import static java.util.Objects.requireNonNull;

import java.util.Arrays;

/**
 * One tensor's entry in a safetensors header.
 *
 * @param name tensor name
 * @param dtype element type
 * @param shape dimensions (empty for a scalar)
 * @param begin first byte, relative to the start of the data section
 * @param end one past the last byte, relative to the start of the data section
 */
public record TensorInfo(String name, DType dtype, long[] shape, long begin, long end) {

  /** Checks names, non-negative dimensions and offsets. */
  public TensorInfo {
    requireNonNull(name, "name");
    requireNonNull(dtype, "dtype");
    shape = shape.clone();
    for (long d : shape) {
      if (d < 0) {
        throw new IllegalArgumentException(
            "shape: " + Arrays.toString(shape) + " (expected: dimensions >= 0)");
      }
    }
    if (begin < 0 || end < begin) {
      throw new IllegalArgumentException(
          "data_offsets: [" + begin + ", " + end + "] (expected: 0 <= begin <= end)");
    }
  }

  @Override
  public long[] shape() {
    return shape.clone();
  }

  /** Number of elements (product of the shape); throws ArithmeticException on overflow. */
  public long elements() {
    return elements(shape);
  }

  /** Bytes of data. */
  public long byteSize() {
    return end - begin;
  }

  /** Whether the shape equals {@code expected}. */
  public boolean hasShape(long... expected) {
    return Arrays.equals(shape, expected);
  }

  /** Product of dimensions; throws ArithmeticException on overflow. */
  public static long elements(long[] shape) {
    long n = 1;
    for (long d : shape) {
      n = Math.multiplyExact(n, d);
    }
    return n;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof TensorInfo t
        && name.equals(t.name)
        && dtype == t.dtype
        && Arrays.equals(shape, t.shape)
        && begin == t.begin
        && end == t.end;
  }

  @Override
  public int hashCode() {
    return name.hashCode() * 31 + Arrays.hashCode(shape);
  }

  @Override
  public String toString() {
    return name + " " + dtype + Arrays.toString(shape) + " [" + begin + ", " + end + ")";
  }
}
