package dev.protorad.audit;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;

import dev.protorad.audit.FileAuditStore.ReadProbe;
import dev.protorad.audit.FileAuditStore.ReadStep;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A read that is paused at one of its steps while a purge runs: it must still see the log as it was
 * when it started (old anchor, every segment), never the old anchor with segments gone, which reads
 * as records missing (a false tamper report) or fails on a deleted file.
 */
class FileAuditStorePurgeRaceTest {

  private static final CheckpointKeys KEYS = CheckpointKeys.generateInMemory();
  private static final Instant T0 = Instant.parse("2026-01-05T08:00:00Z");
  private static final int EXPIRED = 40;
  private static final int EVENTS = 50;

  @TempDir Path dir;
  private final TestDrafts.MutableClock clock = new TestDrafts.MutableClock(T0);
  private final ExecutorService threads = Executors.newCachedThreadPool();
  private PausingProbe pause;

  @AfterEach
  void stopThreads() {
    if (pause != null) {
      pause.release();
    }
    threads.shutdownNow();
  }

  @ParameterizedTest
  @EnumSource(ReadStep.class)
  void verify_pausedWhileAPurgeRuns_reportsTheLogAsItWasValid(ReadStep step) throws Exception {
    try (FileAuditStore store = openWithExpiredSegments()) {
      Future<VerifyResult> verify = pauseReader(store, step, store::verify);
      Future<Long> purge = threads.submit(store::purgeExpired);
      await(() -> purge.isDone() || store.purgeWaiting());
      pause.release();

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
  @EnumSource(ReadStep.class)
  void query_pausedWhileAPurgeRuns_returnsEveryEventStoredWhenItStarted(ReadStep step)
      throws Exception {
    try (FileAuditStore store = openWithExpiredSegments()) {
      Future<AuditPage> query = pauseReader(store, step, () -> store.query(everything()));
      Future<Long> purge = threads.submit(store::purgeExpired);
      await(() -> purge.isDone() || store.purgeWaiting());
      pause.release();

      assertThat(sequences(query.get(30, SECONDS)))
          .isEqualTo(LongStream.rangeClosed(1, EVENTS).boxed().toList());
      long removed = purge.get(30, SECONDS);
      assertThat(sequences(store.query(everything())))
          .isEqualTo(LongStream.rangeClosed(removed + 1, EVENTS).boxed().toList());
    }
  }

  @Test
  void purgeWaitingForAReader_doesNotHoldUpAppends() throws Exception {
    try (FileAuditStore store = openWithExpiredSegments()) {
      Future<VerifyResult> verify = pauseReader(store, ReadStep.SEGMENTS_LISTED, store::verify);
      Future<Long> purge = threads.submit(store::purgeExpired);
      await(() -> purge.isDone() || store.purgeWaiting());

      assertThat(store.append(TestDrafts.prediction(EVENTS)).sequence()).isEqualTo(EVENTS + 1);
      assertThat(purge).isNotDone();

      pause.release();
      assertThat(verify.get(30, SECONDS).valid()).isTrue();
      assertThat(purge.get(30, SECONDS)).isPositive();
      VerifyResult after = store.verify();
      assertThat(after.valid()).as(after.problem()).isTrue();
    }
  }

  /** A store whose first {@value #EXPIRED} events, in several whole segments, have expired. */
  private FileAuditStore openWithExpiredSegments() throws IOException {
    FileAuditStore store =
        FileAuditStore.builder(dir)
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

  /** Starts {@code read} on its own thread and returns once it is paused at {@code step}. */
  private <T> Future<T> pauseReader(FileAuditStore store, ReadStep step, Callable<T> read)
      throws InterruptedException {
    pause = new PausingProbe(step);
    store.probe(pause);
    Future<T> result = threads.submit(read);
    assertThat(pause.paused.await(30, SECONDS)).as("reader reached " + step).isTrue();
    return result;
  }

  private static AuditQuery everything() {
    return AuditQuery.builder().pageSize(AuditQuery.MAX_PAGE_SIZE).build();
  }

  private static List<Long> sequences(AuditPage page) {
    return page.events().stream().map(AuditEvent::sequence).toList();
  }

  private static void await(BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (!condition.getAsBoolean()) {
      assertThat(System.nanoTime() - deadline).as("waited 30 s").isNegative();
      Thread.sleep(5);
    }
  }

  /** Holds the first read that reaches {@code step} until released; later reads pass. */
  private static final class PausingProbe implements ReadProbe {
    private final ReadStep step;
    private final AtomicBoolean armed = new AtomicBoolean(true);
    private final CountDownLatch paused = new CountDownLatch(1);
    private final CountDownLatch released = new CountDownLatch(1);

    PausingProbe(ReadStep step) {
      this.step = step;
    }

    @Override
    public void reached(ReadStep reached) {
      if (reached != step || !armed.compareAndSet(true, false)) {
        return;
      }
      paused.countDown();
      try {
        released.await(30, SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }

    void release() {
      released.countDown();
    }
  }
}
