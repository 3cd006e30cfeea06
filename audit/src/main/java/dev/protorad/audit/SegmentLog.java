package dev.protorad.audit;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The writing side of {@link FileAuditStore}: one writer thread appends framed events to the active
 * segment, flushes once per batch and signs checkpoints into {@code checkpoints.log}.
 *
 * <p>Recovery on open. A crash can leave the end of the last segment (or of the checkpoint file)
 * half written: a frame prefix, zero fill or a last frame with a bad checksum. Those bytes were
 * never acknowledged, because callers are woken only after the flush, so they are moved to a {@code
 * .torn-<millis>} file next to the segment (kept as evidence) and the segment is truncated to its
 * last complete record. Complete records that reached the file before the crash are kept, even if
 * unacknowledged. Any other damage is left in place for {@link AuditStore#verify()} to report, and
 * writing continues in a new segment. Finally the recovered tail is checked against the last
 * checkpoint and sealed with a new one, so that a crash leaves no unsealed gap.
 */
final class SegmentLog implements GroupCommitter.Sink, AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(SegmentLog.class);

  // Events name patients and orders: only the server's user may read them.
  private static final FileAttribute<Set<PosixFilePermission>> OWNER_ONLY =
      PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"));
  private static final Set<PosixFilePermission> OWNER_ONLY_DIR =
      PosixFilePermissions.fromString("rwx------");

  /** What readers may see: the active segment and the checkpoint file up to durable lengths. */
  record Snapshot(long activeFirstSequence, long activeLength, long checkpointsLength) {}

  private final FileAuditStore.Settings settings;
  private final Path dir;
  private final FileChannel lockChannel;
  private final FileLock lock;

  @SuppressWarnings("NullAway.Init") // opened by recover(), which open() runs at once
  private FileChannel checkpoints;

  private long checkpointsSize;

  @SuppressWarnings("NullAway.Init") // likewise
  private FileChannel active;

  private long activeFirstSequence;
  private long activeSize;
  private long lastSequence;
  private String lastHash = Hashes.GENESIS;
  private @Nullable Checkpoint resumePoint;

  @SuppressWarnings("NullAway.Init") // likewise
  private Checkpointer checkpointer;

  private boolean broken;
  private final @Nullable Witness witness;
  private volatile @Nullable String problemAtOpen;
  private volatile @Nullable Snapshot snapshot;

  private SegmentLog(
      FileAuditStore.Settings settings,
      FileChannel lockChannel,
      FileLock lock,
      @Nullable Witness witness) {
    this.settings = settings;
    this.dir = settings.directory();
    this.lockChannel = lockChannel;
    this.lock = lock;
    this.witness = witness;
  }

  /** The writer's cut record in the witness ({@link Witness#recordCut}), if there is one. */
  Optional<Witness.Cut> witnessedCut() throws IOException {
    return witness == null
        ? Optional.empty()
        : Optional.ofNullable(witness.cuts().get(settings.writerId()));
  }

  /** The writer's witnessed head, when a witness is kept and has one. */
  Optional<Checkpoint> witnessedHead() throws IOException {
    return witness == null ? Optional.empty() : witness.head(settings.writerId());
  }

  static SegmentLog open(FileAuditStore.Settings settings) throws IOException {
    Path dir = settings.directory();
    Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(OWNER_ONLY_DIR));
    FileChannel lockChannel =
        FileChannel.open(
            dir.resolve(Segments.LOCK), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
    FileLock lock = lockChannel.tryLock();
    if (lock == null) {
      lockChannel.close();
      throw new IllegalStateException(dir + ": audit directory in use by another writer");
    }
    Witness witness = settings.witness().isPresent() ? Witness.in(settings.witness().get()) : null;
    SegmentLog segmentLog = new SegmentLog(settings, lockChannel, lock, witness);
    try {
      segmentLog.recover();
    } catch (IOException | RuntimeException e) {
      segmentLog.close();
      throw e;
    }
    return segmentLog;
  }

  @Nullable Snapshot snapshot() {
    return snapshot;
  }

  long lastSequence() {
    return lastSequence;
  }

  @Override
  public List<AuditEvent> write(List<EventDraft> drafts) throws IOException {
    if (broken) {
      throw new AuditUnavailableException(
          "audit segment store failed earlier; reopen it once the cause is fixed");
    }
    Position before = position();
    try {
      return append(drafts);
    } catch (IOException e) {
      if (rollBack(before)) {
        // Nothing of the batch was acknowledged: the files are as they were, so a later append
        // (once the disk has room again) continues the chain where it stood.
        log.warn("audit segment write failed, rolled back; the next append tries again: {}", e);
        throw new AuditUnavailableException(
            "audit segment write failed: " + e.getClass().getSimpleName(), e);
      }
      throw fail(e);
    } catch (RuntimeException e) {
      throw fail(e);
    }
  }

  private AuditUnavailableException fail(Exception e) {
    broken = true;
    log.error("audit segment write failed; refusing further appends: {}", e.toString());
    return new AuditUnavailableException(
        "audit segment write failed: " + e.getClass().getSimpleName(), e);
  }

  /** Where the writer stood before a batch. */
  private record Position(
      FileChannel segment, long segmentSize, long checkpointsSize, long sequence, String hash) {}

  private Position position() {
    return new Position(active, activeSize, checkpointsSize, lastSequence, lastHash);
  }

  /**
   * Cuts the active segment and the checkpoint file back to where they stood before a failed batch
   * (a full disk leaves part of it written) and forgets the batch; false when that is not possible
   * (the batch started a new segment, or the files cannot be cut), and the log must stop.
   */
  private boolean rollBack(Position before) {
    if (active == null || active != before.segment()) {
      return false;
    }
    try {
      active.truncate(before.segmentSize());
      active.force(true);
      checkpoints.truncate(before.checkpointsSize());
      checkpoints.force(true);
    } catch (IOException e) {
      return false;
    }
    activeSize = before.segmentSize();
    checkpointsSize = before.checkpointsSize();
    lastSequence = before.sequence();
    lastHash = before.hash();
    publish();
    return true;
  }

  /** Seals the events after the last checkpoint with a new one; writer thread. */
  boolean sealNow() throws IOException {
    if (broken) {
      throw new AuditUnavailableException(
          "audit segment store failed earlier; reopen it once the cause is fixed");
    }
    if (active == null) {
      return false;
    }
    List<Checkpoint> seal = checkpointer.seal(lastSequence, lastHash);
    writeCheckpoints(seal);
    publish();
    return !seal.isEmpty();
  }

  @Override
  public void closing() throws IOException {
    if (!broken && active != null) {
      writeCheckpoints(checkpointer.seal(lastSequence, lastHash));
      publish();
    }
  }

  /** Removes whole segments whose newest event is older than {@code cutoff}; writer thread. */
  long purge(Instant cutoff) throws IOException {
    List<Segments.Segment> expired = new ArrayList<>();
    AuditEvent newest = null;
    for (Segments.Segment s : closedSegments()) {
      AuditEvent e = newestEvent(s);
      if (e == null || !e.time().isBefore(cutoff)) {
        break;
      }
      expired.add(s);
      newest = e;
    }
    if (newest == null) {
      return 0;
    }
    writeCheckpoints(List.of(checkpointer.anchor(newest.sequence(), newest.recordHash())));
    publish();
    for (Segments.Segment s : expired) {
      Files.delete(s.path());
    }
    forceDirectory();
    return newest.sequence() - expired.get(0).firstSequence() + 1;
  }

  private List<Segments.Segment> closedSegments() throws IOException {
    return Segments.list(dir).stream()
        .filter(s -> s.firstSequence() < activeFirstSequence)
        .toList();
  }

  @Override
  public void close() throws IOException {
    try {
      closeQuietly(active);
      closeQuietly(checkpoints);
      if (lock.isValid()) {
        lock.release();
      }
    } finally {
      lockChannel.close();
    }
  }

  private List<AuditEvent> append(List<EventDraft> drafts) throws IOException {
    if (activeSize >= settings.maxSegmentBytes()) {
      rotate();
    }
    List<AuditEvent> events = seal(drafts);
    ByteBuffer frames = frames(events);
    int length = frames.remaining();
    writeFully(active, frames, activeSize);
    active.force(false);
    activeSize += length;
    AuditEvent newest = events.get(events.size() - 1);
    lastSequence = newest.sequence();
    lastHash = newest.recordHash();
    writeCheckpoints(checkpointer.due(events));
    publish();
    return events;
  }

  private List<AuditEvent> seal(List<EventDraft> drafts) {
    return AuditEvent.chain(settings.writerId(), lastSequence, lastHash, settings.clock(), drafts);
  }

  private static ByteBuffer frames(List<AuditEvent> events) {
    List<byte[]> payloads =
        events.stream().map(e -> e.toJson().getBytes(StandardCharsets.UTF_8)).toList();
    ByteBuffer buf = ByteBuffer.allocate(payloads.stream().mapToInt(Frames::size).sum());
    payloads.forEach(p -> Frames.put(buf, Frames.EVENT_MAGIC, p));
    return buf.flip();
  }

  private void writeCheckpoints(List<Checkpoint> due) throws IOException {
    if (due.isEmpty()) {
      return;
    }
    List<byte[]> payloads =
        due.stream().map(c -> c.toJson().getBytes(StandardCharsets.UTF_8)).toList();
    ByteBuffer buf = ByteBuffer.allocate(payloads.stream().mapToInt(Frames::size).sum());
    payloads.forEach(p -> Frames.put(buf, Frames.CHECKPOINT_MAGIC, p));
    buf.flip();
    int length = buf.remaining();
    writeFully(checkpoints, buf, checkpointsSize);
    checkpoints.force(false);
    if (witness != null) {
      witness.publishNewest(due);
    }
    checkpointsSize += length;
    checkpointer.written(due);
  }

  private void rotate() throws IOException {
    active.force(false);
    active.close();
    openSegment(lastSequence + 1);
  }

  private void openSegment(long firstSequence) throws IOException {
    Path path = Segments.segmentPath(dir, firstSequence);
    active =
        FileChannel.open(
            path, Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE), OWNER_ONLY);
    activeFirstSequence = firstSequence;
    activeSize = 0;
    forceDirectory();
    publish();
  }

  private void publish() {
    snapshot = new Snapshot(activeFirstSequence, activeSize, checkpointsSize);
  }

  private void forceDirectory() throws IOException {
    try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
      d.force(true);
    }
  }

  // ---- recovery ----

  private void recover() throws IOException {
    Path checkpointFile = dir.resolve(Segments.CHECKPOINTS);
    checkpointsSize = repairTail(checkpointFile, Frames.CHECKPOINT_MAGIC).offset();
    checkpoints =
        FileChannel.open(
            checkpointFile,
            Set.of(StandardOpenOption.CREATE, StandardOpenOption.WRITE),
            OWNER_ONLY);
    forceDirectory();
    List<Checkpoint> stored = Segments.readCheckpoints(dir, checkpointsSize).checkpoints();
    Checkpoint anchor = latestGenuine(stored, Checkpoint.Kind.ANCHOR);
    if (anchor != null) {
      lastSequence = anchor.sequence();
      lastHash = anchor.recordHash();
    }
    resumePoint = later(anchor, latestGenuine(stored, Checkpoint.Kind.CHECKPOINT));
    checkpointer =
        new Checkpointer(
            settings.keys(),
            settings.writerId(),
            settings.checkpointInterval(),
            settings.clock(),
            resumePoint == null ? 0 : resumePoint.sequence());
    boolean damaged = recoverSegments();
    sealTail();
    if (damaged || activeFirstSequence == 0) {
      openSegment(lastSequence + 1);
    }
    publish();
  }

  /** Finds the newest event and reopens the last segment; returns whether it is damaged. */
  private boolean recoverSegments() throws IOException {
    List<Segments.Segment> segments = Segments.list(dir);
    if (segments.isEmpty()) {
      return false;
    }
    Segments.Segment newest = segments.get(segments.size() - 1);
    Frames.Scan scan = repairTail(newest.path(), Frames.EVENT_MAGIC);
    for (int i = segments.size() - 1; i >= 0; i--) {
      AuditEvent e = newestEvent(segments.get(i));
      if (e != null) {
        adopt(e);
        break;
      }
    }
    if (scan.end() == Frames.End.CORRUPT) {
      log.warn("audit segment {} holds damaged bytes; verify will report them", newest.path());
      return true;
    }
    active = FileChannel.open(newest.path(), StandardOpenOption.WRITE);
    activeFirstSequence = newest.firstSequence();
    activeSize = scan.offset();
    return false;
  }

  private void adopt(AuditEvent e) {
    if (!e.writerId().equals(settings.writerId())) {
      throw new IllegalStateException(
          dir + ": written by writer '" + e.writerId() + "', not '" + settings.writerId() + "'");
    }
    if (e.sequence() > lastSequence) {
      lastSequence = e.sequence();
      lastHash = e.recordHash();
    }
  }

  private void sealTail() throws IOException {
    Optional<Checkpoint> head = witnessedHead();
    if (head.isPresent() && head.get().sequence() > lastSequence) {
      // Cut back or rolled back after its last witnessed checkpoint: sealing would hide it.
      refuseToSeal(
          head,
          "audit log of writer "
              + settings.writerId()
              + " ends at sequence "
              + lastSequence
              + " before its witnessed head at sequence "
              + head.get().sequence()
              + "; not sealed");
      return;
    }
    if (lastSequence <= checkpointer.lastSequence()) {
      return;
    }
    List<AuditEvent> tail = verifiedTail();
    if (tail == null || tail.size() > longestCrashTail()) {
      refuseToSeal(
          head,
          "audit log tail of writer "
              + settings.writerId()
              + " after its last checkpoint (sequence "
              + checkpointer.lastSequence()
              + ") does not verify; not sealed");
      return;
    }
    List<Checkpoint> due = new ArrayList<>(checkpointer.due(tail));
    checkpointer.written(due);
    due.addAll(checkpointer.seal(lastSequence, lastHash));
    writeCheckpoints(due);
  }

  /**
   * Logs {@code problem}, keeps it for {@link #problemAtOpen} and, with a witness, keeps the head
   * the log no longer reaches as a cut record: the timer's later checkpoints sign the continuing
   * chain, and without the record their heads would replace the evidence.
   */
  private void refuseToSeal(Optional<Checkpoint> head, String problem) throws IOException {
    log.error("{}", problem);
    problemAtOpen = problem;
    if (witness != null && head.isPresent()) {
      witness.recordCut(head.get(), problem);
    }
  }

  /** What opening found wrong with the log's end (it was then left unsealed), if anything. */
  Optional<String> problemAtOpen() {
    return Optional.ofNullable(problemAtOpen);
  }

  /**
   * The most events a crash can leave unsealed: a checkpoint interval plus one batch whose
   * checkpoint was not yet written. A longer tail means checkpoints were removed; sealing it would
   * hide that.
   */
  private long longestCrashTail() {
    return resumeInterval() + settings.maxBatch();
  }

  /** The checkpoint interval of the checkpoint resumed from, else the configured one. */
  private long resumeInterval() {
    Checkpoint resume = resumePoint;
    return resume != null && resume.kind() == Checkpoint.Kind.CHECKPOINT
        ? resume.interval()
        : settings.checkpointInterval();
  }

  /** The events after the last checkpoint if they chain correctly from it, else null. */
  private @Nullable List<AuditEvent> verifiedTail() throws IOException {
    long after = resumePoint == null ? 0 : resumePoint.sequence();
    ChainCheck check =
        new ChainCheck(settings.writerId(), List.of(), settings.keys(), Long.MAX_VALUE);
    if (resumePoint != null) {
      check.resumeAfter(after, resumePoint.recordHash());
    }
    List<AuditEvent> tail = new ArrayList<>();
    for (Segments.Segment s : segmentsAfter(after)) {
      Segments.readEvents(
          s,
          Long.MAX_VALUE,
          json -> {
            AuditEvent e = check.record(json);
            if (e != null && e.sequence() > after) {
              tail.add(e);
            }
          });
    }
    return check.stopped() || check.expectedSequence() != lastSequence + 1 ? null : tail;
  }

  /** Segments that may hold events after {@code sequence}. */
  private List<Segments.Segment> segmentsAfter(long sequence) throws IOException {
    List<Segments.Segment> all = Segments.list(dir);
    List<Segments.Segment> after = new ArrayList<>();
    for (int i = 0; i < all.size(); i++) {
      if (i == all.size() - 1 || all.get(i + 1).firstSequence() > sequence + 1) {
        after.add(all.get(i));
      }
    }
    return after;
  }

  private static @Nullable Checkpoint later(@Nullable Checkpoint a, @Nullable Checkpoint b) {
    if (a == null || b == null) {
      return a == null ? b : a;
    }
    return b.sequence() > a.sequence() ? b : a;
  }

  private @Nullable Checkpoint latestGenuine(List<Checkpoint> stored, Checkpoint.Kind kind) {
    return stored.stream()
        .filter(c -> c.kind() == kind && isOwnGenuine(c))
        .max(Comparator.comparingLong(Checkpoint::sequence))
        .orElse(null);
  }

  /** Whether {@code c} is this writer's and carries a valid signature. */
  private boolean isOwnGenuine(Checkpoint c) {
    return c.writerId().equals(settings.writerId()) && settings.keys().verify(c);
  }

  /** Truncates a torn tail after moving it aside; returns the scan of what remains. */
  private static Frames.Scan repairTail(Path file, int magic) throws IOException {
    if (!Files.exists(file)) {
      return new Frames.Scan(Frames.End.CLEAN, 0, 0);
    }
    Frames.Scan scan = Frames.scan(file, Long.MAX_VALUE, magic, p -> {});
    if (scan.end() == Frames.End.TORN) {
      quarantine(file, scan.offset());
    }
    return scan;
  }

  private static void quarantine(Path file, long keep) throws IOException {
    try (FileChannel ch =
        FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      long size = ch.size();
      Path torn = file.resolveSibling(file.getFileName() + ".torn-" + System.currentTimeMillis());
      try (FileChannel out =
          FileChannel.open(
              torn, Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE), OWNER_ONLY)) {
        ch.transferTo(keep, size - keep, out);
        out.force(true);
      }
      ch.truncate(keep);
      ch.force(true);
      log.warn(
          "audit file {}: moved {} unacknowledged bytes of a torn write to {}",
          file,
          size - keep,
          torn.getFileName());
    }
  }

  private static AuditEvent newestEvent(Segments.Segment segment) throws IOException {
    AuditEvent[] newest = new AuditEvent[1];
    Segments.readParsed(segment, Long.MAX_VALUE, e -> newest[0] = e);
    return newest[0];
  }

  private static void writeFully(FileChannel ch, ByteBuffer buf, long position) throws IOException {
    long at = position;
    while (buf.hasRemaining()) {
      at += ch.write(buf, at);
    }
  }

  private static void closeQuietly(FileChannel ch) {
    if (ch == null) {
      return;
    }
    try {
      ch.close();
    } catch (IOException e) {
      log.warn("closing an audit file failed: {}", e.toString());
    }
  }
}
