package dev.protorad.audit;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/** File names and read access of a segment directory. */
final class Segments {

  static final String CHECKPOINTS = "checkpoints.log";
  static final String LOCK = "writer.lock";
  private static final Pattern NAME = Pattern.compile("segment-(\\d{20})\\.log");

  /** A segment file and the sequence of its first event. */
  record Segment(Path path, long firstSequence) {}

  /** What a read of the directory saw: the checkpoints and whether any was damaged. */
  record CheckpointRead(List<Checkpoint> checkpoints, List<Long> damagedAfter) {}

  private Segments() {}

  static Path segmentPath(Path dir, long firstSequence) {
    return dir.resolve(String.format("segment-%020d.log", firstSequence));
  }

  /** Segment files, oldest first. */
  static List<Segment> list(Path dir) throws IOException {
    List<Segment> segments = new ArrayList<>();
    try (Stream<Path> files = Files.list(dir)) {
      files.forEach(
          f -> {
            Matcher m = NAME.matcher(f.getFileName().toString());
            if (m.matches()) {
              segments.add(new Segment(f, Long.parseLong(m.group(1))));
            }
          });
    }
    segments.sort(Comparator.comparingLong(Segment::firstSequence));
    return segments;
  }

  /** Reads the checkpoint file up to {@code limit} bytes. */
  static CheckpointRead readCheckpoints(Path dir, long limit) throws IOException {
    Path file = dir.resolve(CHECKPOINTS);
    List<Checkpoint> checkpoints = new ArrayList<>();
    List<Long> damaged = new ArrayList<>();
    if (!Files.exists(file)) {
      return new CheckpointRead(checkpoints, damaged);
    }
    Frames.Scan scan =
        Frames.scan(
            file, limit, Frames.CHECKPOINT_MAGIC, p -> addCheckpoint(p, checkpoints, damaged));
    if (scan.end() == Frames.End.CORRUPT) {
      damaged.add(lastSequence(checkpoints));
    }
    return new CheckpointRead(checkpoints, damaged);
  }

  /**
   * Feeds each stored event of {@code segment} (as JSON) to {@code records}; returns how the scan
   * ended.
   */
  static Frames.Scan readEvents(Segment segment, long limit, Consumer<String> records)
      throws IOException {
    return Frames.scan(segment.path(), limit, Frames.EVENT_MAGIC, p -> records.accept(utf8(p)));
  }

  /**
   * Reads a segment for a query: parses only the records whose bytes {@code candidate} accepts
   * (skipping unreadable ones, which verification reports), and stops once {@code events} answers
   * false.
   */
  static void readWhile(
      Segment segment, long limit, Predicate<byte[]> candidate, Predicate<AuditEvent> events) {
    try {
      Frames.scanWhile(
          segment.path(),
          limit,
          Frames.EVENT_MAGIC,
          p -> {
            if (!candidate.test(p)) {
              return true;
            }
            try {
              return events.test(EventCodec.parse(utf8(p)));
            } catch (IllegalArgumentException e) {
              return true; // verify() reports it; a query shows what can be read
            }
          });
    } catch (IOException e) {
      throw new AuditUnavailableException("audit segment unreadable: " + e, e);
    }
  }

  /** Like {@link #readEvents} but parsing, skipping unreadable records (queries). */
  static void readParsed(Segment segment, long limit, Consumer<AuditEvent> events) {
    readWhile(
        segment,
        limit,
        p -> true,
        e -> {
          events.accept(e);
          return true;
        });
  }

  private static void addCheckpoint(byte[] payload, List<Checkpoint> out, List<Long> damaged) {
    try {
      out.add(Checkpoint.parse(utf8(payload)));
    } catch (IllegalArgumentException e) {
      damaged.add(lastSequence(out));
    }
  }

  private static String utf8(byte[] payload) {
    return new String(payload, StandardCharsets.UTF_8);
  }

  private static long lastSequence(List<Checkpoint> checkpoints) {
    return checkpoints.isEmpty() ? 0 : checkpoints.get(checkpoints.size() - 1).sequence();
  }
}
