package dev.protorad.server.config;

import static java.util.Objects.requireNonNull;

import java.nio.file.Path;
import java.util.Optional;

/**
 * The model and how predictions are served and kept.
 *
 * @param modelDir Hugging Face checkpoint directory of the base model; empty runs without a model
 *     (ProtocolService then answers FAILED_PRECONDITION)
 * @param reviewThreshold confidence below which a prediction needs review
 * @param workers inference threads
 * @param queueCapacity requests waiting for a thread before RESOURCE_EXHAUSTED
 * @param maxBatch most requests run together in one mixed-adapter batch (1 disables batching)
 * @param maxWaitMillis how long an inference thread waits for a batch to fill
 * @param predictionsJdbcUrl prediction database; empty means an embedded H2 file under the data
 *     directory
 * @param predictionsJdbcUser database user
 * @param predictionsJdbcPasswordEnv environment variable holding the database password
 */
public record ServingConfig(
    Optional<Path> modelDir,
    double reviewThreshold,
    int workers,
    int queueCapacity,
    int maxBatch,
    int maxWaitMillis,
    String predictionsJdbcUrl,
    String predictionsJdbcUser,
    String predictionsJdbcPasswordEnv) {

  public static final double DEFAULT_REVIEW_THRESHOLD = 0.5;
  public static final int DEFAULT_WORKERS = 2;
  public static final int DEFAULT_QUEUE_CAPACITY = 64;
  public static final int DEFAULT_MAX_BATCH = 8;
  public static final int DEFAULT_MAX_WAIT_MILLIS = 5;

  public ServingConfig {
    requireNonNull(modelDir, "modelDir");
    requireNonNull(predictionsJdbcUrl, "predictionsJdbcUrl");
    requireNonNull(predictionsJdbcUser, "predictionsJdbcUser");
    requireNonNull(predictionsJdbcPasswordEnv, "predictionsJdbcPasswordEnv");
    if (!(reviewThreshold >= 0 && reviewThreshold <= 1)) {
      throw new ConfigException("model.review_threshold", reviewThreshold + " (expected: 0..1)");
    }
    if (workers < 1 || workers > 256) {
      throw new ConfigException("serving.workers", workers + " (expected: 1..256)");
    }
    if (queueCapacity < 1 || queueCapacity > 100_000) {
      throw new ConfigException("serving.queue_capacity", queueCapacity + " (expected: 1..100000)");
    }
    if (maxBatch < 1 || maxBatch > 256) {
      throw new ConfigException("serving.max_batch", maxBatch + " (expected: 1..256)");
    }
    if (maxWaitMillis < 0 || maxWaitMillis > 1000) {
      throw new ConfigException("serving.max_wait_ms", maxWaitMillis + " (expected: 0..1000)");
    }
    if (!predictionsJdbcUrl.isEmpty() && !predictionsJdbcUrl.startsWith("jdbc:")) {
      throw new ConfigException(
          "predictions.jdbc_url", "'" + predictionsJdbcUrl + "' (expected: a jdbc: URL)");
    }
  }

  static ServingConfig defaults() {
    return new ServingConfig(
        Optional.empty(),
        DEFAULT_REVIEW_THRESHOLD,
        DEFAULT_WORKERS,
        DEFAULT_QUEUE_CAPACITY,
        DEFAULT_MAX_BATCH,
        DEFAULT_MAX_WAIT_MILLIS,
        "",
        "",
        "");
  }

  /** The prediction database URL in force. */
  public String resolvedPredictionsJdbcUrl(Path dataDir) {
    return predictionsJdbcUrl.isEmpty()
        ? "jdbc:h2:file:" + dataDir.toAbsolutePath().resolve("predictions").resolve("predictions")
        : predictionsJdbcUrl;
  }

  /** This configuration with another model directory. */
  public ServingConfig withModelDir(Path dir) {
    return new ServingConfig(
        Optional.of(dir),
        reviewThreshold,
        workers,
        queueCapacity,
        maxBatch,
        maxWaitMillis,
        predictionsJdbcUrl,
        predictionsJdbcUser,
        predictionsJdbcPasswordEnv);
  }
}
