package dev.protorad.spark;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.concurrent.Callable;
import org.apache.spark.sql.SparkSession;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code protorad bulk}: the bulk job in Spark local mode, or under {@code spark-submit} (where the
 * master comes from the submission and {@code --master} is ignored).
 */
@Command(
    name = "bulk",
    mixinStandardHelpOptions = true,
    description = {
      "Score a table of orders (order_id, note, optional patient_ref) on Spark through the server;"
          + " write one Parquet row per order to --output, and DIR/_summary.json.",
      "Orders already in --output are skipped; each note's idempotency key is JOB_ID:ORDER_ID, so"
          + " retried tasks and re-runs never make a second prediction."
    })
public final class BulkCommand implements Callable<Integer> {

  @Option(
      names = "--input",
      paramLabel = "PATH",
      description =
          "Orders: .parquet (file or directory), .csv (with header), .jsonl, or a jdbc: URL with --table.")
  @Nullable String input;

  @Option(
      names = "--table",
      paramLabel = "TABLE",
      description = "Table to read from a jdbc: --input.")
  String table = "";

  @Option(names = "--output", paramLabel = "DIR", description = "Output directory (Parquet).")
  @Nullable String output;

  @Option(
      names = "--server",
      paramLabel = "HOST:PORT",
      description =
          "The server, or the address in front of its replicas (default 127.0.0.1:50051).")
  String server = "127.0.0.1:50051";

  @Option(
      names = "--adapter",
      paramLabel = "REF",
      description = "Adapter for every order (default: the server's).")
  String adapter = "";

  @Option(
      names = "--api-key",
      paramLabel = "KEY",
      description = "API key of a note:submit principal (default: env PROTORAD_API_KEY).")
  String apiKey = System.getenv().getOrDefault("PROTORAD_API_KEY", "");

  @Option(
      names = "--ca",
      paramLabel = "PEM",
      description = "Verify the server's TLS certificate with this CA (TLS on).")
  String ca = "";

  @Option(
      names = "--job-id",
      paramLabel = "ID",
      description =
          "The job's id, part of every idempotency key (default: derived from --input, --output and --adapter).")
  @Nullable String jobId;

  @Option(
      names = "--max-rate",
      paramLabel = "N",
      description = "Notes a second for the whole job (default: no limit).")
  double maxRate;

  @Option(
      names = "--max-in-flight",
      paramLabel = "N",
      description = "Unanswered notes per partition at most (default 32).")
  int maxInFlight = BulkSettings.DEFAULT_MAX_IN_FLIGHT;

  @Option(
      names = "--master",
      paramLabel = "URL",
      description = "Spark master when run directly (default local[*]).")
  String master = "local[*]";

  @Option(
      names = "--bench",
      paramLabel = "N",
      description =
          "Instead of a job: time N notes through one SDK stream and N through the Spark job (2"
              + " executors) against --server, twice each, and print notes/s and the job's overhead.")
  int bench;

  @Override
  public Integer call() throws Exception {
    BulkSettings settings = settings();
    return bench > 0 ? runBench(settings) : runJob(settings);
  }

  private int runBench(BulkSettings settings) throws Exception {
    BulkBench.run(settings, bench, BulkBench.workDir(), System.out);
    return 0;
  }

  private int runJob(BulkSettings settings) {
    String in = input;
    String out = output;
    if (in == null || out == null) {
      throw new IllegalArgumentException("--input and --output are required");
    }
    SparkSession spark = session();
    try {
      BulkJob.Summary s =
          BulkJob.run(spark, BulkJob.read(spark, in, table), out, settings, System.err);
      System.out.print(s.toJson());
      return s.failed() == 0 ? 0 : 1;
    } finally {
      spark.stop();
    }
  }

  private BulkSettings settings() {
    return new BulkSettings(
        server,
        ca,
        apiKey,
        adapter,
        jobId != null ? jobId : defaultJobId(),
        maxRate,
        maxInFlight,
        BulkSettings.DEFAULT_CHUNK,
        BulkSettings.DEFAULT_MAX_ATTEMPTS);
  }

  /** The active session, or a local one on {@code --master} unless spark.master is set. */
  private SparkSession session() {
    SparkSession.Builder builder = SparkSession.builder().appName("protorad-bulk");
    if (!SparkSession.getActiveSession().isDefined()
        && System.getProperty("spark.master") == null) {
      builder.master(master);
    }
    SparkSession spark = builder.getOrCreate();
    spark.sparkContext().setLogLevel("WARN");
    return spark;
  }

  private String defaultJobId() {
    try {
      byte[] digest =
          MessageDigest.getInstance("SHA-256")
              .digest((input + "\n" + output + "\n" + adapter).getBytes(StandardCharsets.UTF_8));
      return "bulk-" + HexFormat.of().formatHex(digest, 0, 8);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * Runs the command; exit 0 when every order scored, 1 when some failed or the job did, 2 on bad
   * usage.
   */
  public static void main(String[] args) {
    CommandLine cli =
        new CommandLine(new BulkCommand())
            .setExecutionExceptionHandler(
                (e, line, parsed) -> {
                  if (e instanceof BulkJob.BulkException || e instanceof IllegalArgumentException) {
                    line.getErr().println("protorad bulk: " + e.getMessage());
                    return e instanceof IllegalArgumentException ? 2 : 1;
                  }
                  throw e;
                });
    System.exit(cli.execute(args));
  }
}
