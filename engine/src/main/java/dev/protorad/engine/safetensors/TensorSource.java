package dev.protorad.engine.safetensors;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.IntStream;

/**
 * Named tensors backed by memory-mapped safetensors data: one file ({@link SafetensorsFile}) or a
 * sharded checkpoint ({@link ShardedSafetensors}). Conversions to Java arrays copy out of the
 * mapping; BF16 and F16 are converted in Java.
 */
public interface TensorSource {

  /** Opens {@code model.safetensors.index.json}, {@code model.safetensors} or a single file. */
  static TensorSource open(Path path) throws IOException {
    if (Files.isDirectory(path)) {
      Path index = path.resolve(ShardedSafetensors.INDEX_FILE);
      if (Files.exists(index)) {
        return ShardedSafetensors.open(index);
      }
      Path single = path.resolve("model.safetensors");
      if (Files.exists(single)) {
        return SafetensorsFile.open(single);
      }
      if (Files.exists(path.resolve("pytorch_model.bin"))
          || Files.exists(path.resolve("pytorch_model.bin.index.json"))) {
        throw new SafetensorsException(
            path,
            null,
            "pickle checkpoints (pytorch_model.bin) are refused; convert to safetensors");
      }
      throw new SafetensorsException(
          path, null, "no model.safetensors or " + ShardedSafetensors.INDEX_FILE + " found");
    }
    if (path.getFileName() != null
        && path.getFileName().toString().equals(ShardedSafetensors.INDEX_FILE)) {
      return ShardedSafetensors.open(path);
    }
    return SafetensorsFile.open(path);
  }

  /** Where the tensors live (a file or a directory), for messages. */
  Path location();

  /** Tensor names, in header order. */
  Set<String> names();

  /** The {@code __metadata__} strings (of the first shard, for a sharded checkpoint). */
  Map<String, String> metadata();

  /** The header entry of {@code name}, if present. */
  Optional<TensorInfo> find(String name);

  /** The file holding {@code name} (for messages). */
  Path fileOf(String name) throws SafetensorsException;

  /** Position of the first byte of {@code name}'s data in {@link #fileOf}. */
  long dataOffset(String name) throws SafetensorsException;

  /** Largest window {@link #floats} and friends map at once (a multiple of every dtype width). */
  int WINDOW_BYTES = 1 << 30;

  /** Elements converted per parallel task. */
  int DECODE_CHUNK = 1 << 18;

  /**
   * A read-only little-endian view of {@code length} bytes of the tensor from {@code offset},
   * mapped from the file (no copy); tensors larger than 2 GiB are read through several windows.
   *
   * @throws SafetensorsException when the tensor is absent, the range lies outside it, or it cannot
   *     be mapped
   */
  ByteBuffer window(String name, long offset, int length) throws SafetensorsException;

  /**
   * A read-only little-endian view of the whole tensor, mapped from the file (no copy).
   *
   * @throws SafetensorsException when the tensor is absent, larger than 2 GiB, or cannot be mapped
   */
  default ByteBuffer buffer(String name) throws SafetensorsException {
    TensorInfo info = info(name);
    if (info.byteSize() > Integer.MAX_VALUE) {
      throw new SafetensorsException(
          fileOf(name), name, "larger than 2 GiB; read it through window()");
    }
    return window(name, 0, (int) info.byteSize());
  }

  /** Whether a tensor named {@code name} is present. */
  default boolean contains(String name) {
    return find(name).isPresent();
  }

  /** The header entry of {@code name}; throws naming the tensor when it is absent. */
  default TensorInfo info(String name) throws SafetensorsException {
    Optional<TensorInfo> info = find(name);
    if (info.isEmpty()) {
      throw new SafetensorsException(location(), name, "tensor missing");
    }
    return info.get();
  }

  /** Checks that {@code name} has exactly {@code expected} as its shape. */
  default TensorInfo requireShape(String name, long... expected) throws SafetensorsException {
    TensorInfo info = info(name);
    if (!info.hasShape(expected)) {
      throw new SafetensorsException(
          fileOf(name),
          name,
          "shape "
              + Arrays.toString(info.shape())
              + " (expected: "
              + Arrays.toString(expected)
              + ")");
    }
    return info;
  }

  /** The tensor's elements as floats, from F32, F16, BF16 or F64. */
  default float[] floats(String name) throws SafetensorsException {
    TensorInfo info = info(name);
    if (!info.dtype().isFloatingPoint()) {
      throw unsupported(info, "F32, F16, BF16 or F64");
    }
    float[] out = new float[arrayLength(info)];
    int width = info.dtype().bytes();
    for (long off = 0; off < info.byteSize(); off += WINDOW_BYTES) {
      int len = (int) Math.min(WINDOW_BYTES, info.byteSize() - off);
      decode(info.dtype(), window(name, off, len), out, (int) (off / width), len / width);
    }
    return out;
  }

  /**
   * A reader converting the tensor's elements (F32, F16, BF16 or F64) on demand, range by range,
   * for consumers that stream a tensor instead of copying it whole (NF4 quantization at load).
   * Close it to close its file.
   *
   * <p>Unlike the other accessors it reads with positional reads into a buffer per range, not
   * through a mapping: a mapping is unmapped only when its buffer is garbage-collected, so the
   * pages of every tensor streamed through one stay counted in the process's RSS until then (0.4 to
   * 0.7 GB of file-backed RSS while a 7B checkpoint loaded). Read this way they stay in the page
   * cache only.
   */
  default FloatReader floatReader(String name) throws SafetensorsException {
    TensorInfo info = info(name);
    if (!info.dtype().isFloatingPoint()) {
      throw unsupported(info, "F32, F16, BF16 or F64");
    }
    Path file = fileOf(name);
    long start = dataOffset(name);
    DType dtype = info.dtype();
    int width = dtype.bytes();
    FileChannel channel;
    try {
      channel = FileChannel.open(file, StandardOpenOption.READ);
    } catch (IOException e) {
      throw new SafetensorsException(file, name, "cannot open: " + e.getMessage(), e);
    }
    return new FloatReader() {
      @Override
      public void read(long offset, float[] dst, int dstOffset, int length) {
        if (offset < 0 || length < 0 || offset + length > info.elements()) {
          throw new IndexOutOfBoundsException(
              "elements ["
                  + offset
                  + ", "
                  + (offset + length)
                  + ") (expected: within "
                  + info.elements()
                  + ")");
        }
        ByteBuffer b = ByteBuffer.allocate(length * width).order(ByteOrder.LITTLE_ENDIAN);
        long position = start + offset * width;
        try {
          while (b.hasRemaining()) {
            if (channel.read(b, position + b.position()) < 0) {
              throw new SafetensorsException(file, name, "file ends inside the tensor");
            }
          }
        } catch (SafetensorsException e) {
          throw new UncheckedIOException(e);
        } catch (IOException e) {
          throw new UncheckedIOException(
              new SafetensorsException(file, name, "cannot read: " + e.getMessage(), e));
        }
        decodeRange(dtype, b, dst, dstOffset, 0, length);
      }

      @Override
      public void close() {
        try {
          channel.close();
        } catch (IOException e) {
          // read-only: nothing is lost
        }
      }
    };
  }

  /** As {@link #floats}, refusing NaN and infinite values with the index of the first one. */
  default float[] finiteFloats(String name) throws SafetensorsException {
    float[] v = floats(name);
    for (int i = 0; i < v.length; i++) {
      if (!Float.isFinite(v[i])) {
        throw new SafetensorsException(
            fileOf(name), name, "non-finite value " + v[i] + " at element " + i);
      }
    }
    return v;
  }

  /** The tensor's elements as F16 bits, from F16 (copied), F32 or BF16 (rounded). */
  default short[] float16(String name) throws SafetensorsException {
    TensorInfo info = info(name);
    if (info.dtype() == DType.F16) {
      short[] out = new short[arrayLength(info)];
      for (long off = 0; off < info.byteSize(); off += WINDOW_BYTES) {
        int len = (int) Math.min(WINDOW_BYTES, info.byteSize() - off);
        window(name, off, len).asShortBuffer().get(out, (int) (off / 2), len / 2);
      }
      return out;
    }
    return HalfFloats.floatToF16(floats(name));
  }

  /** The tensor's raw bytes (any dtype). */
  default byte[] bytes(String name) throws SafetensorsException {
    TensorInfo info = info(name);
    if (info.byteSize() > Integer.MAX_VALUE - 8) {
      throw new SafetensorsException(fileOf(name), name, "larger than 2 GiB");
    }
    byte[] out = new byte[(int) info.byteSize()];
    window(name, 0, out.length).get(out);
    return out;
  }

  /** The tensor's elements as longs, from I64, I32, I16, I8, U8 or BOOL. */
  default long[] longs(String name) throws SafetensorsException {
    TensorInfo info = info(name);
    ByteBuffer b = buffer(name);
    int n = arrayLength(info);
    long[] out = new long[n];
    for (int i = 0; i < n; i++) {
      out[i] =
          switch (info.dtype()) {
            case I64 -> b.getLong(8 * i);
            case I32 -> b.getInt(4 * i);
            case I16 -> b.getShort(2 * i);
            case I8 -> b.get(i);
            case U8, BOOL -> b.get(i) & 0xff;
            default -> throw unsupported(info, "I64, I32, I16, I8, U8 or BOOL");
          };
    }
    return out;
  }

  private static void decode(DType dtype, ByteBuffer b, float[] out, int from, int count) {
    if (dtype == DType.F32) {
      b.asFloatBuffer().get(out, from, count);
      return;
    }
    // Absolute reads leave the buffer untouched, so chunks convert in parallel.
    int chunks = (count + DECODE_CHUNK - 1) / DECODE_CHUNK;
    IntStream.range(0, chunks)
        .parallel()
        .forEach(
            c -> {
              int start = c * DECODE_CHUNK;
              int end = Math.min(count, start + DECODE_CHUNK);
              decodeRange(dtype, b, out, from, start, end);
            });
  }

  private static void decodeRange(
      DType dtype, ByteBuffer b, float[] out, int from, int start, int end) {
    switch (dtype) {
      case F32 -> {
        for (int i = start; i < end; i++) {
          out[from + i] = b.getFloat(4 * i);
        }
      }
      case F16 -> {
        for (int i = start; i < end; i++) {
          out[from + i] = HalfFloats.f16ToFloat(b.getShort(2 * i));
        }
      }
      case BF16 -> {
        for (int i = start; i < end; i++) {
          out[from + i] = HalfFloats.bf16ToFloat(b.getShort(2 * i));
        }
      }
      default -> {
        for (int i = start; i < end; i++) {
          out[from + i] = (float) b.getDouble(8 * i);
        }
      }
    }
  }

  private int arrayLength(TensorInfo info) throws SafetensorsException {
    long n = info.elements();
    if (n > Integer.MAX_VALUE - 8) {
      throw new SafetensorsException(
          fileOf(info.name()), info.name(), n + " elements do not fit one Java array");
    }
    return (int) n;
  }

  private SafetensorsException unsupported(TensorInfo info, String expected)
      throws SafetensorsException {
    return new SafetensorsException(
        fileOf(info.name()),
        info.name(),
        "unsupported dtype " + info.dtype() + " here (expected: " + expected + ")");
  }

  /** Little-endian, read-only, positioned at zero: how every buffer is handed out. */
  static ByteBuffer littleEndian(ByteBuffer b) {
    return b.asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
  }
}
