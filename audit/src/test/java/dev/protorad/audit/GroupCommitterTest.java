package dev.protorad.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class GroupCommitterTest {

  private final ExecutorService callers = Executors.newFixedThreadPool(12);

  @AfterEach
  void stop() {
    callers.shutdownNow();
  }

  /** Records batch sizes; the first batch waits for {@code release}. */
  private static final class GatedSink implements GroupCommitter.Sink {
    final List<Integer> batches = new CopyOnWriteArrayList<>();
    final CountDownLatch entered = new CountDownLatch(1);
    final CountDownLatch release = new CountDownLatch(1);
    volatile IOException failure;
    long sequence;

    @Override
    public List<AuditEvent> write(List<EventDraft> drafts) throws Exception {
      entered.countDown();
      release.await();
      if (failure != null) {
        throw failure;
      }
      batches.add(drafts.size());
      List<AuditEvent> events = new ArrayList<>();
      for (EventDraft d : drafts) {
        events.add(AuditEvent.seal("w1", ++sequence, Instant.EPOCH, d, Hashes.GENESIS));
      }
      return events;
    }

    @Override
    public void closing() {}
  }

  @Test
  void submit_whileAFlushIsRunning_joinsTheNextBatch() throws Exception {
    GatedSink sink = new GatedSink();
    try (GroupCommitter committer = new GroupCommitter("test", sink, 64, Duration.ofSeconds(30))) {
      List<Future<AuditEvent>> results = new ArrayList<>();
      results.add(callers.submit(() -> committer.submit(TestDrafts.prediction(0))));
      sink.entered.await(); // the writer took the first draft and waits in the sink
      for (int i = 1; i <= 10; i++) {
        int n = i;
        results.add(callers.submit(() -> committer.submit(TestDrafts.prediction(n))));
      }
      awaitQueued(committer, 10);

      sink.release.countDown();

      for (Future<AuditEvent> r : results) {
        assertThat(r.get().sequence()).isBetween(1L, 11L);
      }
      assertThat(sink.batches).containsExactly(1, 10);
    }
  }

  @Test
  void submit_whenTheSinkFails_failsEveryCallerOfTheBatch() throws Exception {
    GatedSink sink = new GatedSink();
    sink.failure = new IOException("disk gone");
    sink.release.countDown();
    try (GroupCommitter committer = new GroupCommitter("test", sink, 64, Duration.ofSeconds(30))) {
      assertThatThrownBy(() -> committer.submit(TestDrafts.prediction(1)))
          .isInstanceOf(AuditUnavailableException.class)
          .hasMessageContaining("IOException");
    }
  }

  @Test
  void submit_notDurableWithinTheTimeout_failsClosed() {
    GatedSink sink = new GatedSink(); // never released
    GroupCommitter committer = new GroupCommitter("test", sink, 64, Duration.ofMillis(200));

    assertThatThrownBy(() -> committer.submit(TestDrafts.prediction(1)))
        .isInstanceOf(AuditUnavailableException.class)
        .hasMessageContaining("not durable");
    sink.release.countDown();
    committer.close();
  }

  @Test
  void submitAsync_notDurableWithinTheTimeout_failsClosed() {
    GatedSink sink = new GatedSink(); // never released
    GroupCommitter committer = new GroupCommitter("test", sink, 64, Duration.ofMillis(200));

    assertThat(committer.submitAsync(TestDrafts.prediction(1)))
        .failsWithin(Duration.ofSeconds(30))
        .withThrowableThat()
        .havingCause()
        .isInstanceOf(AuditUnavailableException.class)
        .withMessageContaining("not durable");
    sink.release.countDown();
    committer.close();
  }

  @Test
  void submit_afterClose_isRefused() {
    GatedSink sink = new GatedSink();
    sink.release.countDown();
    GroupCommitter committer = new GroupCommitter("test", sink, 64, Duration.ofSeconds(30));
    committer.close();

    assertThatThrownBy(() -> committer.submit(TestDrafts.prediction(1)))
        .isInstanceOf(AuditUnavailableException.class)
        .hasMessageContaining("closed");
  }

  private static void awaitQueued(GroupCommitter committer, int n) throws InterruptedException {
    // Waits for a state, not for time: the assertion below never depends on speed.
    while (committer.queued() != n) {
      Thread.sleep(5);
    }
  }
}
