package dev.protorad.audit;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.Period;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.Predicate;
import org.jspecify.annotations.Nullable;

/**
 * The embedded audit store: append-only segment files in one directory, owned by one writer (a lock
 * file keeps a second process out), with group-commit flushing and signed checkpoints in a separate
 * {@code checkpoints.log}, so that truncating the segments is detectable.
 *
 * <pre>{@code
 * AuditStore store = FileAuditStore.builder(Path.of("data/audit"))
 *     .writerId("protorad-0")
 *     .checkpointKeys(CheckpointKeys.loadOrGenerate(Path.of("data/audit-checkpoint.key")))
 *     .open();
 * }</pre>
 *
 * <p>Durability: {@link #append} returns after its batch was written and forced to disk ({@code
 * fdatasync}); new segments are made durable with a directory sync.
 *
 * <p>Recovery on open, after a crash: a half-written last record (a frame cut short, zero fill, or
 * a final frame with a bad checksum) can only belong to a batch that was never acknowledged. It is
 * copied to {@code segment-….log.torn-<millis>} as evidence, the segment is truncated to its last
 * complete record and a warning is logged. Complete records are always kept, acknowledged or not.
 * Other damage (foreign bytes, a bad checksum followed by more records) is never repaired: writing
 * goes on in a new segment and {@link #verify()} reports it. Finally the events after the last
 * checkpoint are checked and sealed with a new checkpoint, unless they do not verify or are more
 * than a crash could leave (then checkpoints were removed, and verify reports it).
 *
 * <p>Purge and readers: a query or verification sees the log either as it was before a purge (every
 * segment, old anchor) or after it (new anchor, expired segments deleted). A read that is under way
 * when a purge starts finishes first; a read that starts during the purge's anchor write and
 * deletions waits for them. Appends are not held up by readers (see {@link PurgeGate}).
 */
public final class FileAuditStore implements AuditStore {

  /** Default events between checkpoints. */
  public static final long DEFAULT_CHECKPOINT_INTERVAL = 1000;

  /** Default segment size that triggers rotation; readers hold one segment in memory. */
  public static final long DEFAULT_MAX_SEGMENT_BYTES = 16L << 20;

  /** Default retention: six years, as HIPAA asks of documentation. */
  public static final Period DEFAULT_RETENTION = Period.ofYears(6);

  /** Default most events flushed together. */
  public static final int DEFAULT_MAX_BATCH = 1024;

  /** Default longest wait for durability before an append fails. */
  public static final Duration DEFAULT_APPEND_TIMEOUT = Duration.ofSeconds(30);

  private static final String TOKEN_PREFIX = "f";

  /** Resolved configuration. */
  record Settings(
      Path directory,
      String writerId,
      CheckpointKeys keys,
      long checkpointInterval,
      long maxSegmentBytes,
      Period retention,
      Clock clock,
      int maxBatch,
      Duration appendTimeout,
      Optional<Path> witness) {}

  private final Settings settings;
  private final SegmentLog segmentLog;
  private final GroupCommitter committer;
  private final PurgeGate gate;

  private FileAuditStore(Settings settings, SegmentLog segmentLog) {
    this.settings = settings;
    this.segmentLog = segmentLog;
    this.committer =
        new GroupCommitter(
            "audit-file-writer", segmentLog, settings.maxBatch(), settings.appendTimeout());
    this.gate = new PurgeGate(settings.appendTimeout(), PurgeGate.DEFAULT_PURGE_WAIT);
  }

  /** Starts configuring a store in {@code directory} (created if absent). */
  public static Builder builder(Path directory) {
    return new Builder(directory);
  }

  /** Verifies a store directory without opening it for writing; see {@link AuditVerifier}. */
  static VerifyResult verifyDirectory(Path directory, CheckpointKeys keys, long interval) {
    return new DirectoryReader(directory, null).verify(keys, interval);
  }

  @Override
  public AuditEvent append(EventDraft draft) {
    requireNonNull(draft, "draft");
    return committer.submit(draft);
  }

  @Override
  public CompletableFuture<AuditEvent> appendAsync(EventDraft draft) {
    requireNonNull(draft, "draft");
    return committer.submitAsync(draft);
  }

  @Override
  public AuditPage query(AuditQuery query) {
    requireNonNull(query, "query");
    long after = PageTokens.decode(TOKEN_PREFIX, query.pageToken());
    return page(gate.read(() -> reader().collect(query, after)), query.pageSize());
  }

  /** The first {@code pageSize} of {@code found}, with a token for the next page if any. */
  private static AuditPage page(List<AuditEvent> found, int pageSize) {
    if (found.size() <= pageSize) {
      return new AuditPage(found, "");
    }
    List<AuditEvent> events = found.subList(0, pageSize);
    long last = events.get(events.size() - 1).sequence();
    return new AuditPage(events, PageTokens.encode(TOKEN_PREFIX, last));
  }

  @Override
  public Optional<String> problemAtOpen() {
    return segmentLog.problemAtOpen();
  }

  @Override
  public VerifyResult verify() {
    return gate.read(this::verifyChainsAndWitness);
  }

  private VerifyResult verifyChainsAndWitness() {
    VerifyResult chains = reader().verify(settings.keys(), settings.checkpointInterval());
    return chains.valid() ? againstWitness(chains) : chains;
  }

  /** {@code chains}, or why the log does not reach its witnessed head with the same hash. */
  private VerifyResult againstWitness(VerifyResult chains) {
    Optional<Checkpoint> head;
    Optional<Witness.Cut> cut;
    try {
      head = segmentLog.witnessedHead();
      cut = segmentLog.witnessedCut();
    } catch (IOException e) {
      return witnessProblem(chains, 0, "witnessed head unreadable: " + e.getMessage());
    }
    if (cut.isPresent()) {
      return witnessProblem(chains, cut.get().headSequence(), cut.get().verifyProblem());
    }
    if (head.isEmpty()) {
      return chains;
    }
    Checkpoint h = head.get();
    if (!settings.keys().verify(h)) {
      return witnessProblem(chains, h.sequence(), "witnessed head signature does not verify");
    }
    List<AuditEvent> at =
        reader().collect(AuditQuery.builder().pageSize(1).build(), h.sequence() - 1);
    if (at.isEmpty() || at.get(0).sequence() != h.sequence()) {
      return witnessProblem(
          chains,
          h.sequence(),
          "log truncated or rolled back: it does not reach its witnessed head at sequence "
              + h.sequence());
    }
    if (!at.get(0).recordHash().equals(h.recordHash())) {
      return witnessProblem(
          chains, h.sequence(), "log rewritten: record hash differs from its witnessed head");
    }
    return chains;
  }

  private VerifyResult witnessProblem(VerifyResult chains, long sequence, String problem) {
    return new VerifyResult(
        false,
        chains.eventsChecked(),
        chains.checkpointsChecked(),
        settings.writerId(),
        sequence,
        problem,
        chains.unsealedEvents());
  }

  @Override
  public long purgeExpired() {
    AuditVerifier.requireValid(verify());
    Instant cutoff =
        settings.clock().instant().atZone(ZoneOffset.UTC).minus(settings.retention()).toInstant();
    long stamp = gate.close();
    CompletableFuture<Long> purge;
    try {
      purge = committer.callAsync(() -> segmentLog.purge(cutoff));
    } catch (RuntimeException e) {
      gate.reopen(stamp);
      throw e;
    }
    // Readers stay out until the purge is over, even if this thread stops waiting for it.
    var unused = purge.whenComplete((removed, failure) -> gate.reopen(stamp));
    return committer.await(purge);
  }

  @Override
  public boolean seal() {
    return committer.call(segmentLog::sealNow);
  }

  @Override
  public void close() {
    committer.close();
    try {
      segmentLog.close();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private DirectoryReader reader() {
    return new DirectoryReader(settings.directory(), segmentLog.snapshot());
  }

  /** Reads a segment directory, up to a writer's snapshot when it is open. */
  private static final class DirectoryReader {
    private final Path dir;
    private final SegmentLog.@Nullable Snapshot snapshot;

    DirectoryReader(Path dir, SegmentLog.@Nullable Snapshot snapshot) {
      this.dir = dir;
      this.snapshot = snapshot;
    }

    List<AuditEvent> collect(AuditQuery query, long pageAfter) {
      List<AuditEvent> out = new ArrayList<>();
      List<Segments.Segment> segments = segments();
      Predicate<byte[]> candidate = query.recordFilter();
      // An event asked for by id: read from its sequence, and no further.
      long after = Math.max(pageAfter, query.eventSequence() - 1);
      long last = query.eventId().isEmpty() ? Long.MAX_VALUE : query.eventSequence();
      boolean[] passed = {false};
      for (int i = 0; i < segments.size() && out.size() <= query.pageSize() && !passed[0]; i++) {
        if (i + 1 < segments.size() && segments.get(i + 1).firstSequence() <= after + 1) {
          continue;
        }
        Segments.readWhile(
            segments.get(i),
            limit(segments.get(i)),
            candidate,
            e -> {
              if (e.sequence() > after && query.matches(e)) {
                out.add(e);
              }
              passed[0] = e.sequence() >= last;
              return out.size() <= query.pageSize() && !passed[0];
            });
      }
      return out;
    }

    VerifyResult verify(CheckpointKeys keys, long interval) {
      try {
        Segments.CheckpointRead read =
            Segments.readCheckpoints(
                dir, snapshot == null ? Long.MAX_VALUE : snapshot.checkpointsLength());
        List<Segments.Segment> segments = segments();
        ChainCheck check =
            new ChainCheck(writerId(segments, read), read.checkpoints(), keys, interval);
        read.damagedAfter().forEach(check::checkpointDamaged);
        for (int i = 0; i < segments.size(); i++) {
          Frames.Scan scan =
              Segments.readEvents(segments.get(i), limit(segments.get(i)), check::record);
          boolean last = i == segments.size() - 1;
          if (scan.end() == Frames.End.CORRUPT || (scan.end() == Frames.End.TORN && !last)) {
            check.corrupt("unreadable bytes in " + segments.get(i).path().getFileName());
          }
        }
        return check.finish();
      } catch (IOException e) {
        throw new AuditUnavailableException("audit directory unreadable: " + e, e);
      }
    }

    private String writerId(List<Segments.Segment> segments, Segments.CheckpointRead read) {
      for (Segments.Segment s : segments) {
        String[] found = new String[1];
        Segments.readParsed(
            s,
            limit(s),
            e -> {
              if (found[0] == null) {
                found[0] = e.writerId();
              }
            });
        if (found[0] != null) {
          return found[0];
        }
      }
      return read.checkpoints().isEmpty() ? "local" : read.checkpoints().get(0).writerId();
    }

    /**
     * Segments up to the snapshot's active one. Listed after the snapshot was taken: a listing from
     * before it could miss a segment started since, whose checkpoint the snapshot already covers,
     * and report the log as truncated.
     */
    private List<Segments.Segment> segments() {
      List<Segments.Segment> segments;
      try {
        segments =
            Segments.list(dir).stream()
                .filter(
                    s -> snapshot == null || s.firstSequence() <= snapshot.activeFirstSequence())
                .toList();
      } catch (IOException e) {
        throw new AuditUnavailableException("audit directory unreadable: " + e, e);
      }
      return segments;
    }

    private long limit(Segments.Segment s) {
      return snapshot != null && s.firstSequence() == snapshot.activeFirstSequence()
          ? snapshot.activeLength()
          : Long.MAX_VALUE;
    }
  }

  /** Configures a {@link FileAuditStore}; each setter validates its argument. */
  public static final class Builder extends AuditStoreBuilder<Builder> {
    private final Path directory;
    private long maxSegmentBytes = DEFAULT_MAX_SEGMENT_BYTES;

    private Builder(Path directory) {
      this.directory = requireNonNull(directory, "directory");
    }

    @Override
    Builder self() {
      return this;
    }

    /** Size at which a new segment starts (default 16 MiB, at most 1 GiB). */
    public Builder maxSegmentBytes(long bytes) {
      this.maxSegmentBytes = checkSegmentBytes(bytes);
      return this;
    }

    private static long checkSegmentBytes(long bytes) {
      if (bytes < 1024 || bytes > (1L << 30)) {
        throw new IllegalArgumentException(
            "maxSegmentBytes: " + bytes + " (expected: 1024..1073741824)");
      }
      return bytes;
    }

    /** Opens the store, recovering from a crash if needed. */
    public FileAuditStore open() throws IOException {
      CheckpointKeys keys = requireKeys();
      Settings settings =
          new Settings(
              directory,
              writerId,
              keys,
              checkpointInterval,
              maxSegmentBytes,
              retention,
              clock,
              maxBatch,
              appendTimeout,
              witness());
      return new FileAuditStore(settings, SegmentLog.open(settings));
    }
  }
}
