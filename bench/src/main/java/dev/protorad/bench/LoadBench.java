package dev.protorad.bench;

import dev.protorad.api.v1.AssignProtocolRequest;
import dev.protorad.api.v1.ProtocolServiceGrpc;
import dev.protorad.audit.CheckpointKeys;
import dev.protorad.audit.FileAuditStore;
import dev.protorad.audit.NoteHmac;
import dev.protorad.clinical.catalog.Catalog;
import dev.protorad.engine.model.PromptTemplate;
import dev.protorad.engine.peft.LoraAdapter;
import dev.protorad.engine.peft.LoraConfig;
import dev.protorad.engine.peft.TargetModules;
import dev.protorad.policy.ApiKeys;
import dev.protorad.policy.BreakGlass;
import dev.protorad.policy.PolicyEngine;
import dev.protorad.policy.PolicyHolder;
import dev.protorad.policy.PolicyLoader;
import dev.protorad.server.adapters.AdapterStore;
import dev.protorad.server.adapters.Lineage;
import dev.protorad.server.api.ProtocolServices;
import dev.protorad.server.api.ProtoradServer;
import dev.protorad.server.config.ServingConfig;
import dev.protorad.server.serving.PredictionQueue;
import dev.protorad.server.serving.PredictionStore;
import dev.protorad.server.serving.ServingModel;
import dev.protorad.server.serving.StoreAdapterResolver;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Metadata;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.MetadataUtils;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The real server over loopback (Netty, governance, audit, prediction store, batching scheduler)
 * under concurrent AssignProtocol calls: throughput and p50/p99 at concurrency 1, 8, 16 and 32,
 * with every request on one adapter, with requests spread over 4 adapters, and with batching
 * disabled. Uses {@code models/demo-base} when present, else a tiny random checkpoint (the answers
 * are then meaningless, the costs are not); {@code -Dprotorad.bench.model=DIR} names another
 * checkpoint (a very small one leaves the server's own costs in view on a CPU). {@code
 * -Dprotorad.bench.seconds} sets each run (default 5), {@code -Dprotorad.bench.max_batch} the
 * batched runs' {@code serving.max_batch} (default 8, the server's default; on a GPU a larger batch
 * pays), {@code -Dprotorad.bench.min_calls} the calls a run goes on to at least (default 100,
 * within a cap of 20 times its seconds). The adapters have the production shape (rank 16 on every
 * projection); failed calls are counted by status; each run prints where the time went: the mean
 * batch, the queue wait, the model's time per batch and the answer's (audit, insert, response) per
 * prediction.
 */
public final class LoadBench implements Benchmark {

  private static final String NOTE = "67M fall on apixaban, head strike, confused. r/o ICH.";
  private final long seconds = Long.getLong("protorad.bench.seconds", 5);
  private final int minCalls = Integer.getInteger("protorad.bench.min_calls", 100);
  private final int maxBatch =
      Integer.getInteger("protorad.bench.max_batch", ServingConfig.DEFAULT_MAX_BATCH);

  @Override
  public String name() {
    return "load";
  }

  @Override
  public String description() {
    return "loopback server: throughput and p50/p99 at concurrency 1/8/16/32; mixed vs single adapter"
        + " vs batching off";
  }

  /**
   * One run: calls/s and latency percentiles of the calls that succeeded, the calls that failed (by
   * status), and where the server spent the time (means over the run, from the queue).
   */
  private record Result(
      double perSecond,
      double p50Millis,
      double p99Millis,
      long calls,
      Map<String, Long> errors,
      double meanBatch,
      double queueWaitMillis,
      double modelMillisPerBatch,
      double answerMillis) {}

  @Override
  public void run(BenchReport report) throws Exception {
    Path work = Files.createTempDirectory("protorad-load");
    ServingModel model = ServingModel.load(BenchWeights.modelDir(work), Catalog.loadDefault(), 0.5);
    report.device(model.model().deviceName() + ", serving.max_batch " + maxBatch);
    AdapterStore store =
        AdapterStore.open(work.resolve("adapters"), model.config(), model.fingerprint());
    for (int i = 1; i <= 4; i++) {
      store.register(
          "a" + i,
          // The production shape: rank 16 on every linear projection.
          LoraAdapter.create(model.config(), LoraConfig.of(16, 32, TargetModules.allLinear()), i),
          Lineage.imported(PromptTemplate.forNewAdapter(), "bench"));
      // Promoted, as clinical traffic may only name versions an alias points at.
      store.setAlias("a" + i, "production", 1);
    }
    Map<Integer, Result[]> byConcurrency = new java.util.TreeMap<>();
    for (int concurrency : concurrencies()) {
      Result single = measure(work, model, store, concurrency, maxBatch, false);
      Result mixed = measure(work, model, store, concurrency, maxBatch, true);
      Result unbatched = measure(work, model, store, concurrency, 1, true);
      byConcurrency.put(concurrency, new Result[] {single, mixed, unbatched});
      row(report, "c=" + concurrency + " one adapter", single);
      row(report, "c=" + concurrency + " 4 adapters mixed", mixed);
      row(report, "c=" + concurrency + " 4 adapters, batching off", unbatched);
    }
    Result[] at32 = byConcurrency.get(32);
    if (at32 != null) {
      report.ratio(
          "c=32 mixed / one adapter throughput",
          at32[1].perSecond(),
          at32[0].perSecond(),
          ">= 0.8");
      report.ratio(
          "c=32 batched / unbatched throughput", at32[1].perSecond(), at32[2].perSecond(), ">= 3");
    }
    model.close();
  }

  /** {@code -Dprotorad.bench.concurrency=1,8,16,32} (the default): the points measured. */
  private static int[] concurrencies() {
    String chosen = System.getProperty("protorad.bench.concurrency", "1,8,16,32");
    return Arrays.stream(chosen.split(",", -1)).mapToInt(c -> Integer.parseInt(c.trim())).toArray();
  }

  private static void row(BenchReport report, String label, Result r) {
    report.row(label + ": calls/s", r.perSecond(), "(" + r.calls() + " calls)");
    report.row(label + ": p50", r.p50Millis(), "ms");
    report.row(label + ": p99", r.p99Millis(), "ms");
    long failed = r.errors().values().stream().mapToLong(Long::longValue).sum();
    report.row(label + ": failed calls", (double) failed, failed == 0 ? "" : r.errors().toString());
    report.row(label + ": mean batch", r.meanBatch(), "predictions");
    report.row(label + ": queue wait", r.queueWaitMillis(), "ms per prediction");
    report.row(label + ": model", r.modelMillisPerBatch(), "ms per batch");
    report.row(label + ": answer (audit, insert, response)", r.answerMillis(), "ms per prediction");
  }

  private Result measure(
      Path work, ServingModel model, AdapterStore store, int concurrency, int maxBatch, boolean mix)
      throws Exception {
    ApiKeys.ApiKey key = ApiKeys.generate(new SecureRandom());
    PolicyEngine policy =
        PolicyEngine.create(
            PolicyHolder.of(
                PolicyLoader.parse(
                    "version: 1\nprincipals:\n  - id: load\n    kind: service\n    roles: [clinician]\n"
                        + "    apiKeyHashes: ["
                        + key.hash()
                        + "]\n",
                    "load")),
            Clock.systemUTC());
    Path run = Files.createTempDirectory(work, "run");
    try (FileAuditStore audit =
            FileAuditStore.builder(run.resolve("audit"))
                .writerId("load")
                .checkpointKeys(CheckpointKeys.generateInMemory())
                .open();
        PredictionStore predictions =
            PredictionStore.open("jdbc:h2:file:" + run.resolve("predictions"), "sa", "");
        PredictionQueue queue =
            PredictionQueue.create(
                model.predictor(),
                new PredictionQueue.Settings(2, 1024, maxBatch, Duration.ofMillis(5)))) {
      var service =
          ProtocolServices.create(
              model.predictor(),
              StoreAdapterResolver.create(store, model.model(), "none", 1L << 30),
              queue,
              predictions,
              NoteHmac.ofBase64(Map.of("k1", NoteHmac.generateKey()), "k1"),
              policy,
              BreakGlass.create(policy, Clock.systemUTC(), new SecureRandom()),
              Clock.systemUTC());
      ProtoradServer server =
          ProtoradServer.builder(
                  NettyServerBuilder.forAddress(
                      new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)))
              .protocolService(service)
              .governance(policy, audit)
              .build()
              .start();
      ManagedChannel channel =
          ManagedChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext().build();
      try {
        Metadata h = new Metadata();
        h.put(
            Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER),
            "Bearer " + key.key());
        var stub =
            ProtocolServiceGrpc.newBlockingStub(channel)
                .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(h));
        drive(stub, concurrency, mix, 1, 0); // warm-up
        PredictionQueue.Timings before = queue.timings();
        Result r = drive(stub, concurrency, mix, seconds, minCalls);
        return withTimings(r, queue.timings().since(before));
      } finally {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        server.shutdown(Duration.ofSeconds(5));
      }
    }
  }

  /** {@code r} with the queue's means over the run. */
  private static Result withTimings(Result r, PredictionQueue.Timings run) {
    return new Result(
        r.perSecond(),
        r.p50Millis(),
        r.p99Millis(),
        r.calls(),
        r.errors(),
        run.meanBatch(),
        run.queueWaitMillis(),
        run.modelMillisPerBatch(),
        run.answerMillis());
  }

  /**
   * Calls from {@code concurrency} threads for {@code secs}, and on until at least {@code atLeast}
   * have succeeded (so the percentiles rest on enough calls); a failed call is counted by its
   * status and its thread goes on.
   */
  private static Result drive(
      ProtocolServiceGrpc.ProtocolServiceBlockingStub stub,
      int concurrency,
      boolean mix,
      long secs,
      int atLeast)
      throws InterruptedException {
    AtomicBoolean stop = new AtomicBoolean();
    ConcurrentLinkedQueue<Long> latencies = new ConcurrentLinkedQueue<>();
    Map<String, Long> errors = new java.util.concurrent.ConcurrentHashMap<>();
    List<Thread> threads = new ArrayList<>();
    for (int t = 0; t < concurrency; t++) {
      String adapter = "a" + (mix ? 1 + t % 4 : 1) + "@1";
      AssignProtocolRequest request =
          AssignProtocolRequest.newBuilder()
              .setOrderId("L-" + t)
              .setNote(NOTE)
              .setAdapter(adapter)
              .build();
      Thread thread =
          new Thread(
              () -> {
                while (!stop.get()) {
                  long start = System.nanoTime();
                  try {
                    stub.assignProtocol(request);
                    latencies.add(System.nanoTime() - start);
                  } catch (StatusRuntimeException e) {
                    errors.merge(e.getStatus().getCode().name(), 1L, Long::sum);
                  }
                }
              });
      thread.start();
      threads.add(thread);
    }
    long start = System.nanoTime();
    Thread.sleep(secs * 1000);
    long cap = System.nanoTime() + TimeUnit.SECONDS.toNanos(Math.max(60, 20 * secs));
    while (latencies.size() < atLeast && System.nanoTime() < cap) {
      Thread.sleep(50);
    }
    stop.set(true);
    for (Thread t : threads) {
      t.join();
    }
    double elapsed = (System.nanoTime() - start) / 1e9;
    long[] sorted = latencies.stream().mapToLong(Long::longValue).toArray();
    Arrays.sort(sorted);
    return new Result(
        sorted.length / elapsed,
        percentile(sorted, 0.50) / 1e6,
        percentile(sorted, 0.99) / 1e6,
        sorted.length,
        new java.util.TreeMap<>(errors),
        0,
        0,
        0,
        0);
  }

  private static double percentile(long[] sorted, double q) {
    if (sorted.length == 0) {
      return Double.NaN;
    }
    return sorted[Math.min(sorted.length - 1, (int) Math.floor(q * sorted.length))];
  }
}
