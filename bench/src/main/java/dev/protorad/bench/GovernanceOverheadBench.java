package dev.protorad.bench;

import dev.protorad.api.v1.AssignProtocolRequest;
import dev.protorad.api.v1.AssignProtocolResponse;
import dev.protorad.api.v1.ProtocolServiceGrpc;
import dev.protorad.audit.CheckpointKeys;
import dev.protorad.audit.FileAuditStore;
import dev.protorad.policy.ApiKeys;
import dev.protorad.policy.PolicyEngine;
import dev.protorad.policy.PolicyHolder;
import dev.protorad.policy.PolicyLoader;
import dev.protorad.server.api.ProtoradServer;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;

/**
 * Cost of governance per call: the same trivial RPC served plain (no credentials) and behind
 * authentication, authorization and the audit interceptor, measured in one run. The audit segments
 * go to {@code /dev/shm} when it exists, so the figure is the interceptors' CPU cost rather than
 * the disk's flush latency (which {@code audit-append} measures). {@code -Dprotorad.bench.seconds}
 * and {@code -Dprotorad.bench.threads} set the run (defaults 5 s, 8 threads).
 */
public final class GovernanceOverheadBench implements Benchmark {

  private final long seconds = Long.getLong("protorad.bench.seconds", 5);
  private final int threads = Integer.getInteger("protorad.bench.threads", 8);

  @Override
  public String name() {
    return "governance-overhead";
  }

  @Override
  public String description() {
    return "calls/s of one RPC: authenticated + authorized + audited vs unauthenticated";
  }

  @Override
  public void run(BenchReport report) throws Exception {
    ApiKeys.ApiKey key = ApiKeys.generate(new SecureRandom());
    Path shm = Path.of("/dev/shm");
    Path dir =
        Files.isDirectory(shm)
            ? Files.createTempDirectory(shm, "protorad-bench")
            : Files.createTempDirectory("protorad-bench");
    double plain = measure(plainServer(), null);
    double governed;
    try (FileAuditStore audit =
        FileAuditStore.builder(dir)
            .writerId("bench")
            .checkpointKeys(CheckpointKeys.generateInMemory())
            .open()) {
      governed = measure(governedServer(key, audit), key.key());
    }
    report.row("unauthenticated, " + threads + " threads", plain, "calls/s");
    report.row("governed (API key, Shiro, audit), " + threads + " threads", governed, "calls/s");
    report.row(
        "added machine time per call (1/governed - 1/plain)",
        (1 / governed - 1 / plain) * 1e6,
        "us");
    report.ratio("governed / unauthenticated throughput", governed, plain, "");
  }

  private ServerAndName plainServer() throws Exception {
    String name = InProcessServerBuilder.generateName();
    ProtoradServer server =
        ProtoradServer.builder(InProcessServerBuilder.forName(name))
            .protocolService(new Echo())
            .build()
            .start();
    return new ServerAndName(server, name);
  }

  private ServerAndName governedServer(ApiKeys.ApiKey key, FileAuditStore audit) throws Exception {
    String yaml =
        "version: 1\nprincipals:\n  - id: bench\n    kind: service\n    roles: [clinician]\n"
            + "    apiKeyHashes: ["
            + key.hash()
            + "]\n";
    PolicyEngine policy =
        PolicyEngine.create(PolicyHolder.of(PolicyLoader.parse(yaml, "bench")), Clock.systemUTC());
    String name = InProcessServerBuilder.generateName();
    ProtoradServer server =
        ProtoradServer.builder(InProcessServerBuilder.forName(name))
            .protocolService(new Echo())
            .governance(policy, audit)
            .build()
            .start();
    return new ServerAndName(server, name);
  }

  private record ServerAndName(ProtoradServer server, String name) {}

  private double measure(ServerAndName target, String apiKey) throws Exception {
    ManagedChannel channel = InProcessChannelBuilder.forName(target.name()).build();
    ProtocolServiceGrpc.ProtocolServiceBlockingStub stub =
        ProtocolServiceGrpc.newBlockingStub(channel);
    if (apiKey != null) {
      Metadata h = new Metadata();
      h.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + apiKey);
      stub = stub.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(h));
    }
    AssignProtocolRequest request =
        AssignProtocolRequest.newBuilder().setOrderId("B-1").setNote("bench").build();
    try {
      run(stub, request, 1); // warm-up
      return run(stub, request, seconds);
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      target.server().shutdown(Duration.ZERO);
    }
  }

  private double run(
      ProtocolServiceGrpc.ProtocolServiceBlockingStub stub,
      AssignProtocolRequest request,
      long durationSeconds)
      throws InterruptedException {
    AtomicBoolean stop = new AtomicBoolean();
    LongAdder calls = new LongAdder();
    List<Thread> workers = new ArrayList<>();
    for (int i = 0; i < threads; i++) {
      Thread t =
          new Thread(
              () -> {
                while (!stop.get()) {
                  stub.assignProtocol(request);
                  calls.increment();
                }
              });
      t.start();
      workers.add(t);
    }
    long start = System.nanoTime();
    Thread.sleep(durationSeconds * 1000);
    stop.set(true);
    for (Thread t : workers) {
      t.join();
    }
    return calls.sum() / ((System.nanoTime() - start) / 1e9);
  }

  /** The trivial RPC: answers at once, so only the call path is measured. */
  private static final class Echo extends ProtocolServiceGrpc.ProtocolServiceImplBase {
    @Override
    public void assignProtocol(
        AssignProtocolRequest request, StreamObserver<AssignProtocolResponse> response) {
      response.onNext(AssignProtocolResponse.newBuilder().setPredictionId("p").build());
      response.onCompleted();
    }
  }
}
