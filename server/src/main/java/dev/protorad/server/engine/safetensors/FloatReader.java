package dev.protorad.server.engine.safetensors;

/**
 * Reads a floating-point tensor's elements, converted to {@code float}, range by range: lets a
 * consumer (NF4 quantization) stream a tensor out of its mapping without a full-size copy. Safe to
 * call from several threads at once.
 */
@FunctionalInterface
public interface FloatReader {
  /** Copies elements {@code [offset, offset + length)} into {@code dst} from {@code dstOffset}. */
  void read(long offset, float[] dst, int dstOffset, int length);

  /** A reader over an array. */
  static FloatReader of(float[] values) {
    return (offset, dst, dstOffset, length) ->
        System.arraycopy(values, Math.toIntExact(offset), dst, dstOffset, length);
  }
}
