package dev.protorad.server.serving;

import static org.assertj.core.api.Assertions.assertThat;

import dev.protorad.server.serving.PredictionStore.PredictionStoreException;
import dev.protorad.testing.Postgres;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;

/** The prediction store's contract on a real PostgreSQL server. */
class PredictionStorePostgresTest extends PredictionStoreContractTest {

  private static final Instant NOW = Instant.parse("2026-11-20T09:30:00Z");

  private final String url = Postgres.newSchemaUrl();

  @Override
  PredictionStore open(Optional<NoteVault> vault) {
    return PredictionStore.open(url, "postgres", "", vault);
  }

  /**
   * While the writer waits on a table lock with one prediction, ten more queue up; once the lock
   * goes, the ten are stored in one transaction, and a duplicate among them fails alone.
   */
  @Test
  void insertsQueuedWhileTheWriterWaits_shareOneTransaction_andABadOneFailsAlone()
      throws Exception {
    ExecutorService callers = Executors.newFixedThreadPool(11);
    try (PredictionStore store = open(Optional.empty())) {
      store.insert(prediction("first", NOW), "a note");
      PredictionStore.WriteStats before = store.writeStats();

      List<Future<?>> inserts = whileLocked(store, callers, "a", false);
      for (Future<?> f : inserts) {
        f.get(60, TimeUnit.SECONDS);
      }

      PredictionStore.WriteStats after = store.writeStats();
      assertThat(after.predictions() - before.predictions()).isEqualTo(11);
      assertThat(after.transactions() - before.transactions()).isEqualTo(2);

      List<Future<?>> withDuplicate = whileLocked(store, callers, "b", true);
      int failed = 0;
      for (Future<?> f : withDuplicate) {
        try {
          f.get(60, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
          assertThat(e.getCause()).isInstanceOf(PredictionStoreException.class);
          failed++;
        }
      }
      assertThat(failed).isEqualTo(1);
      for (int i = 0; i < 11; i++) {
        assertThat(store.find("a-" + i)).isPresent();
        assertThat(store.find("b-" + i)).isPresent();
      }
    } finally {
      callers.shutdownNow();
    }
  }

  /**
   * Locks the predictions table, lets the writer take {@code prefix-0}, queues {@code prefix-1} to
   * {@code prefix-10} (the last one reusing the id {@code first} when {@code duplicate}), then
   * releases the lock.
   */
  private List<Future<?>> whileLocked(
      PredictionStore store, ExecutorService callers, String prefix, boolean duplicate)
      throws Exception {
    List<Future<?>> inserts = new ArrayList<>();
    try (Connection lock = DriverManager.getConnection(url, "postgres", "")) {
      lock.setAutoCommit(false);
      try (Statement s = lock.createStatement()) {
        s.execute("LOCK TABLE predictions IN EXCLUSIVE MODE");
      }
      inserts.add(callers.submit(() -> store.insert(prediction(prefix + "-0", NOW), "n")));
      await(() -> waitsOnALock(lock));
      for (int i = 1; i <= 10; i++) {
        String id = duplicate && i == 10 ? "first" : prefix + "-" + i;
        inserts.add(callers.submit(() -> store.insert(prediction(id, NOW), "n")));
      }
      await(() -> store.writeStats().waiting() == 10);
      lock.rollback();
    }
    if (duplicate) {
      inserts.add(callers.submit(() -> store.insert(prediction(prefix + "-10", NOW), "n")));
    }
    return inserts;
  }

  /** Whether some session waits for a lock (the writer, on the table this test locked). */
  private static boolean waitsOnALock(Connection c) {
    try (Statement s = c.createStatement();
        var r = s.executeQuery("SELECT count(*) FROM pg_locks WHERE NOT granted")) {
      r.next();
      return r.getInt(1) > 0;
    } catch (java.sql.SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  private static void await(BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("condition not reached in 30 s");
      }
      Thread.sleep(5);
    }
  }
}
