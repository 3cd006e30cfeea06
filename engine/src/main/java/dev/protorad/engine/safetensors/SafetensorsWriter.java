package dev.protorad.engine.safetensors;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Writes one safetensors file: tensors are added (as arrays, raw bytes or generated on the fly) and
 * streamed to disk by {@link #write}, so a file can be far larger than the heap. Floats are
 * converted to F32, F16 or BF16 on the way out; the header is padded with spaces to 8 bytes.
 */
public final class SafetensorsWriter {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int CHUNK = 1 << 20;

  /** Produces the values of a generated tensor chunk by chunk, in order. */
  @FunctionalInterface
  public interface FloatGenerator {
    /** Fills {@code chunk[0..length)} with the elements starting at {@code offset}. */
    void fill(long offset, float[] chunk, int length);
  }

  private interface Payload {
    void write(FileChannel ch, DType dtype, long elements) throws IOException;
  }

  private record Entry(String name, DType dtype, long[] shape, Payload payload) {
    long bytes() {
      return TensorInfo.elements(shape) * dtype.bytes();
    }
  }

  private final Map<String, String> metadata = new LinkedHashMap<>();
  private final List<Entry> entries = new ArrayList<>();
  private final Set<String> names = new HashSet<>();

  private SafetensorsWriter() {}

  /** An empty writer. */
  public static SafetensorsWriter create() {
    return new SafetensorsWriter();
  }

  /** Adds a {@code __metadata__} entry. */
  public SafetensorsWriter metadata(String key, String value) {
    metadata.put(requireNonNull(key, "key"), requireNonNull(value, "value"));
    return this;
  }

  /** Adds floats stored as {@code dtype} (F32, F16 or BF16). */
  public SafetensorsWriter addFloats(String name, DType dtype, long[] shape, float[] values) {
    requireNonNull(values, "values");
    requireFloatType(dtype);
    checkLength(name, shape, values.length);
    return add(
        name,
        dtype,
        shape,
        (ch, t, n) -> writeGenerated(ch, t, n, (off, c, len) -> copy(values, off, c, len)));
  }

  /** Adds F16 bit patterns as an F16 tensor. */
  public SafetensorsWriter addF16(String name, long[] shape, short[] bits) {
    requireNonNull(bits, "bits");
    checkLength(name, shape, bits.length);
    return add(name, DType.F16, shape, (ch, t, n) -> writeShorts(ch, bits));
  }

  /** Adds raw little-endian bytes of any dtype; their length must match shape × dtype. */
  public SafetensorsWriter addBytes(String name, DType dtype, long[] shape, byte[] raw) {
    requireNonNull(raw, "raw");
    requireNonNull(dtype, "dtype");
    long expected = TensorInfo.elements(shape) * dtype.bytes();
    if (raw.length != expected) {
      throw new IllegalArgumentException(
          "raw: " + raw.length + " bytes for " + name + " (expected: " + expected + ")");
    }
    return add(name, dtype, shape, (ch, t, n) -> writeAll(ch, ByteBuffer.wrap(raw)));
  }

  /** Adds a tensor whose floats are produced chunk by chunk when the file is written. */
  public SafetensorsWriter addGenerated(
      String name, DType dtype, long[] shape, FloatGenerator generator) {
    requireNonNull(generator, "generator");
    requireFloatType(dtype);
    return add(name, dtype, shape, (ch, t, n) -> writeGenerated(ch, t, n, generator));
  }

  /** Bytes of tensor data added so far. */
  public long dataBytes() {
    return entries.stream().mapToLong(Entry::bytes).sum();
  }

  /** Number of tensors added so far. */
  public int size() {
    return entries.size();
  }

  /** Names added so far, in order. */
  public List<String> names() {
    return entries.stream().map(Entry::name).toList();
  }

  /** Writes the file (through a temporary file in the same directory, then a move). */
  public void write(Path file) throws IOException {
    requireNonNull(file, "file");
    byte[] header = header();
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    try (FileChannel ch =
        FileChannel.open(
            tmp,
            StandardOpenOption.CREATE,
            StandardOpenOption.TRUNCATE_EXISTING,
            StandardOpenOption.WRITE)) {
      ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
      len.putLong(0, header.length);
      writeAll(ch, len);
      writeAll(ch, ByteBuffer.wrap(header));
      for (Entry e : entries) {
        long before = ch.position();
        e.payload().write(ch, e.dtype(), TensorInfo.elements(e.shape()));
        if (ch.position() - before != e.bytes()) {
          throw new IllegalStateException(
              e.name() + ": wrote " + (ch.position() - before) + " bytes, expected " + e.bytes());
        }
      }
    } catch (IOException | RuntimeException e) {
      Files.deleteIfExists(tmp);
      throw e;
    }
    Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }

  private SafetensorsWriter add(String name, DType dtype, long[] shape, Payload payload) {
    requireNonNull(name, "name");
    requireNonNull(dtype, "dtype");
    requireNonNull(shape, "shape");
    if (name.equals("__metadata__") || !names.add(name)) {
      throw new IllegalArgumentException("name: " + name + " (expected: a new tensor name)");
    }
    for (long d : shape) {
      if (d < 0) {
        throw new IllegalArgumentException(
            "shape: " + Arrays.toString(shape) + " (expected: dimensions >= 0)");
      }
    }
    entries.add(new Entry(name, dtype, shape.clone(), payload));
    return this;
  }

  private byte[] header() {
    ObjectNode root = JSON.createObjectNode();
    if (!metadata.isEmpty()) {
      ObjectNode meta = root.putObject("__metadata__");
      metadata.forEach(meta::put);
    }
    long offset = 0;
    for (Entry e : entries) {
      ObjectNode t = root.putObject(e.name());
      t.put("dtype", e.dtype().name());
      ArrayNode shape = t.putArray("shape");
      for (long d : e.shape()) {
        shape.add(d);
      }
      t.putArray("data_offsets").add(offset).add(offset + e.bytes());
      offset += e.bytes();
    }
    try {
      StringBuilder sb = new StringBuilder(JSON.writeValueAsString(root));
      while (sb.toString().getBytes(StandardCharsets.UTF_8).length % 8 != 0) {
        sb.append(' ');
      }
      return sb.toString().getBytes(StandardCharsets.UTF_8);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  private static void writeGenerated(
      FileChannel ch, DType dtype, long elements, FloatGenerator generator) throws IOException {
    int chunkLen = (int) Math.min(CHUNK, elements);
    float[] chunk = new float[Math.max(chunkLen, 1)];
    ByteBuffer buf =
        ByteBuffer.allocate(Math.max(chunkLen, 1) * dtype.bytes()).order(ByteOrder.LITTLE_ENDIAN);
    for (long off = 0; off < elements; off += chunkLen) {
      int len = (int) Math.min(chunkLen, elements - off);
      generator.fill(off, chunk, len);
      buf.clear();
      encode(chunk, len, dtype, buf);
      buf.flip();
      writeAll(ch, buf);
    }
  }

  private static void encode(float[] chunk, int len, DType dtype, ByteBuffer buf) {
    for (int i = 0; i < len; i++) {
      switch (dtype) {
        case F32 -> buf.putFloat(chunk[i]);
        case F16 -> buf.putShort(HalfFloats.floatToF16(chunk[i]));
        case BF16 -> buf.putShort(HalfFloats.floatToBf16(chunk[i]));
        default -> throw new IllegalArgumentException("dtype: " + dtype);
      }
    }
  }

  private static void writeShorts(FileChannel ch, short[] bits) throws IOException {
    ByteBuffer buf = ByteBuffer.allocate(CHUNK * 2).order(ByteOrder.LITTLE_ENDIAN);
    for (int off = 0; off < bits.length; off += CHUNK) {
      int len = Math.min(CHUNK, bits.length - off);
      buf.clear();
      buf.asShortBuffer().put(bits, off, len);
      buf.limit(len * 2);
      writeAll(ch, buf);
    }
  }

  private static void copy(float[] src, long off, float[] chunk, int len) {
    System.arraycopy(src, (int) off, chunk, 0, len);
  }

  private static void writeAll(FileChannel ch, ByteBuffer b) throws IOException {
    while (b.hasRemaining()) {
      ch.write(b);
    }
  }

  private static void requireFloatType(DType dtype) {
    requireNonNull(dtype, "dtype");
    if (dtype != DType.F32 && dtype != DType.F16 && dtype != DType.BF16) {
      throw new IllegalArgumentException("dtype: " + dtype + " (expected: F32, F16 or BF16)");
    }
  }

  private static void checkLength(String name, long[] shape, int length) {
    requireNonNull(shape, "shape");
    if (TensorInfo.elements(shape) != length) {
      throw new IllegalArgumentException(
          name
              + ": "
              + length
              + " values for shape "
              + Arrays.toString(shape)
              + " (expected: "
              + TensorInfo.elements(shape)
              + ")");
    }
  }
}
