package dev.protorad.spark;

import static org.apache.spark.sql.functions.col;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.protorad.api.v1.AuditEvent;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The bulk job in Spark local mode against a governed server in this JVM: every order scored
 * exactly once, in the output and in the audit trail, though each task dies mid-partition and Spark
 * retries it; a re-run scores nothing new; bad input and bad credentials say what is wrong.
 */
class BulkJobTest {

  /** The bench's orders, with a patient reference. */
  private static final StructType ORDERS =
      BulkBench.ORDERS.add(DataTypes.createStructField("patient_ref", DataTypes.StringType, true));

  private static final String[] NOTES = BulkBench.NOTES;

  @TempDir static Path dir;
  private static BulkServer server;
  private static SparkSession spark;

  @BeforeAll
  static void start() throws Exception {
    server = BulkServer.start(dir.resolve("server"));
    // Two threads, and up to three attempts per task, as a cluster would retry a lost executor.
    spark =
        SparkSession.builder()
            .appName("bulk-test")
            .master("local[2,3]")
            .config("spark.ui.enabled", "false")
            .config("spark.sql.shuffle.partitions", "4")
            .getOrCreate();
    spark.sparkContext().setLogLevel("ERROR");
  }

  @AfterAll
  static void stop() throws Exception {
    if (spark != null) {
      spark.stop();
    }
    if (server != null) {
      server.close();
    }
  }

  private static BulkSettings settings(String jobId) {
    return new BulkSettings(server.target(), "", server.intakeKey, "", jobId, 0, 32, 200, 4);
  }

  private static Dataset<Row> orders(int n, String prefix) {
    List<Row> rows = new ArrayList<>(n);
    for (Row r : BulkBench.rows(n, prefix)) {
      rows.add(RowFactory.create(r.getString(0), r.getString(1), "PT-" + (rows.size() % 97)));
    }
    return spark.createDataFrame(rows, ORDERS).repartition(4);
  }

  /** 1,000 in {@code ./mvnw verify}; {@code .ci/run} runs this test again with 10,000. */
  private static final int ORDER_COUNT = Integer.getInteger("protorad.bulk.orders", 1000);

  @Test
  void orders_scoredExactlyOnce_thoughEveryTaskIsKilledMidPartition_andARerunScoresNothing()
      throws Exception {
    int n = ORDER_COUNT;
    String output = dir.resolve("out-" + n).toString();
    // Every scoring task's first attempt is killed three seconds in, once it has predictions, and
    // Spark runs it again: the notes it had sent come back as replays, not new predictions.
    TaskKiller killer = new TaskKiller(spark, Duration.ofSeconds(3));
    spark.sparkContext().addSparkListener(killer);
    PrintStream log = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);

    BulkJob.Summary first;
    try {
      first = BulkJob.run(spark, orders(n, "BULK-"), output, settings("job-" + n), log);
    } finally {
      spark.sparkContext().removeSparkListener(killer);
    }
    assertThat(killer.killed()).as("task attempts killed").isPositive();

    assertThat(first.scored()).isEqualTo(n);
    assertThat(first.failed()).isZero();
    assertThat(first.skipped()).isZero();
    Dataset<Row> written = spark.read().parquet(output);
    assertThat(written.count()).isEqualTo(n);
    assertThat(written.select("order_id").distinct().count()).isEqualTo(n);
    assertThat(written.filter(col("prediction_id").isNull()).count()).isZero();
    assertThat(written.columns()).doesNotContain("note");
    Set<String> predictionIds =
        written.select("prediction_id").as(Encoders.STRING()).collectAsList().stream()
            .collect(Collectors.toSet());
    assertThat(predictionIds).hasSize(n);

    // The audit trail: one prediction per order, and the retried task's notes only as replays.
    List<AuditEvent> events = server.auditEvents();
    List<AuditEvent> made =
        events.stream()
            .filter(e -> e.getAction().equals("protorad.v1.ProtocolService/AssignProtocols"))
            .filter(e -> e.getOrderId().startsWith("BULK-") && e.getStatusCode().equals("OK"))
            .toList();
    assertThat(made).hasSize(n);
    assertThat(made.stream().map(AuditEvent::getPredictionId).collect(Collectors.toSet()))
        .isEqualTo(predictionIds);
    assertThat(events.stream().filter(e -> e.getAction().endsWith("#replay")).count())
        .as("notes the retried tasks sent again")
        .isPositive();
    Map<String, Object> summary = summary(output);
    assertThat(summary).containsEntry("scored", n).containsEntry("failed", 0);

    // A re-run of the same job scores nothing new.
    BulkJob.Summary again =
        BulkJob.run(spark, orders(n, "BULK-"), output, settings("job-" + n), log);
    assertThat(again.scored()).isZero();
    assertThat(again.skipped()).isEqualTo(n);
    assertThat(spark.read().parquet(output).count()).isEqualTo(n);
    assertThat(summary(output)).containsEntry("skipped", n).containsEntry("scored", 0);
  }

  @Test
  void emptyNotesAndDuplicates_areOneRowEach_theEmptyOnesWithAnError() throws Exception {
    List<Row> rows = new ArrayList<>();
    rows.add(RowFactory.create("E-1", "   ", null));
    rows.add(RowFactory.create("E-2", null, null));
    rows.add(RowFactory.create("E-3", NOTES[0], null));
    rows.add(RowFactory.create("E-3", NOTES[0], null));
    String output = dir.resolve("out-errors").toString();
    PrintStream log = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);

    BulkJob.Summary s =
        BulkJob.run(spark, spark.createDataFrame(rows, ORDERS), output, settings("job-e"), log);

    assertThat(s.scored()).isEqualTo(1);
    assertThat(s.failed()).isEqualTo(2);
    List<Row> errors =
        spark.read().parquet(output).filter(col("error").isNotNull()).collectAsList();
    assertThat(errors)
        .extracting(r -> r.getString(r.fieldIndex("error")))
        .containsOnly("INVALID_ARGUMENT: note: empty");
    assertThat(spark.read().parquet(output).count()).isEqualTo(3);
  }

  @Test
  void missingColumns_badCredentials_andAnUnreachableServer_sayWhatIsWrong() {
    PrintStream log = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
    Dataset<Row> noNote = orders(3, "M-").drop("note");
    assertThatThrownBy(
            () -> BulkJob.run(spark, noNote, dir.resolve("o1").toString(), settings("j1"), log))
        .isInstanceOf(BulkJob.BulkException.class)
        .hasMessageContaining("no column 'note'");

    BulkSettings wrongKey =
        new BulkSettings(server.target(), "", "prk_not-a-key", "", "j2", 0, 8, 50, 2);
    assertThatThrownBy(
            () -> BulkJob.run(spark, orders(3, "K-"), dir.resolve("o2").toString(), wrongKey, log))
        .isInstanceOf(BulkJob.BulkException.class)
        .hasMessageContaining("UNAUTHENTICATED");

    BulkSettings nowhere =
        new BulkSettings("127.0.0.1:1", "", server.intakeKey, "", "j3", 0, 8, 50, 2);
    assertThatThrownBy(
            () -> BulkJob.run(spark, orders(3, "U-"), dir.resolve("o3").toString(), nowhere, log))
        .isInstanceOf(BulkJob.BulkException.class)
        .hasMessageContaining("cannot reach the server at 127.0.0.1:1");
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> summary(String output) throws Exception {
    return new com.fasterxml.jackson.databind.ObjectMapper()
        .readValue(Files.readString(Path.of(output, "_summary.json")), Map.class);
  }
}
