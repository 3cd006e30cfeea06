package dev.protorad.engine.safetensors;

/**
 * Reads a floating-point tensor's elements, converted to {@code float}, range by range: lets a
 * consumer (NF4 quantization) stream a tensor out of its mapping without a full-size copy. Safe to
 * call from several threads at once.
 */
@FunctionalInterface
public interface FloatReader extends AutoCloseable {
  /**
   * Copies elements {@code [offset, offset + length)} into {@code dst} from {@code dstOffset}.
   *
   * @throws java.io.UncheckedIOException when the source cannot be read
   */
  void read(long offset, float[] dst, int dstOffset, int length);

  /** Releases what the reader holds open (a file); nothing for an array. */
  @Override
  default void close() {}

  /** A reader over an array. */
  static FloatReader of(float[] values) {
    return (offset, dst, dstOffset, length) ->
        System.arraycopy(values, Math.toIntExact(offset), dst, dstOffset, length);
  }
}
