package dev.protorad.server.config;

import static java.util.Objects.requireNonNull;

import java.nio.file.Path;
import java.time.Duration;
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
 * @param predictionsManageSchema whether the server applies the prediction schema's migrations
 *     itself at start; false for a role holding only what {@code protorad predictions migrate
 *     --grant-to} grants
 * @param retainNotes whether each prediction's note is kept, encrypted, for training on reviews
 * @param noteKeyFile AES-256 keys sealing retained notes, lines {@code id=base64key}, the last line
 *     current; generated when missing; default {@code <data_dir>/keys/prediction-notes.keys}
 * @param noteRetentionDays days a retained note is kept after its prediction was made; 0 keeps
 *     notes until they are deleted by hand
 * @param rateLimitPerSecond calls a second each principal may start on average (bursts of twice
 *     that) before RESOURCE_EXHAUSTED
 * @param adapterRegistry where adapter versions and aliases are recorded ({@code
 *     adapters.registry})
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
    String predictionsJdbcPasswordEnv,
    boolean predictionsManageSchema,
    boolean retainNotes,
    Optional<Path> noteKeyFile,
    int noteRetentionDays,
    double rateLimitPerSecond,
    AdapterRegistry adapterRegistry) {

  /**
   * Where adapter versions and aliases are recorded. {@code files}: beside the versions in {@code
   * <data_dir>/adapters}, under a file lock (one machine, or replicas on one volume). {@code
   * database}: in the prediction database, with each version's files content-addressed under {@code
   * <data_dir>/adapters/blobs} on the shared volume; what replicas use.
   */
  public enum AdapterRegistry {
    FILES,
    DATABASE;

    /** The registry spelled {@code name}, or a {@link ConfigException} naming the key. */
    public static AdapterRegistry parse(String name) {
      return switch (name) {
        case "files" -> FILES;
        case "database" -> DATABASE;
        default ->
            throw new ConfigException(
                "adapters.registry", "'" + name + "' (expected: files or database)");
      };
    }
  }

  public static final double DEFAULT_REVIEW_THRESHOLD = 0.5;
  public static final int DEFAULT_WORKERS = 2;
  public static final int DEFAULT_QUEUE_CAPACITY = 64;
  public static final int DEFAULT_MAX_BATCH = 8;
  public static final int DEFAULT_MAX_WAIT_MILLIS = 5;
  public static final boolean DEFAULT_RETAIN_NOTES = true;
  public static final int DEFAULT_NOTE_RETENTION_DAYS = 90;
  public static final double DEFAULT_RATE_LIMIT_PER_SECOND = 1000;
  public static final int MAX_NOTE_RETENTION_DAYS = 36_500;

  public ServingConfig {
    requireNonNull(modelDir, "modelDir");
    requireNonNull(predictionsJdbcUrl, "predictionsJdbcUrl");
    requireNonNull(predictionsJdbcUser, "predictionsJdbcUser");
    requireNonNull(predictionsJdbcPasswordEnv, "predictionsJdbcPasswordEnv");
    requireNonNull(noteKeyFile, "noteKeyFile");
    requireNonNull(adapterRegistry, "adapterRegistry");
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
    if (!(rateLimitPerSecond > 0 && rateLimitPerSecond <= 1_000_000)) {
      throw new ConfigException(
          "serving.rate_limit_per_second", rateLimitPerSecond + " (expected: 0..1000000, above 0)");
    }
    if (noteRetentionDays < 0 || noteRetentionDays > MAX_NOTE_RETENTION_DAYS) {
      throw new ConfigException(
          "predictions.note_retention_days",
          noteRetentionDays + " (expected: 0..36500, 0 keeps notes forever)");
    }
  }

  /** The settings a server runs with when its configuration file names none. */
  public static ServingConfig defaults() {
    return new ServingConfig(
        Optional.empty(),
        DEFAULT_REVIEW_THRESHOLD,
        DEFAULT_WORKERS,
        DEFAULT_QUEUE_CAPACITY,
        DEFAULT_MAX_BATCH,
        DEFAULT_MAX_WAIT_MILLIS,
        "",
        "",
        "",
        true,
        DEFAULT_RETAIN_NOTES,
        Optional.empty(),
        DEFAULT_NOTE_RETENTION_DAYS,
        DEFAULT_RATE_LIMIT_PER_SECOND,
        AdapterRegistry.FILES);
  }

  /**
   * The prediction database URL in force. The embedded H2 default is set up so that what a commit
   * acknowledged survives the process being killed:
   *
   * <ul>
   *   <li>{@code WRITE_DELAY=0}: each commit is written to the file before it returns (H2's own
   *       default holds commits for up to half a second);
   *   <li>{@code REUSE_SPACE=FALSE}: each commit is appended at the end of the file. With space
   *       reuse, a commit written into the space of a dropped chunk was not found by H2's recovery
   *       after a SIGKILL when no later commit followed it (the last answered predictions of a
   *       burst went missing on restart). Appended chunks make the file grow between starts; the
   *       server compacts it on each start ({@link #embeddedPredictionsFile}).
   * </ul>
   */
  public String resolvedPredictionsJdbcUrl(Path dataDir) {
    return embeddedPredictionsFile(dataDir)
        .map(
            file ->
                "jdbc:h2:file:"
                    + file.resolveSibling("predictions")
                    + ";WRITE_DELAY=0;REUSE_SPACE=FALSE")
        .orElse(predictionsJdbcUrl);
  }

  /**
   * The embedded H2 database file, when no prediction database URL is configured: the server
   * compacts it before opening it.
   */
  public Optional<Path> embeddedPredictionsFile(Path dataDir) {
    return predictionsJdbcUrl.isEmpty()
        ? Optional.of(dataDir.toAbsolutePath().resolve("predictions").resolve("predictions.mv.db"))
        : Optional.empty();
  }

  /** The note key file in force. */
  public Path resolvedNoteKeyFile(Path dataDir) {
    return noteKeyFile.orElse(dataDir.resolve("keys").resolve("prediction-notes.keys"));
  }

  /** How long retained notes are kept; empty when they are kept forever. */
  public Optional<Duration> noteRetention() {
    return noteRetentionDays == 0
        ? Optional.empty()
        : Optional.of(Duration.ofDays(noteRetentionDays));
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
        predictionsJdbcPasswordEnv,
        predictionsManageSchema,
        retainNotes,
        noteKeyFile,
        noteRetentionDays,
        rateLimitPerSecond,
        adapterRegistry);
  }
}
