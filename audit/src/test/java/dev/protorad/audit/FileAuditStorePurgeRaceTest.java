package dev.protorad.audit;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;

import dev.protorad.audit.PausingFileSystem.Point;
import java.io.IOException;
import java.nio.file.FileSystems;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A read that is held at one of its file operations while a purge runs: it must still see the log
 * as it was when it started (old anchor, every segment), never the old anchor with segments gone,
 * which reads as records missing (a false tamper report) or fails on a deleted file. The store runs
 * on the real file system seen through {@link PausingFileSystem}, which holds the reader's thread.
 */
class FileAuditStorePurgeRaceTest {

  private static final CheckpointKeys KEYS = CheckpointKeys.generateInMemory();
  private static final Instant T0 = Instant.parse("2026-01-05T08:00:00Z");
  private static final int EXPIRED = 40;
  private static final int EVENTS = 50;
  private static final String READER = "audit-reader";

  /** How long a purge is given to run into a held reader; a broken gate deletes well within it. */
  private static final Duration PURGE_GRACE = Duration.ofMillis(300);

  @TempDir Path dir;
  private final TestDrafts.MutableClock clock = new TestDrafts.MutableClock(T0);
  private final PausingFileSystem files = new PausingFileSystem(FileSystems.getDefault());
  private final ExecutorService reader =
      Executors.newSingleThreadExecutor(r -> new Thread(r, READER));
  private final ExecutorService threads = Executors.newCachedThreadPool();

  @AfterEach
  void stopThreads() {
    files.release();
    reader.shutdownNow();
    threads.shutdownNow();
  }

  @ParameterizedTest
  @EnumSource(Point.class)
  void verify_heldWhileAPurgeRuns_reportsTheLogAsItWasValid(Point point) throws Exception {
    try (FileAuditStore store = openWithExpiredSegments()) {
      Future<VerifyResult> verify = holdReader(point, store::verify);
      Future<Long> purge = threads.submit(store::purgeExpired);
      givePurgeTime(purge);
      assertThat(files.deleted()).as("deleted while a reader was held").isEmpty();
      files.release();

      VerifyResult during = verify.get(30, SECONDS);
      assertThat(during.valid()).as(during.problem()).isTrue();
      assertThat(during.eventsChecked()).isEqualTo(EVENTS);
      long removed = purge.get(30, SECONDS);
      assertThat(removed).isPositive();
      VerifyResult after = store.verify();
      assertThat(after.valid()).as(after.problem()).isTrue();
      assertThat(after.eventsChecked()).isEqualTo(EVENTS - removed);
    }
  }

  @ParameterizedTest
  @EnumSource(Point.class)
  void query_heldWhileAPurgeRuns_returnsEveryEventStoredWhenItStarted(Point point)
      throws Exception {
    try (FileAuditStore store = openWithExpiredSegments()) {
      Future<AuditPage> query = holdReader(point, () -> store.query(everything()));
      Future<Long> purge = threads.submit(store::purgeExpired);
      givePurgeTime(purge);
      assertThat(files.deleted()).as("deleted while a reader was held").isEmpty();
      files.release();

      assertThat(sequences(query.get(30, SECONDS)))
          .isEqualTo(LongStream.rangeClosed(1, EVENTS).boxed().toList());
      long removed = purge.get(30, SECONDS);
      assertThat(files.deleted()).isNotEmpty();
      assertThat(sequences(store.query(everything())))
          .isEqualTo(LongStream.rangeClosed(removed + 1, EVENTS).boxed().toList());
    }
  }

  @Test
  void purgeWaitingForAReader_doesNotHoldUpAppends() throws Exception {
    try (FileAuditStore store = openWithExpiredSegments()) {
      Future<VerifyResult> verify = holdReader(Point.SEGMENT_OPEN, store::verify);
      Future<Long> purge = threads.submit(store::purgeExpired);
      givePurgeTime(purge);

      assertThat(store.append(TestDrafts.prediction(EVENTS)).sequence()).isEqualTo(EVENTS + 1);
      assertThat(purge).isNotDone();

      files.release();
      assertThat(verify.get(30, SECONDS).valid()).isTrue();
      assertThat(purge.get(30, SECONDS)).isPositive();
      VerifyResult after = store.verify();
      assertThat(after.valid()).as(after.problem()).isTrue();
    }
  }

  /** A store whose first {@value #EXPIRED} events, in several whole segments, have expired. */
  private FileAuditStore openWithExpiredSegments() throws IOException {
    FileAuditStore store =
        FileAuditStore.builder(files.wrap(dir))
            .writerId("w1")
            .checkpointKeys(KEYS)
            .clock(clock)
            .maxSegmentBytes(4096)
            .checkpointInterval(10)
            .appendTimeout(Duration.ofSeconds(10))
            .open();
    for (int i = 0; i < EXPIRED; i++) {
      store.append(TestDrafts.prediction(i));
    }
    clock.advance(Duration.ofDays(365 * 6 + 10));
    for (int i = EXPIRED; i < EVENTS; i++) {
      store.append(TestDrafts.prediction(i));
    }
    return store;
  }

  /** Starts {@code read} on the reader thread and returns once it is held at {@code point}. */
  private <T> Future<T> holdReader(Point point, Callable<T> read) throws InterruptedException {
    CountDownLatch held = files.holdAt(point, READER);
    Future<T> result = reader.submit(read);
    assertThat(held.await(30, SECONDS)).as("reader reached " + point).isTrue();
    return result;
  }

  /** Waits until the purge is over or has had {@link #PURGE_GRACE} to reach the held reader. */
  private static void givePurgeTime(Future<Long> purge) throws InterruptedException {
    long deadline = System.nanoTime() + PURGE_GRACE.toNanos();
    while (!purge.isDone() && System.nanoTime() - deadline < 0) {
      Thread.sleep(5);
    }
  }

  private static AuditQuery everything() {
    return AuditQuery.builder().pageSize(AuditQuery.MAX_PAGE_SIZE).build();
  }

  private static List<Long> sequences(AuditPage page) {
    return page.events().stream().map(AuditEvent::sequence).toList();
  }
}
