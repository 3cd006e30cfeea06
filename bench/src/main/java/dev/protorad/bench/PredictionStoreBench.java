package dev.protorad.bench;

import dev.protorad.server.serving.PredictionStore;
import dev.protorad.server.serving.StoredPrediction;
import java.io.Closeable;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Inserts into the embedded (H2 file) prediction store, one thread: through one open store, whose
 * pool keeps the database open, against a store opened for each insert, which reopens the database
 * every time as a new connection per call used to. Then 16 threads inserting at once against one
 * thread, on H2 and on an embedded PostgreSQL (fsync on): inserts waiting at the same time share
 * one transaction.
 */
public final class PredictionStoreBench implements Benchmark {

  private static final int INSERTS = 200;
  private static final int THREADS = 16;

  @Override
  public String name() {
    return "prediction-store";
  }

  @Override
  public String description() {
    return "prediction inserts: pooled vs reopened (H2); 16 threads vs 1 (H2, PostgreSQL)";
  }

  @Override
  public void run(BenchReport report) throws Exception {
    Path dir = Files.createTempDirectory("protorad-store");
    String url = "jdbc:h2:file:" + dir.resolve("predictions");
    double pooled = Double.MAX_VALUE;
    double reopened = Double.MAX_VALUE;
    for (int round = 0; round < 3; round++) {
      long start = System.nanoTime();
      try (PredictionStore store = PredictionStore.open(url, "sa", "")) {
        for (int i = 0; i < INSERTS; i++) {
          store.insert(prediction(), "note");
        }
      }
      pooled = Math.min(pooled, (System.nanoTime() - start) / 1e6 / INSERTS);
      start = System.nanoTime();
      for (int i = 0; i < INSERTS; i++) {
        try (PredictionStore store = PredictionStore.open(url, "sa", "")) {
          store.insert(prediction(), "note");
        }
      }
      reopened = Math.min(reopened, (System.nanoTime() - start) / 1e6 / INSERTS);
    }
    report.row("one open store (pool keeps the database open)", pooled, "ms/insert");
    report.row("database reopened for each insert", reopened, "ms/insert");
    report.ratio("pooled / reopened throughput", reopened, pooled, "");
    concurrent(report, "H2", url);
    embeddedPostgres(report).close();
  }

  /**
   * {@link #THREADS} threads inserting at once, as the server's answer threads do, against one
   * thread: inserts waiting at the same time share one transaction.
   */
  private static void concurrent(BenchReport report, String database, String url) throws Exception {
    double one = Double.MAX_VALUE;
    double many = Double.MAX_VALUE;
    double perTransaction = 0;
    for (int round = 0; round < 3; round++) {
      try (PredictionStore store = PredictionStore.open(url, user(url), "")) {
        long start = System.nanoTime();
        for (int i = 0; i < INSERTS; i++) {
          store.insert(prediction(), "note");
        }
        one = Math.min(one, (System.nanoTime() - start) / 1e6 / INSERTS);
        PredictionStore.WriteStats before = store.writeStats();
        ExecutorService pool = Executors.newFixedThreadPool(THREADS);
        start = System.nanoTime();
        List<Future<?>> inserts = new ArrayList<>();
        for (int i = 0; i < INSERTS * THREADS; i++) {
          inserts.add(pool.submit(() -> store.insert(prediction(), "note")));
        }
        for (Future<?> f : inserts) {
          f.get();
        }
        many = Math.min(many, (System.nanoTime() - start) / 1e6 / (INSERTS * THREADS));
        pool.shutdown();
        PredictionStore.WriteStats after = store.writeStats();
        perTransaction =
            (double) (after.predictions() - before.predictions())
                / (after.transactions() - before.transactions());
      }
    }
    report.row(database + ": one thread", one, "ms/insert");
    report.row(database + ": " + THREADS + " threads at once", many, "ms/insert");
    report.row(
        database + ": predictions per transaction, " + THREADS + " threads", perTransaction, "");
    report.ratio(database + ": " + THREADS + " threads / one thread throughput", one, many, "");
  }

  private static String user(String url) {
    return url.startsWith("jdbc:postgresql:") ? "postgres" : "sa";
  }

  /** An embedded PostgreSQL (fsync on) measured like H2, when its library is present. */
  private static Closeable embeddedPostgres(BenchReport report) throws Exception {
    Class<?> type;
    try {
      type = Class.forName("io.zonky.test.db.postgres.embedded.EmbeddedPostgres");
    } catch (ClassNotFoundException e) {
      return () -> {};
    }
    Object builder = type.getMethod("builder").invoke(null);
    builder
        .getClass()
        .getMethod("setServerConfig", String.class, String.class)
        .invoke(builder, "fsync", "on");
    Closeable server = (Closeable) builder.getClass().getMethod("start").invoke(builder);
    try {
      String url =
          (String)
              type.getMethod("getJdbcUrl", String.class, String.class)
                  .invoke(server, "postgres", "postgres");
      concurrent(report, "PostgreSQL", url);
    } catch (Exception e) {
      server.close();
      throw e;
    }
    return server;
  }

  /** A new prediction with a fresh id, as an answered call stores it. */
  static StoredPrediction prediction() {
    String id = UUID.randomUUID().toString();
    return new StoredPrediction(
        id,
        "O-1",
        "PT-1",
        "ct-head-wo",
        0.9,
        "protocol@1",
        false,
        List.of(),
        List.of(),
        List.of(),
        Instant.now(),
        "w1:" + id,
        Optional.empty());
  }
}
