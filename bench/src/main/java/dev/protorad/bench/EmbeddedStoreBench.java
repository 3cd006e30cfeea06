package dev.protorad.bench;

import dev.protorad.server.config.ServingConfig;
import dev.protorad.server.serving.PredictionStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * What the embedded store's crash-safe layout costs: the server's H2 URL (every commit appended at
 * the end of the file) against the same database with space reuse (the earlier URL), each filled by
 * {@link #THREADS} threads as the answer threads fill it. Prints insert time, file bytes per
 * prediction, and what the compaction at the next start takes and leaves.
 */
public final class EmbeddedStoreBench implements Benchmark {

  private static final int PREDICTIONS = 2_000;
  private static final int THREADS = 8;
  private static final String NOTE =
      "58M presents with two days of RLQ pain, fever 38.4, WBC 14.2. Query appendicitis. Cr 1.0.";

  private record Fill(
      double msPerInsert, double bytesPerPrediction, double compactSeconds, long after) {}

  @Override
  public String name() {
    return "embedded-store";
  }

  @Override
  public String description() {
    return "embedded H2 store: appended commits (server default) vs space reuse; growth, compaction";
  }

  @Override
  public void run(BenchReport report) throws Exception {
    Path dir = Files.createTempDirectory("protorad-embedded");
    String appended = ServingConfig.defaults().resolvedPredictionsJdbcUrl(dir.resolve("appended"));
    String reused =
        "jdbc:h2:file:" + dir.resolve("reused").resolve("predictions") + ";WRITE_DELAY=0";
    Fill a = null;
    Fill r = null;
    for (int round = 0; round < 2; round++) {
      r = fill(reused, dir.resolve("reused").resolve("predictions.mv.db"));
      a =
          fill(
              appended,
              dir.resolve("appended").resolve("predictions").resolve("predictions.mv.db"));
    }
    report.row("space reuse: insert, " + THREADS + " threads", r.msPerInsert(), "ms/insert");
    report.row("appended (default): insert, " + THREADS + " threads", a.msPerInsert(), "ms/insert");
    report.row("space reuse: file growth", r.bytesPerPrediction() / 1024, "KiB/prediction");
    report.row("appended (default): file growth", a.bytesPerPrediction() / 1024, "KiB/prediction");
    report.row("appended (default): compaction at start", a.compactSeconds(), "s");
    report.row("appended (default): file after compaction", a.after() / 1e6, "MB");
    report.ratio("appended / space reuse insert time", a.msPerInsert(), r.msPerInsert(), "");
    report.ratio(
        "appended / space reuse file growth", a.bytesPerPrediction(), r.bytesPerPrediction(), "");
  }

  /** Adds {@link #PREDICTIONS} to the store at {@code url}, then compacts it as a start would. */
  private static Fill fill(String url, Path file) throws Exception {
    long before;
    long start;
    try (PredictionStore store = PredictionStore.open(url, "", "")) {
      before = Files.size(file);
      ExecutorService pool = Executors.newFixedThreadPool(THREADS);
      start = System.nanoTime();
      List<Future<?>> inserts = new ArrayList<>();
      for (int i = 0; i < PREDICTIONS; i++) {
        inserts.add(pool.submit(() -> store.insert(PredictionStoreBench.prediction(), NOTE)));
      }
      for (Future<?> f : inserts) {
        f.get();
      }
      pool.shutdown();
    }
    double ms = (System.nanoTime() - start) / 1e6 / PREDICTIONS;
    double growth = (double) (Files.size(file) - before) / PREDICTIONS;
    long compactStart = System.nanoTime();
    PredictionStore.compact(url, "", "");
    double compact = (System.nanoTime() - compactStart) / 1e9;
    return new Fill(ms, growth, compact, Files.size(file));
  }
}
