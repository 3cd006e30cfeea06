package dev.protorad.spark;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.when;

import dev.protorad.client.ProtoradClient;
import dev.protorad.client.ProtoradException;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.health.v1.HealthCheckResponse;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.util.LongAccumulator;

/**
 * Bulk scoring: orders ({@code order_id}, {@code note}, optional {@code patient_ref}) in, one
 * Parquet row per order out ({@link BulkSchema#OUTPUT}), through the governed server.
 *
 * <p>Exactly once per order: orders already in the output (from an earlier run) are skipped, the
 * input is deduplicated by order id, and every note carries the idempotency key {@code
 * jobId:orderId}, so a task Spark retries, or a re-run of the same job, gets the predictions the
 * server already made instead of new ones. Spark's commit protocol keeps a failed attempt's files
 * out of the output. {@code DIR/_summary.json} counts what this run scored, sent to review, failed
 * and skipped, read back from the output it committed.
 */
public final class BulkJob {

  /** What one run did. */
  public record Summary(
      String runId, long scored, long needsReview, long failed, long skipped, Duration took) {

    String toJson() {
      return String.format(
          Locale.ROOT,
          "{\"run_id\":\"%s\",\"scored\":%d,\"needs_review\":%d,\"failed\":%d,\"skipped\":%d,"
              + "\"seconds\":%.3f}%n",
          runId,
          scored,
          needsReview,
          failed,
          skipped,
          took.toMillis() / 1000.0);
    }
  }

  /** A job that cannot start or finish, with a message meant for the person running it. */
  public static final class BulkException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    BulkException(String message) {
      super(message);
    }

    BulkException(String message, Throwable cause) {
      super(message, cause);
    }
  }

  private BulkJob() {}

  /**
   * Reads the orders at {@code input}: Parquet ({@code .parquet} or a directory of it), CSV with a
   * header ({@code .csv}), JSON lines ({@code .jsonl}, {@code .json}), or, for a {@code jdbc:} URL,
   * the table {@code table}.
   */
  public static Dataset<Row> read(SparkSession spark, String input, String table) {
    String lower = input.toLowerCase(Locale.ROOT);
    if (lower.startsWith("jdbc:")) {
      if (table.isBlank()) {
        throw new BulkException("--table is needed to read orders from a JDBC URL");
      }
      return spark.read().format("jdbc").option("url", input).option("dbtable", table).load();
    }
    if (lower.endsWith(".csv")) {
      return spark.read().option("header", "true").option("multiLine", "true").csv(input);
    }
    if (lower.endsWith(".jsonl") || lower.endsWith(".json")) {
      return spark.read().json(input);
    }
    return spark.read().parquet(input);
  }

  /** Scores {@code orders} into {@code output} as {@code settings} say; progress on {@code log}. */
  public static Summary run(
      SparkSession spark,
      Dataset<Row> orders,
      String output,
      BulkSettings settings,
      PrintStream log) {
    Instant start = Instant.now();
    List<String> columns = Arrays.asList(orders.columns());
    requireColumns(columns);
    checkServer(settings);
    Dataset<Row> keyed =
        orders.select(keep(columns)).filter(col("order_id").isNotNull()).dropDuplicates("order_id");
    Todo todo = todo(spark, keyed, output);
    String runId = "run-" + start.toEpochMilli();
    log.printf(
        "bulk: scoring into %s as job %s (%d orders already there, skipped)%n",
        output, settings.jobId(), todo.skipped());
    score(spark, todo.rows(), output, settings, runId, log);
    Summary summary = committed(spark, output, runId, todo.skipped(), start);
    writeSummary(spark, output, summary);
    log.printf(
        "bulk: done: %d scored (%d need review), %d failed, %d skipped in %.1f s%n",
        summary.scored(),
        summary.needsReview(),
        summary.failed(),
        summary.skipped(),
        summary.took().toMillis() / 1000.0);
    return summary;
  }

  private static void requireColumns(List<String> columns) {
    for (String required : List.of("order_id", "note")) {
      if (!columns.contains(required)) {
        throw new BulkException(
            "input: no column '" + required + "' (columns: " + String.join(", ", columns) + ")");
      }
    }
  }

  /** The orders still to score, and how many the output already holds. */
  private record Todo(Dataset<Row> rows, long skipped) {}

  private static Todo todo(SparkSession spark, Dataset<Row> keyed, String output) {
    if (!hasOutput(spark, output)) {
      return new Todo(keyed, 0);
    }
    Dataset<Row> done = spark.read().parquet(output).select("order_id").distinct();
    var same = keyed.col("order_id").equalTo(done.col("order_id"));
    return new Todo(
        keyed.join(done, same, "left_anti"), keyed.join(done, same, "left_semi").count());
  }

  /** Scores {@code todo} through the server and appends the rows to {@code output}. */
  private static void score(
      SparkSession spark,
      Dataset<Row> todo,
      String output,
      BulkSettings settings,
      String runId,
      PrintStream log) {
    LongAccumulator scored = spark.sparkContext().longAccumulator("protorad.scored");
    LongAccumulator review = spark.sparkContext().longAccumulator("protorad.needs_review");
    LongAccumulator failed = spark.sparkContext().longAccumulator("protorad.failed");
    Thread progress = progress(log, scored, review, failed);
    try {
      int partitions = todo.rdd().getNumPartitions();
      todo.mapPartitions(
              new OrderScorer(settings, runId, partitions, scored, review, failed),
              Encoders.row(BulkSchema.OUTPUT))
          .write()
          .mode(SaveMode.Append)
          .parquet(output);
    } catch (Exception e) { // SparkException is checked, though Scala throws it undeclared
      throw explain(e, settings);
    } finally {
      progress.interrupt();
    }
  }

  /** One pass over what this run committed: counts a retried task cannot inflate. */
  private static Summary committed(
      SparkSession spark, String output, String runId, long skipped, Instant start) {
    Row counts =
        spark
            .read()
            .parquet(output)
            .filter(col("run_id").equalTo(runId))
            .agg(
                count(when(col("error").isNull(), 1)),
                count(when(col("error").isNotNull(), 1)),
                count(when(col("error").isNull().and(col("needs_review")), 1)))
            .first();
    return new Summary(
        runId,
        counts.getLong(0),
        counts.getLong(2),
        counts.getLong(1),
        skipped,
        Duration.between(start, Instant.now()));
  }

  private static org.apache.spark.sql.Column[] keep(List<String> columns) {
    return columns.stream()
        .filter(c -> c.equals("order_id") || c.equals("note") || c.equals("patient_ref"))
        .map(c -> col(c).cast("string").alias(c))
        .toArray(org.apache.spark.sql.Column[]::new);
  }

  /** Fails early, with a clear message, when the server cannot be reached. */
  private static void checkServer(BulkSettings settings) {
    ManagedChannel channel = settings.openChannel();
    try {
      HealthCheckResponse.ServingStatus status =
          ProtoradClient.builder(channel)
              .deadline(Duration.ofSeconds(10))
              .maxAttempts(1)
              .build()
              .health();
      if (status != HealthCheckResponse.ServingStatus.SERVING) {
        throw new BulkException("the server at " + settings.server() + " is " + status);
      }
    } catch (ProtoradException e) {
      throw new BulkException(
          "cannot reach the server at " + settings.server() + " (" + e.code() + ")", e);
    } finally {
      channel.shutdownNow();
    }
  }

  /**
   * The first cause a person can act on, from the failures Spark wraps tasks' errors in (on a
   * cluster the task's exception arrives as text in the message, not as a cause).
   */
  private static RuntimeException explain(Exception e, BulkSettings settings) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      String m = String.valueOf(t.getMessage());
      if ((t instanceof ProtoradException p && p.code() == Status.Code.UNAUTHENTICATED)
          || m.contains("ProtoradException: UNAUTHENTICATED")) {
        return new BulkException("the server refused the job's credentials (UNAUTHENTICATED)", e);
      }
      if ((t instanceof ProtoradException p && p.code() == Status.Code.PERMISSION_DENIED)
          || m.contains("ProtoradException: PERMISSION_DENIED")) {
        return new BulkException(
            "the job's principal may not submit notes (PERMISSION_DENIED; needs note:submit)", e);
      }
      if (t instanceof ProtoradException p) {
        return new BulkException(
            "scoring failed at " + settings.server() + ": " + p.getMessage(), e);
      }
    }
    return e instanceof RuntimeException r ? r : new BulkException("the job failed: " + e, e);
  }

  private static boolean hasOutput(SparkSession spark, String output) {
    try {
      org.apache.hadoop.fs.Path path = new org.apache.hadoop.fs.Path(output);
      FileSystem fs = path.getFileSystem(spark.sparkContext().hadoopConfiguration());
      if (!fs.exists(path)) {
        return false;
      }
      for (FileStatus f : fs.listStatus(path)) {
        if (f.getPath().getName().endsWith(".parquet")) {
          return true;
        }
      }
      return false;
    } catch (IOException e) {
      throw new BulkException("cannot read the output directory " + output, e);
    }
  }

  private static void writeSummary(SparkSession spark, String output, Summary summary) {
    try {
      org.apache.hadoop.fs.Path path = new org.apache.hadoop.fs.Path(output, "_summary.json");
      FileSystem fs = path.getFileSystem(spark.sparkContext().hadoopConfiguration());
      try (OutputStream out = fs.create(path, true)) {
        out.write(summary.toJson().getBytes(StandardCharsets.UTF_8));
      }
    } catch (IOException e) {
      throw new BulkException("cannot write " + output + "/_summary.json", e);
    }
  }

  /**
   * Prints the accumulators every two seconds. They grow as tasks finish, and may count a task
   * Spark retried twice; the summary does not.
   */
  private static Thread progress(
      PrintStream log, LongAccumulator scored, LongAccumulator review, LongAccumulator failed) {
    Thread t =
        new Thread(
            () -> {
              try {
                while (true) {
                  TimeUnit.SECONDS.sleep(2);
                  log.printf(
                      "bulk: %d scored (%d need review), %d failed so far%n",
                      scored.value(), review.value(), failed.value());
                }
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            },
            "protorad-bulk-progress");
    t.setDaemon(true);
    t.start();
    return t;
  }
}
