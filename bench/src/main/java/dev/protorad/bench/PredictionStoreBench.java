package dev.protorad.bench;

import dev.protorad.server.serving.PredictionStore;
import dev.protorad.server.serving.StoredPrediction;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/**
 * Inserts into the embedded (H2 file) prediction store, one thread: through one open store, whose
 * pool keeps the database open, against a store opened for each insert, which reopens the database
 * every time as a new connection per call used to.
 */
public final class PredictionStoreBench implements Benchmark {

  private static final int INSERTS = 200;

  @Override
  public String name() {
    return "prediction-store";
  }

  @Override
  public String description() {
    return "H2 prediction inserts: one pooled store vs the database reopened per insert";
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
  }

  private static StoredPrediction prediction() {
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
        Instant.now(),
        "w1:" + id,
        Optional.empty());
  }
}
