package dev.protorad.server.serving;

import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Group insert: callers queue predictions and wait; one writer thread takes everything queued (up
 * to {@link #MAX_BATCH}) and stores it in one transaction, then wakes the callers. Under load the
 * predictions of a batch of answers share one commit instead of one each. When a group's
 * transaction fails, each of its predictions is tried again alone, so a bad one (a duplicate id)
 * fails only its own caller.
 */
final class PredictionWriter implements AutoCloseable {

  /** Stores predictions on the writer thread. */
  interface Sink {
    /** Stores all of {@code rows} in one transaction, or none of them. */
    void insertAll(List<Row> rows) throws SQLException;
  }

  /**
   * A prediction, its sealed note when the store keeps notes, and its retry key when it has one.
   */
  record Row(
      StoredPrediction prediction,
      java.util.Optional<SealedNote> note,
      java.util.Optional<Idempotency> idempotency) {}

  static final int MAX_BATCH = 256;

  /** How often an idle writer looks whether the store is closing. */
  private static final long POLL_MILLIS = 100;

  private record Pending(Row row, CompletableFuture<Void> done) {}

  private final Sink sink;
  private final BlockingQueue<Pending> queue = new LinkedBlockingQueue<>();
  private final AtomicLong transactions = new AtomicLong();
  private final AtomicLong predictions = new AtomicLong();
  private final Thread thread;
  private volatile boolean closed;

  PredictionWriter(String name, Sink sink) {
    this.sink = sink;
    this.thread = new Thread(this::run, name);
    thread.setDaemon(true);
    thread.start();
  }

  /**
   * Stores {@code row} and returns once it is committed.
   *
   * @throws PredictionStore.PredictionStoreException when it could not be stored, or the store is
   *     closed
   */
  void insert(Row row) {
    Pending p = new Pending(row, new CompletableFuture<>());
    queue.add(p);
    // Added first, checked after: a writer that has stopped did so after closed was set.
    if (closed && queue.remove(p)) {
      throw new PredictionStore.PredictionStoreException("prediction store closed");
    }
    try {
      p.done().join();
    } catch (CompletionException e) {
      if (e.getCause() instanceof PredictionStore.PredictionStoreException s) {
        throw s;
      }
      throw e;
    }
  }

  PredictionStore.WriteStats stats() {
    return new PredictionStore.WriteStats(transactions.get(), predictions.get(), queue.size());
  }

  /** Stores what is queued, then stops the writer. */
  @Override
  public void close() {
    closed = true;
    awaitWriter();
    fail(new PredictionStore.PredictionStoreException("prediction store closed"));
  }

  private void awaitWriter() {
    try {
      thread.join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void run() {
    List<Pending> batch = new ArrayList<>();
    while (!(closed && queue.isEmpty())) {
      Pending first;
      try {
        first = queue.poll(POLL_MILLIS, TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        fail(new PredictionStore.PredictionStoreException("prediction writer interrupted"));
        return;
      }
      if (first == null) {
        continue;
      }
      batch.add(first);
      queue.drainTo(batch, MAX_BATCH - 1);
      write(batch);
      batch.clear();
    }
  }

  private void write(List<Pending> batch) {
    try {
      writeGroup(batch);
    } catch (Error e) {
      // The writer goes on; these callers learn their predictions were not stored.
      failEach(
          batch,
          new PredictionStore.PredictionStoreException(
              "cannot store prediction (" + e.getClass().getSimpleName() + ")"));
    }
  }

  private void writeGroup(List<Pending> batch) {
    if (!store(batch)) {
      // The group failed: each alone, so one bad prediction does not fail the others.
      batch.forEach(p -> store(List.of(p)));
    }
  }

  /** One transaction for {@code batch}; completes its callers unless it fails for a group. */
  private boolean store(List<Pending> batch) {
    List<Row> rows = new ArrayList<>(batch.size());
    for (Pending p : batch) {
      rows.add(p.row());
    }
    try {
      sink.insertAll(rows);
    } catch (SQLException | RuntimeException e) {
      if (batch.size() > 1) {
        return false;
      }
      batch
          .get(0)
          .done()
          .completeExceptionally(
              e instanceof SQLException sql
                  ? new PredictionStore.PredictionStoreException("cannot store prediction", sql)
                  : new PredictionStore.PredictionStoreException(
                      "cannot store prediction (" + e.getClass().getSimpleName() + ")"));
      return true;
    }
    transactions.incrementAndGet();
    predictions.addAndGet(batch.size());
    for (Pending p : batch) {
      p.done().complete(null);
    }
    return true;
  }

  private void fail(RuntimeException e) {
    List<Pending> left = new ArrayList<>();
    queue.drainTo(left);
    failEach(left, e);
  }

  private static void failEach(List<Pending> pending, RuntimeException e) {
    for (Pending p : pending) {
      p.done().completeExceptionally(e);
    }
  }
}
