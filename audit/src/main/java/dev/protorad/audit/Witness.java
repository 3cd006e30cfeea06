package dev.protorad.audit;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Signed heads kept outside the store: each writer's latest checkpoint, written to {@code
 * <writer>.head} in a directory that should live on another volume (or host) than the log. A log
 * cut back, rolled back to an older copy or rewritten after its last checkpoint no longer reaches
 * the witnessed head with the same record hash, and verification says so; on open after a crash the
 * writer does not seal a log that ends before its witnessed head.
 *
 * <p>Each head replaces the previous one atomically (a temporary file, forced, then renamed). A
 * writer that finds on opening that its chain no longer reaches its head keeps that head apart, as
 * a cut record ({@link #recordCut}), which later heads do not replace.
 */
final class Witness {

  private static final String SUFFIX = ".head";
  private static final String CUT_SUFFIX = ".cut";

  private final Path dir;

  private Witness(Path dir) {
    this.dir = dir;
  }

  /** A witness in {@code dir} (created owner-only if absent). */
  static Witness in(Path dir) throws IOException {
    requireNonNull(dir, "dir");
    if (!Files.isDirectory(dir)) {
      Files.createDirectories(
          dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    }
    return new Witness(dir);
  }

  /**
   * Records the newest signed checkpoint of {@code written} (anchors aside) as the writer's
   * witnessed head; nothing when there is none.
   */
  void publishNewest(List<Checkpoint> written) throws IOException {
    Optional<Checkpoint> head = lastCheckpoint(written);
    if (head.isPresent()) {
      publish(head.get());
    }
  }

  /** The last signed checkpoint (not anchor) of {@code written}. */
  private static Optional<Checkpoint> lastCheckpoint(List<Checkpoint> written) {
    return written.stream()
        .filter(c -> c.kind() == Checkpoint.Kind.CHECKPOINT)
        .reduce((earlier, later) -> later);
  }

  /** Records {@code head} as its writer's witnessed head, durably. */
  void publish(Checkpoint head) throws IOException {
    Path target = dir.resolve(head.writerId() + SUFFIX);
    Path temp = dir.resolve(head.writerId() + SUFFIX + ".tmp");
    writeDurably(temp, target, head.toJson() + "\n");
  }

  /** Writes {@code text} to {@code temp}, forces it, renames it over {@code target}. */
  private void writeDurably(Path temp, Path target, String text) throws IOException {
    byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
    Files.deleteIfExists(temp);
    try (FileChannel ch =
        FileChannel.open(
            temp,
            Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE),
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")))) {
      ByteBuffer buf = ByteBuffer.wrap(bytes);
      while (buf.hasRemaining()) {
        ch.write(buf);
      }
      ch.force(true);
    }
    try {
      Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING);
    }
    try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
      d.force(true);
    }
  }

  /**
   * Keeps {@code head} as evidence that its writer, on opening, found its chain cut back, rolled
   * back or rewritten before it: {@code <writer>.cut}, written once and never replaced, so that
   * later heads of the continuing chain cannot hide it. Verification reports it until an operator,
   * having investigated, removes the file.
   */
  void recordCut(Checkpoint head, String problem) throws IOException {
    Path target = dir.resolve(head.writerId() + CUT_SUFFIX);
    if (Files.exists(target)) {
      return;
    }
    Path temp = dir.resolve(head.writerId() + CUT_SUFFIX + ".tmp");
    writeDurably(temp, target, problem.replace('\n', ' ') + "\n" + head.toJson() + "\n");
  }

  /** A cut record: what the writer found, and the head its log or chain no longer reached. */
  record Cut(String problem, long headSequence) {
    /** What verification reports. */
    String verifyProblem() {
      return "found on reopening, kept by the witness: " + problem;
    }
  }

  /** Each writer's cut record, by writer id; empty when no cut was found. */
  java.util.Map<String, Cut> cuts() throws IOException {
    java.util.Map<String, Cut> out = new java.util.TreeMap<>();
    try (var files = Files.list(dir)) {
      for (Path f : files.toList()) {
        String name = f.getFileName().toString();
        if (name.endsWith(CUT_SUFFIX)) {
          List<String> lines = Files.readString(f, StandardCharsets.UTF_8).lines().toList();
          long sequence = 0;
          try {
            sequence = lines.size() > 1 ? Checkpoint.parse(lines.get(1)).sequence() : 0;
          } catch (IllegalArgumentException e) {
            // the record still stands; its head is unreadable
          }
          String problem = lines.isEmpty() ? "cut record without text" : lines.get(0);
          out.put(
              name.substring(0, name.length() - CUT_SUFFIX.length()), new Cut(problem, sequence));
        }
      }
    }
    return out;
  }

  /** Every writer's witnessed head, by writer id. */
  java.util.Map<String, Checkpoint> heads() throws IOException {
    java.util.Map<String, Checkpoint> out = new java.util.TreeMap<>();
    try (var files = Files.list(dir)) {
      for (Path f : files.toList()) {
        String name = f.getFileName().toString();
        if (name.endsWith(SUFFIX)) {
          String writer = name.substring(0, name.length() - SUFFIX.length());
          head(writer).ifPresent(h -> out.put(writer, h));
        }
      }
    }
    return out;
  }

  /**
   * The witnessed head of {@code writerId}, if any.
   *
   * @throws IOException when the head file exists but cannot be read or parsed
   */
  Optional<Checkpoint> head(String writerId) throws IOException {
    try {
      String json = Files.readString(dir.resolve(writerId + SUFFIX), StandardCharsets.UTF_8);
      return Optional.of(Checkpoint.parse(json.strip()));
    } catch (NoSuchFileException e) {
      return Optional.empty();
    } catch (IllegalArgumentException e) {
      throw new IOException("witnessed head of " + writerId + " is unreadable", e);
    }
  }
}
