package dev.protorad.audit;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** What an attacker with file access does to a store directory. */
final class SegmentFiles {

  private SegmentFiles() {}

  static Path onlySegment(Path dir) throws IOException {
    List<Segments.Segment> segments = Segments.list(dir);
    if (segments.size() != 1) {
      throw new IllegalStateException("expected one segment, found " + segments.size());
    }
    return segments.get(0).path();
  }

  static List<String> records(Path file, int magic) throws IOException {
    List<String> out = new ArrayList<>();
    Frames.scan(file, Long.MAX_VALUE, magic, p -> out.add(new String(p, StandardCharsets.UTF_8)));
    return out;
  }

  /** Rewrites {@code file} with well-formed frames (valid checksums) around {@code records}. */
  static void write(Path file, int magic, List<String> records) throws IOException {
    List<byte[]> payloads = records.stream().map(r -> r.getBytes(StandardCharsets.UTF_8)).toList();
    ByteBuffer buf = ByteBuffer.allocate(payloads.stream().mapToInt(Frames::size).sum());
    payloads.forEach(p -> Frames.put(buf, magic, p));
    Files.write(file, buf.array());
  }

  /** Byte offset of the payload of record {@code index} (0-based). */
  static long payloadOffset(Path file, int index) throws IOException {
    long offset = 0;
    List<String> records = records(file, Frames.EVENT_MAGIC);
    for (int i = 0; i < index; i++) {
      offset += Frames.size(records.get(i).getBytes(StandardCharsets.UTF_8));
    }
    return offset + 8;
  }

  static void flipBit(Path file, long offset, int bit) throws IOException {
    try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
      raf.seek(offset);
      int b = raf.read();
      raf.seek(offset);
      raf.write(b ^ (1 << bit));
    }
  }

  static void append(Path file, byte[] bytes) throws IOException {
    try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
      raf.seek(raf.length());
      raf.write(bytes);
    }
  }

  /** Rebuilds the chain from {@code from} (0-based) on, as an attacker without the key can. */
  static List<String> rechain(List<String> records, int from) {
    List<String> out = new ArrayList<>(records.subList(0, from));
    String previous =
        from == 0 ? Hashes.GENESIS : EventCodec.parse(records.get(from - 1)).recordHash();
    for (String r : records.subList(from, records.size())) {
      AuditEvent e = EventCodec.parse(r);
      AuditEvent forged =
          AuditEvent.seal(e.writerId(), e.sequence(), e.time(), e.details(), previous);
      out.add(forged.toJson());
      previous = forged.recordHash();
    }
    return out;
  }

  /** The record with its principal replaced, hash left as it was. */
  static String withPrincipal(String record, String principal) {
    AuditEvent e = EventCodec.parse(record);
    EventDraft d = e.details();
    EventDraft edited =
        new EventDraft(
            d.action(),
            d.outcome(),
            d.statusCode(),
            principal,
            d.onBehalfOf(),
            d.roles(),
            d.clientAddress(),
            d.orderId(),
            d.patientRef(),
            d.noteHmac(),
            d.noteHmacKeyId(),
            d.labelId(),
            d.confidence(),
            d.adapterVersion(),
            d.baseFingerprint(),
            d.traceId(),
            d.breakGlassReason(),
            d.predictionId(),
            d.occurrences());
    return new AuditEvent(
            e.writerId(), e.sequence(), e.time(), edited, e.previousHash(), e.recordHash())
        .toJson();
  }
}
