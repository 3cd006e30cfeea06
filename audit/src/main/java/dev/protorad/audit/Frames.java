package dev.protorad.audit;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.function.Consumer;
import java.util.function.Predicate;
import java.util.stream.IntStream;
import java.util.zip.CRC32C;
import org.jspecify.annotations.Nullable;

/**
 * Record framing in segment and checkpoint files: {@code magic(4) length(4) payload crc32c(4)}.
 *
 * <p>A scan tells a <em>torn</em> tail, what a crash in the middle of a write leaves (a prefix of a
 * frame, zero fill, or a last frame with a bad checksum), from <em>corrupt</em> bytes anywhere
 * (foreign bytes, a bad checksum followed by more data).
 */
final class Frames {

  static final int EVENT_MAGIC = 0x50524145; // "PRAE"
  static final int CHECKPOINT_MAGIC = 0x50524143; // "PRAC"
  static final int MAX_PAYLOAD = 1 << 20;
  private static final int OVERHEAD = 12;

  enum End {
    CLEAN,
    TORN,
    CORRUPT
  }

  /** Where a scan stopped: {@code offset} is the end of the last good frame. */
  record Scan(End end, long offset, int frames) {}

  private Frames() {}

  static int size(byte[] payload) {
    return payload.length + OVERHEAD;
  }

  static void put(ByteBuffer out, int magic, byte[] payload) {
    CRC32C crc = new CRC32C();
    crc.update(payload);
    out.putInt(magic).putInt(payload.length).put(payload).putInt((int) crc.getValue());
  }

  /** Reads {@code file} up to {@code limit} bytes, passing each good payload to {@code sink}. */
  static Scan scan(Path file, long limit, int magic, Consumer<byte[]> sink) throws IOException {
    return scanWhile(file, limit, magic, continuing(sink));
  }

  /** A sink for {@link #scanWhile} that takes every payload and never stops the scan. */
  private static Predicate<byte[]> continuing(Consumer<byte[]> sink) {
    return p -> {
      sink.accept(p);
      return true;
    };
  }

  /**
   * Like {@link #scan}, stopping (as {@link End#CLEAN}) after the first payload {@code sink}
   * answers false to: a reader that has what it came for.
   */
  static Scan scanWhile(Path file, long limit, int magic, Predicate<byte[]> sink)
      throws IOException {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      long total = Math.min(limit, ch.size());
      ByteBuffer buf = ByteBuffer.allocate((int) Math.min(total, Integer.MAX_VALUE - 8));
      readFully(ch, buf);
      buf.flip();
      return scan(buf, magic, sink);
    }
  }

  private static Scan scan(ByteBuffer buf, int magic, Predicate<byte[]> sink) {
    int frames = 0;
    boolean[] wanted = {true};
    Consumer<byte[]> tracked = p -> wanted[0] = sink.test(p);
    while (wanted[0] && buf.hasRemaining()) {
      int start = buf.position();
      End problem = frame(buf, magic, tracked);
      if (problem != null) {
        return new Scan(problem, start, frames);
      }
      frames++;
    }
    return new Scan(End.CLEAN, buf.position(), frames);
  }

  /** Consumes one frame; returns null if good, else how the bytes from here are bad. */
  private static @Nullable End frame(ByteBuffer buf, int magic, Consumer<byte[]> sink) {
    int start = buf.position();
    if (buf.remaining() < 8) {
      return isMagicPrefix(buf, magic) || isZeroFill(buf, start) ? End.TORN : End.CORRUPT;
    }
    int m = buf.getInt();
    int length = buf.getInt();
    if (m != magic || length < 0 || length > MAX_PAYLOAD) {
      return isZeroFill(buf, start) ? End.TORN : End.CORRUPT;
    }
    if (buf.remaining() < length + 4) {
      return End.TORN;
    }
    byte[] payload = new byte[length];
    buf.get(payload);
    int stored = buf.getInt();
    if (stored != crc(payload)) {
      return buf.hasRemaining() ? End.CORRUPT : End.TORN;
    }
    sink.accept(payload);
    return null;
  }

  private static int crc(byte[] payload) {
    CRC32C crc = new CRC32C();
    crc.update(payload);
    return (int) crc.getValue();
  }

  private static boolean isMagicPrefix(ByteBuffer buf, int magic) {
    ByteBuffer expected = ByteBuffer.allocate(4).putInt(magic).flip();
    int n = Math.min(4, buf.remaining());
    return IntStream.range(0, n).allMatch(i -> buf.get(buf.position() + i) == expected.get(i));
  }

  private static boolean isZeroFill(ByteBuffer buf, int from) {
    return IntStream.range(from, buf.limit()).allMatch(i -> buf.get(i) == 0);
  }

  private static void readFully(FileChannel ch, ByteBuffer buf) throws IOException {
    while (buf.hasRemaining() && ch.read(buf) >= 0) {
      // keep reading
    }
  }
}
