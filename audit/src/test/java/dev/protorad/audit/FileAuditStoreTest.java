package dev.protorad.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileAuditStoreTest {

  private static final CheckpointKeys KEYS = CheckpointKeys.generateInMemory();
  private static final Instant T0 = Instant.parse("2026-01-05T08:00:00Z");

  @TempDir Path dir;
  private final TestDrafts.MutableClock clock = new TestDrafts.MutableClock(T0);

  @Test
  void append_returnsDurableEventsLinkedByHash() throws IOException {
    try (FileAuditStore store = builder().open()) {
      AuditEvent first = store.append(TestDrafts.prediction(1));
      AuditEvent second = store.append(TestDrafts.prediction(2));

      assertThat(first.eventId()).isEqualTo("w1:1");
      assertThat(first.previousHash()).isEqualTo(Hashes.GENESIS);
      assertThat(second.sequence()).isEqualTo(2);
      assertThat(second.previousHash()).isEqualTo(first.recordHash());
      assertThat(second.time()).isEqualTo(T0);
    }
    assertThat(
            PosixFilePermissions.toString(
                Files.getPosixFilePermissions(dir.resolve(Segments.CHECKPOINTS))))
        .isEqualTo("rw-------");
    assertThat(
            PosixFilePermissions.toString(
                Files.getPosixFilePermissions(Segments.segmentPath(dir, 1))))
        .isEqualTo("rw-------");
  }

  @Test
  void append_fromManyThreads_givesDistinctSequencesAndAVerifiableLog() throws Exception {
    int threads = 8;
    int perThread = 100;
    Set<Long> sequences = new TreeSet<>();
    try (FileAuditStore store = builder().checkpointInterval(50).open()) {
      ExecutorService pool = Executors.newFixedThreadPool(threads);
      List<Future<List<Long>>> results = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        int base = t * perThread;
        results.add(pool.submit(() -> appendMany(store, base, perThread)));
      }
      for (Future<List<Long>> f : results) {
        sequences.addAll(f.get());
      }
      pool.shutdown();

      VerifyResult result = store.verify();
      assertThat(result.valid()).as(result.problem()).isTrue();
      assertThat(result.eventsChecked()).isEqualTo((long) threads * perThread);
    }
    assertThat(sequences).hasSize(threads * perThread).first().isEqualTo(1L);
  }

  @Test
  void reopen_continuesTheChainAndVerifies() throws IOException {
    AuditEvent before;
    try (FileAuditStore store = builder().open()) {
      before = store.append(TestDrafts.prediction(1));
    }
    try (FileAuditStore store = builder().open()) {
      AuditEvent after = store.append(TestDrafts.prediction(2));

      assertThat(after.sequence()).isEqualTo(2);
      assertThat(after.previousHash()).isEqualTo(before.recordHash());
      assertThat(store.verify().valid()).isTrue();
    }
  }

  @Test
  void open_whileAnotherStoreHoldsTheDirectory_fails() throws IOException {
    try (FileAuditStore store = builder().open()) {
      assertThatThrownBy(() -> builder().open()).isInstanceOf(RuntimeException.class);
    }
  }

  @Test
  void append_pastSegmentSize_rotatesAndStillVerifies() throws IOException {
    try (FileAuditStore store = builder().maxSegmentBytes(4096).checkpointInterval(7).open()) {
      for (int i = 0; i < 60; i++) {
        store.append(TestDrafts.prediction(i));
      }
      assertThat(Segments.list(dir)).hasSizeGreaterThan(3);
      VerifyResult result = store.verify();
      assertThat(result.valid()).as(result.problem()).isTrue();
      assertThat(result.eventsChecked()).isEqualTo(60);
    }
  }

  @Test
  void open_afterTornLastRecord_dropsOnlyTheUnacknowledgedBytes() throws IOException {
    try (FileAuditStore store = builder().open()) {
      for (int i = 0; i < 5; i++) {
        store.append(TestDrafts.prediction(i));
      }
    }
    Path segment = SegmentFiles.onlySegment(dir);
    long goodLength = Files.size(segment);
    byte[] frame = Files.readAllBytes(segment);
    SegmentFiles.append(segment, Arrays.copyOf(frame, 100)); // a frame cut short

    try (FileAuditStore store = builder().open()) {
      assertThat(Files.size(segment)).isEqualTo(goodLength);
      assertThat(store.append(TestDrafts.prediction(6)).sequence()).isEqualTo(6);
      assertThat(store.verify().valid()).isTrue();
    }
    try (Stream<Path> files = Files.list(dir)) {
      assertThat(files.map(p -> p.getFileName().toString())).anyMatch(n -> n.contains(".torn-"));
    }
  }

  @Test
  void append_whenTheDiskIsFull_failsClosedWithAuditUnavailable() throws IOException {
    Files.createSymbolicLink(Segments.segmentPath(dir, 1), Path.of("/dev/full"));

    try (FileAuditStore store = builder().open()) {
      assertThatThrownBy(() -> store.append(TestDrafts.prediction(1)))
          .isInstanceOf(AuditUnavailableException.class)
          .hasMessageContaining("IOException");
      assertThatThrownBy(() -> store.append(TestDrafts.prediction(2)))
          .isInstanceOf(AuditUnavailableException.class);
    }
  }

  @Test
  void canary_noteTextAbsentFromErrorsAndLogLines() throws IOException {
    String canary = "CANARY-3e1d metformin held, eGFR 28";
    NoteHmac hmac = NoteHmac.ofBase64(Map.of("k1", NoteHmac.generateKey()), "k1");
    EventDraft draft =
        EventDraft.builder(TestDrafts.ASSIGN, Outcome.FAILED, "UNAVAILABLE")
            .note(hmac.digest(canary))
            .build();
    Files.createSymbolicLink(Segments.segmentPath(dir, 1), Path.of("/dev/full"));
    ByteArrayOutputStream logs = new ByteArrayOutputStream();
    PrintStream stderr = System.err;
    System.setErr(new PrintStream(logs, true, StandardCharsets.UTF_8));
    Throwable failure;
    try (FileAuditStore store = builder().open()) {
      failure = catchThrowable(() -> store.append(draft));
    } finally {
      System.setErr(stderr);
    }

    assertThat(failure).isInstanceOf(AuditUnavailableException.class);
    assertThat(logs.toString(StandardCharsets.UTF_8))
        .contains("No space left")
        .doesNotContain("CANARY");
    assertThat(stackTraceOf(failure)).doesNotContain("CANARY");
    assertThat(draft.toString()).doesNotContain("CANARY");
  }

  private static String stackTraceOf(Throwable t) {
    StringWriter out = new StringWriter();
    t.printStackTrace(new PrintWriter(out));
    return out.toString();
  }

  @Test
  void append_afterClose_failsWithAuditUnavailable() throws IOException {
    FileAuditStore store = builder().open();
    store.close();

    assertThatThrownBy(() -> store.append(TestDrafts.prediction(1)))
        .isInstanceOf(AuditUnavailableException.class);
  }

  @Test
  void purgeExpired_removesOldSegmentsAndTheRestStillVerifies() throws IOException {
    try (FileAuditStore store = builder().maxSegmentBytes(4096).checkpointInterval(10).open()) {
      for (int i = 0; i < 40; i++) {
        store.append(TestDrafts.prediction(i));
      }
      clock.advance(Duration.ofDays(365 * 6 + 10));
      for (int i = 40; i < 50; i++) {
        store.append(TestDrafts.prediction(i));
      }
      int segmentsBefore = Segments.list(dir).size();

      long removed = store.purgeExpired();

      assertThat(removed).isPositive();
      assertThat(Segments.list(dir)).hasSizeLessThan(segmentsBefore);
      VerifyResult result = store.verify();
      assertThat(result.valid()).as(result.problem()).isTrue();
      assertThat(result.eventsChecked()).isEqualTo(50 - removed);
      assertThat(store.purgeExpired()).isZero();
    }
    try (FileAuditStore store = builder().open()) {
      assertThat(store.append(TestDrafts.prediction(51)).sequence()).isEqualTo(51);
      assertThat(store.verify().valid()).isTrue();
    }
  }

  @Test
  void purgeExpired_withinRetention_keepsEverything() throws IOException {
    try (FileAuditStore store = builder().maxSegmentBytes(4096).open()) {
      for (int i = 0; i < 40; i++) {
        store.append(TestDrafts.prediction(i));
      }
      clock.advance(Duration.ofDays(365 * 5));

      assertThat(store.purgeExpired()).isZero();
      assertThat(store.verify().eventsChecked()).isEqualTo(40);
    }
  }

  @Test
  void verify_whileAppending_seesAConsistentPrefix() throws Exception {
    try (FileAuditStore store = builder().checkpointInterval(20).open()) {
      ExecutorService pool = Executors.newSingleThreadExecutor();
      Future<List<Long>> writer = pool.submit(() -> appendMany(store, 0, 300));
      ConcurrentLinkedQueue<VerifyResult> results = new ConcurrentLinkedQueue<>();
      while (!writer.isDone()) {
        results.add(store.verify());
      }
      writer.get();
      pool.shutdown();

      assertThat(results).allMatch(VerifyResult::valid);
    }
  }

  private static List<Long> appendMany(AuditStore store, int base, int count) {
    List<Long> sequences = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      sequences.add(store.append(TestDrafts.prediction(base + i)).sequence());
    }
    return sequences;
  }

  private FileAuditStore.Builder builder() {
    return FileAuditStore.builder(dir).writerId("w1").checkpointKeys(KEYS).clock(clock);
  }
}
