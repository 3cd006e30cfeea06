package dev.protorad.spark;

import dev.protorad.api.v1.AssignProtocolRequest;
import dev.protorad.api.v1.AssignProtocolsRequest;
import dev.protorad.client.ProtoradClient;
import io.grpc.ManagedChannel;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * {@code protorad bulk --bench}: notes a second through one SDK client's {@code AssignProtocols}
 * stream against the same server, then through the Spark job with two executor threads, alternated
 * A B A B in one process; prints both and the job's overhead over the raw stream. Each round uses
 * fresh order ids and job ids, so nothing is answered from an earlier round.
 */
final class BulkBench {

  static final StructType ORDERS =
      DataTypes.createStructType(
          List.of(
              DataTypes.createStructField("order_id", DataTypes.StringType, true),
              DataTypes.createStructField("note", DataTypes.StringType, true)));

  static final String[] NOTES = {
    "fall from standing, head strike on anticoagulation, r/o ICH",
    "RLQ pain, fever, leukocytosis, r/o appendicitis",
    "pleuritic chest pain, tachycardia, D-dimer elevated, r/o PE",
    "knee locking after twisting injury, r/o meniscal tear",
    "painless jaundice, weight loss, r/o pancreatic mass"
  };

  private BulkBench() {}

  static void run(BulkSettings settings, int orders, Path work, PrintStream out) throws Exception {
    SparkSession spark = localSession();
    ManagedChannel channel = settings.openChannel();
    try {
      ProtoradClient client = ProtoradClient.builder(channel).apiKey(settings.apiKey()).build();
      String stamp = Long.toString(System.currentTimeMillis(), 36);
      double[] raw = new double[2];
      double[] job = new double[2];
      for (int round = 0; round < 2; round++) {
        raw[round] = raw(client, settings, orders, "raw-" + stamp + "-" + round + "-");
        job[round] = job(spark, settings, orders, work, "job-" + stamp + "-" + round + "-");
        out.printf(
            Locale.ROOT,
            "round %d: raw stream %.1f notes/s, Spark job (2 executors) %.1f notes/s%n",
            round + 1,
            raw[round],
            job[round]);
      }
      printMeans(out, raw, job);
    } finally {
      channel.shutdownNow();
      spark.stop();
    }
  }

  /** A local session with two executors and no web UI. */
  private static SparkSession localSession() {
    SparkSession spark =
        SparkSession.builder()
            .appName("protorad-bulk-bench")
            .master("local[2]")
            .config("spark.ui.enabled", "false")
            .getOrCreate();
    spark.sparkContext().setLogLevel("WARN");
    return spark;
  }

  /** The two rounds' means, and the job's overhead over the raw stream. */
  private static void printMeans(PrintStream out, double[] raw, double[] job) {
    double r = (raw[0] + raw[1]) / 2;
    double j = (job[0] + job[1]) / 2;
    out.printf(
        Locale.ROOT,
        "mean: raw %.1f notes/s, job %.1f notes/s; job/raw %.3f, overhead %.1f%% (target <= 10%%)%n",
        r,
        j,
        j / r,
        100 * (1 - j / r));
  }

  /** Notes a second through the whole job: Spark, two executors, the output committed. */
  private static double job(
      SparkSession spark, BulkSettings settings, int orders, Path work, String prefix) {
    Dataset<Row> input = spark.createDataFrame(rows(orders, prefix), ORDERS).repartition(2);
    long start = System.nanoTime();
    BulkJob.Summary s =
        BulkJob.run(
            spark,
            input,
            work.resolve(prefix).toString(),
            new BulkSettings(
                settings.server(),
                settings.caFile(),
                settings.apiKey(),
                settings.adapter(),
                prefix + "bench",
                0,
                settings.maxInFlight(),
                settings.chunk(),
                settings.maxAttempts()),
            new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
    return s.scored() / ((System.nanoTime() - start) / 1e9);
  }

  private static double raw(ProtoradClient client, BulkSettings s, int n, String prefix) {
    List<AssignProtocolsRequest> items = new ArrayList<>(n);
    for (Row r : rows(n, prefix)) {
      items.add(
          AssignProtocolsRequest.newBuilder()
              .setRequestId(r.getString(0))
              .setRequest(
                  AssignProtocolRequest.newBuilder()
                      .setOrderId(r.getString(0))
                      .setNote(r.getString(1))
                      .setAdapter(s.adapter())
                      .setIdempotencyKey(prefix + r.getString(0)))
              .build());
    }
    AtomicInteger answered = new AtomicInteger();
    long start = System.nanoTime();
    client.assignProtocols(items.iterator(), s.maxInFlight(), r -> answered.incrementAndGet());
    return answered.get() / ((System.nanoTime() - start) / 1e9);
  }

  /** {@code n} orders {@code prefix0..}, their notes drawn in turn from {@link #NOTES}. */
  static List<Row> rows(int n, String prefix) {
    return IntStream.range(0, n)
        .mapToObj(i -> RowFactory.create(prefix + i, NOTES[i % NOTES.length] + " #" + i))
        .toList();
  }

  static Path workDir() throws Exception {
    return Files.createTempDirectory("protorad-bulk-bench");
  }
}
