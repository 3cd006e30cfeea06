package dev.protorad.engine.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Copies Java arrays into tensors whose memory the native library owns, through one reused staging
 * buffer.
 *
 * <p>Why: DJL's {@code NDManager.create(array)} copies the array into a new JVM direct buffer and,
 * on CPU, wraps that buffer as the tensor's storage. Weights made that way count against {@code
 * -XX:MaxDirectMemorySize} (by default {@code -Xmx}), so a heap sized for streaming the base one
 * layer at a time could not hold the weights, and their memory comes back only after a garbage
 * collection. Here the destination is allocated by PyTorch and filled chunk by chunk from a staging
 * buffer wrapped without copying; the staging buffer is the only direct memory used.
 *
 * <p>Not thread-safe: one instance per model build.
 */
final class NativeCopy {
  /** Size of the staging buffer: the largest chunk copied at once. */
  static final int STAGING_BYTES = 16 << 20;

  private final ByteBuffer staging;

  NativeCopy() {
    this(STAGING_BYTES);
  }

  /** A copier whose staging buffer holds {@code stagingBytes} (a multiple of 4). */
  NativeCopy(int stagingBytes) {
    if (stagingBytes < 4 || stagingBytes % 4 != 0) {
      throw new IllegalArgumentException(
          "stagingBytes: " + stagingBytes + " (expected: a positive multiple of 4)");
    }
    staging = ByteBuffer.allocateDirect(stagingBytes).order(ByteOrder.nativeOrder());
  }

  /** {@code data} as a tensor of {@code type} (one byte per element: UINT8, INT8). */
  NDArray bytes(NDManager target, byte[] data, Shape shape, DataType type) {
    return copy(target, data.length, type, shape, (off, len) -> staging.put(data, off, len));
  }

  /** {@code data} as an FP32 tensor. */
  NDArray floats(NDManager target, float[] data, Shape shape) {
    return copy(
        target,
        data.length,
        DataType.FLOAT32,
        shape,
        (off, len) -> staging.asFloatBuffer().put(data, off, len));
  }

  /** {@code bits} (F16) as an FP16 tensor. */
  NDArray halves(NDManager target, short[] bits, Shape shape) {
    return copy(
        target,
        bits.length,
        DataType.FLOAT16,
        shape,
        (off, len) -> staging.asShortBuffer().put(bits, off, len));
  }

  /** Fills the staging buffer, from its start, with elements {@code [off, off + len)}. */
  @FunctionalInterface
  private interface Chunk {
    void put(int off, int len);
  }

  private NDArray copy(NDManager target, int n, DataType type, Shape shape, Chunk chunk) {
    if (shape.size() != n) {
      throw new IllegalArgumentException(n + " values (expected: " + shape + ")");
    }
    int width = type.getNumOfBytes();
    int perChunk = staging.capacity() / width;
    NDArray flat = target.zeros(new Shape(n), type);
    try {
      for (int off = 0; off < n; off += perChunk) {
        int len = Math.min(perChunk, n - off);
        staging.clear();
        chunk.put(off, len);
        staging.position(0).limit(len * width);
        try (NDManager tmp = target.newSubManager()) {
          // A direct buffer is wrapped, not copied: the tensor reads the staging memory.
          NDArray staged = tmp.create(staging, new Shape(len), type);
          flat.set(new NDIndex(off + ":" + (off + len)), staged);
        }
      }
      if (shape.equals(flat.getShape())) {
        return flat;
      }
      NDArray shaped = flat.reshape(shape);
      flat.close();
      return shaped;
    } catch (RuntimeException e) {
      flat.close();
      throw e;
    }
  }
}
