package dev.protorad.engine.safetensors;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * One safetensors file, validated when opened and memory-mapped per tensor on access.
 *
 * <p>The layout: an unsigned 64-bit little-endian header length {@code N}, {@code N} bytes of JSON
 * ({@code name → {dtype, shape, data_offsets}} plus an optional {@code __metadata__} of strings),
 * then the data section. Opening checks every entry against the file size (so a truncated file or a
 * header that lies about offsets fails here, with the file and tensor named) and never reads the
 * data. Each tensor is mapped on its own, so files larger than 2 GiB work as long as no single
 * tensor is larger than 2 GiB.
 */
public final class SafetensorsFile implements TensorSource {
  /** Largest header accepted (as the reference implementation: 100 MB). */
  public static final long MAX_HEADER_BYTES = 100_000_000L;

  private static final ObjectMapper JSON =
      JsonMapper.builder()
          .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
          .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
          .build();

  private final Path path;
  private final long dataStart;
  private final Map<String, TensorInfo> tensors;
  private final Map<String, String> metadata;

  private SafetensorsFile(
      Path path, long dataStart, Map<String, TensorInfo> tensors, Map<String, String> metadata) {
    this.path = path;
    this.dataStart = dataStart;
    this.tensors = tensors;
    this.metadata = metadata;
  }

  /**
   * Opens and validates {@code file}.
   *
   * @throws SafetensorsException naming the file (and tensor) when the file is missing, truncated,
   *     its header is not JSON or lies about offsets, sizes or dtypes
   */
  public static SafetensorsFile open(Path file) throws SafetensorsException {
    requireNonNull(file, "file");
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      long size = ch.size();
      long headerLength = headerLength(file, ch, size);
      ByteBuffer header = ByteBuffer.allocate((int) headerLength);
      readFully(ch, header, 8);
      long dataSize = size - 8 - headerLength;
      return parse(file, header.array(), 8 + headerLength, dataSize);
    } catch (NoSuchFileException e) {
      throw new SafetensorsException(file, null, "file not found", e);
    } catch (SafetensorsException e) {
      throw e;
    } catch (IOException e) {
      throw new SafetensorsException(file, null, "cannot read: " + e.getMessage(), e);
    }
  }

  @Override
  public Path location() {
    return path;
  }

  /** The file. */
  public Path path() {
    return path;
  }

  @Override
  public Set<String> names() {
    return Collections.unmodifiableSet(tensors.keySet());
  }

  @Override
  public Map<String, String> metadata() {
    return Collections.unmodifiableMap(metadata);
  }

  @Override
  public Optional<TensorInfo> find(String name) {
    return Optional.ofNullable(tensors.get(name));
  }

  @Override
  public Path fileOf(String name) {
    return path;
  }

  /** All header entries, in header order. */
  public List<TensorInfo> tensors() {
    return List.copyOf(tensors.values());
  }

  /** Offset of the data section in the file. */
  public long dataStart() {
    return dataStart;
  }

  @Override
  public long dataOffset(String name) throws SafetensorsException {
    return dataStart + info(name).begin();
  }

  @Override
  public ByteBuffer window(String name, long offset, int length) throws SafetensorsException {
    TensorInfo info = info(name);
    if (offset < 0 || length < 0 || offset + length > info.byteSize()) {
      throw new SafetensorsException(
          path,
          name,
          "window ["
              + offset
              + ", "
              + (offset + length)
              + ") outside its "
              + info.byteSize()
              + " bytes");
    }
    if (length == 0) {
      return TensorSource.littleEndian(ByteBuffer.allocate(0));
    }
    try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
      if (ch.size() < dataStart + info.end()) {
        throw new SafetensorsException(
            path, name, "file shrank to " + ch.size() + " bytes since it was opened");
      }
      return TensorSource.littleEndian(
          ch.map(FileChannel.MapMode.READ_ONLY, dataStart + info.begin() + offset, length));
    } catch (SafetensorsException e) {
      throw e;
    } catch (IOException e) {
      throw new SafetensorsException(path, name, "cannot map: " + e.getMessage(), e);
    }
  }

  private static long headerLength(Path file, FileChannel ch, long size) throws IOException {
    if (size < 8) {
      throw new SafetensorsException(
          file, null, "truncated: " + size + " bytes (expected: at least 8)");
    }
    ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
    readFully(ch, b, 0);
    long n = b.getLong(0);
    if (n < 2 || n > MAX_HEADER_BYTES) {
      throw new SafetensorsException(
          file,
          null,
          "header length " + Long.toUnsignedString(n) + " (expected: 2.." + MAX_HEADER_BYTES + ")");
    }
    if (n > size - 8) {
      throw new SafetensorsException(
          file, null, "header length " + n + " beyond the file's " + size + " bytes (truncated?)");
    }
    return n;
  }

  private static void readFully(FileChannel ch, ByteBuffer b, long position) throws IOException {
    long pos = position;
    while (b.hasRemaining()) {
      int r = ch.read(b, pos);
      if (r < 0) {
        throw new IOException("unexpected end of file");
      }
      pos += r;
    }
  }

  private static SafetensorsFile parse(Path file, byte[] header, long dataStart, long dataSize)
      throws SafetensorsException {
    JsonNode root;
    try {
      root = JSON.readTree(header);
    } catch (IOException e) {
      String why = e instanceof JsonProcessingException j ? j.getOriginalMessage() : e.getMessage();
      throw new SafetensorsException(file, null, "header is not JSON (" + why + ")", e);
    }
    if (root == null || !root.isObject()) {
      throw new SafetensorsException(file, null, "header is not a JSON object");
    }
    Map<String, String> metadata = new LinkedHashMap<>();
    Map<String, TensorInfo> tensors = new LinkedHashMap<>();
    for (Map.Entry<String, JsonNode> e : root.properties()) {
      if (e.getKey().equals("__metadata__")) {
        metadata = metadata(file, e.getValue());
      } else {
        tensors.put(e.getKey(), entry(file, e.getKey(), e.getValue(), dataSize));
      }
    }
    checkOverlaps(file, tensors);
    return new SafetensorsFile(file, dataStart, tensors, metadata);
  }

  private static Map<String, String> metadata(Path file, JsonNode node)
      throws SafetensorsException {
    if (!node.isObject()) {
      throw new SafetensorsException(file, null, "__metadata__ is not an object of strings");
    }
    Map<String, String> out = new LinkedHashMap<>();
    for (Map.Entry<String, JsonNode> e : node.properties()) {
      if (!e.getValue().isTextual()) {
        throw new SafetensorsException(
            file, null, "__metadata__." + e.getKey() + " is not a string");
      }
      out.put(e.getKey(), e.getValue().textValue());
    }
    return out;
  }

  private static TensorInfo entry(Path file, String name, JsonNode node, long dataSize)
      throws SafetensorsException {
    if (!node.isObject()) {
      throw new SafetensorsException(file, name, "header entry is not an object");
    }
    DType dtype = dtype(file, name, node.get("dtype"));
    long[] shape = longs(file, name, node.get("shape"), "shape", -1);
    long[] offsets = longs(file, name, node.get("data_offsets"), "data_offsets", 2);
    long begin = offsets[0];
    long end = offsets[1];
    if (begin > end) {
      throw new SafetensorsException(
          file, name, "data_offsets [" + begin + ", " + end + "] end before they begin");
    }
    if (end > dataSize) {
      throw new SafetensorsException(
          file,
          name,
          "data_offsets end at "
              + end
              + " beyond the data section's "
              + dataSize
              + " bytes (truncated file or lying header)");
    }
    long expected;
    try {
      expected = Math.multiplyExact(TensorInfo.elements(shape), dtype.bytes());
    } catch (ArithmeticException e) {
      throw new SafetensorsException(file, name, "shape overflows", e);
    }
    if (end - begin != expected) {
      throw new SafetensorsException(
          file,
          name,
          "data_offsets span "
              + (end - begin)
              + " bytes but shape "
              + java.util.Arrays.toString(shape)
              + " of "
              + dtype
              + " needs "
              + expected);
    }
    return new TensorInfo(name, dtype, shape, begin, end);
  }

  private static DType dtype(Path file, String name, JsonNode node) throws SafetensorsException {
    if (node == null || !node.isTextual()) {
      throw new SafetensorsException(file, name, "dtype missing or not a string");
    }
    Optional<DType> t = DType.parse(node.textValue());
    if (t.isEmpty()) {
      throw new SafetensorsException(file, name, "unsupported dtype " + node.textValue());
    }
    return t.get();
  }

  private static long[] longs(Path file, String name, JsonNode node, String key, int length)
      throws SafetensorsException {
    if (node == null || !node.isArray() || (length >= 0 && node.size() != length)) {
      throw new SafetensorsException(
          file,
          name,
          key + " " + node + " (expected: an array" + (length >= 0 ? " of " + length : "") + ")");
    }
    long[] out = new long[node.size()];
    for (int i = 0; i < out.length; i++) {
      JsonNode v = node.get(i);
      if (!v.isIntegralNumber() || !v.canConvertToLong() || v.longValue() < 0) {
        throw new SafetensorsException(
            file, name, key + " " + node + " (expected: non-negative integers)");
      }
      out[i] = v.longValue();
    }
    return out;
  }

  private static void checkOverlaps(Path file, Map<String, TensorInfo> tensors)
      throws SafetensorsException {
    List<TensorInfo> sorted = new ArrayList<>(tensors.values());
    sorted.sort(Comparator.comparingLong(TensorInfo::begin).thenComparingLong(TensorInfo::end));
    TensorInfo previous = null;
    for (TensorInfo t : sorted) {
      if (t.byteSize() == 0) {
        continue;
      }
      if (previous != null && t.begin() < previous.end()) {
        throw new SafetensorsException(
            file,
            t.name(),
            "data_offsets ["
                + t.begin()
                + ", "
                + t.end()
                + ") overlap tensor "
                + previous.name()
                + " ["
                + previous.begin()
                + ", "
                + previous.end()
                + ")");
      }
      previous = t;
    }
  }
}
