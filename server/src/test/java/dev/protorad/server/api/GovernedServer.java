package dev.protorad.server.api;

import dev.protorad.audit.CheckpointKeys;
import dev.protorad.audit.FileAuditStore;
import dev.protorad.audit.NoteHmac;
import dev.protorad.policy.BreakGlass;
import dev.protorad.policy.PolicyEngine;
import dev.protorad.policy.PolicyHolder;
import dev.protorad.server.serving.AdapterResolver;
import dev.protorad.server.serving.NoteVault;
import dev.protorad.server.serving.PredictionQueue;
import dev.protorad.server.serving.PredictionStore;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.AbstractStub;
import io.grpc.stub.MetadataUtils;
import java.io.IOException;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * The protocol service under full governance (real Shiro policy, real file audit store, H2
 * predictions, the tiny model) served in-process, with a channel to it: the wiring several tests
 * share. Closing it shuts the server down (which flushes aggregated denials) before the stores.
 */
final class GovernedServer implements AutoCloseable {

  final FileAuditStore audit;
  final ProtoradServer server;
  final ManagedChannel channel;
  final PredictionStore predictions;
  private final PredictionQueue queue;

  private GovernedServer(
      FileAuditStore audit,
      ProtoradServer server,
      ManagedChannel channel,
      PredictionQueue queue,
      PredictionStore predictions) {
    this.audit = audit;
    this.server = server;
    this.channel = channel;
    this.queue = queue;
    this.predictions = predictions;
  }

  /** Starts one over {@code policy}, its files under {@code dir}. */
  static GovernedServer start(Path dir, PolicyHolder policy) throws IOException {
    return start(dir, policy, RateLimiter.DEFAULT_PER_SECOND);
  }

  /** As {@link #start(Path, PolicyHolder)}, each principal limited to {@code callsPerSecond}. */
  static GovernedServer start(Path dir, PolicyHolder policy, double callsPerSecond)
      throws IOException {
    return start(
        dir, policy, callsPerSecond, NoteHmac.ofBase64(Map.of("k1", NoteHmac.generateKey()), "k1"));
  }

  /** As {@link #start(Path, PolicyHolder, double)}, digesting notes with {@code noteHmac}. */
  static GovernedServer start(
      Path dir, PolicyHolder policy, double callsPerSecond, NoteHmac noteHmac) throws IOException {
    return start(
        dir, policy, callsPerSecond, noteHmac, "jdbc:h2:file:" + dir.resolve("predictions"));
  }

  /** As above, storing predictions at {@code predictionsUrl} (replicas may share one). */
  static GovernedServer start(
      Path dir,
      PolicyHolder policy,
      double callsPerSecond,
      NoteHmac noteHmac,
      String predictionsUrl)
      throws IOException {
    return start(dir, policy, callsPerSecond, noteHmac, predictionsUrl, Optional.empty());
  }

  /** One that keeps each prediction's note, sealed by {@code notes}. */
  static GovernedServer keepingNotes(Path dir, PolicyHolder policy, NoteVault notes)
      throws IOException {
    return start(
        dir,
        policy,
        RateLimiter.DEFAULT_PER_SECOND,
        NoteHmac.ofBase64(Map.of("k1", NoteHmac.generateKey()), "k1"),
        "jdbc:h2:file:" + dir.resolve("predictions"),
        Optional.of(notes));
  }

  private static GovernedServer start(
      Path dir,
      PolicyHolder policy,
      double callsPerSecond,
      NoteHmac noteHmac,
      String predictionsUrl,
      Optional<NoteVault> notes)
      throws IOException {
    FileAuditStore audit =
        FileAuditStore.builder(dir.resolve("audit"))
            .writerId("test")
            .checkpointKeys(CheckpointKeys.generateInMemory())
            .open();
    PolicyEngine engine = PolicyEngine.create(policy, Clock.systemUTC());
    PredictionQueue queue =
        PredictionQueue.create(TinyModel.shared().predictor(), PredictionQueue.Settings.DEFAULTS);
    PredictionStore predictions = PredictionStore.open(predictionsUrl, "sa", "", notes);
    String name = InProcessServerBuilder.generateName();
    ProtoradServer server =
        ProtoradServer.builder(InProcessServerBuilder.forName(name))
            .protocolService(
                ProtocolServices.create(
                    TinyModel.shared().predictor(),
                    AdapterResolver.baseOnly(),
                    queue,
                    predictions,
                    noteHmac,
                    engine,
                    BreakGlass.create(engine, Clock.systemUTC(), new SecureRandom()),
                    Clock.systemUTC()))
            .rateLimitPerSecond(callsPerSecond)
            .governance(engine, audit)
            .build()
            .start();
    server.markServing();
    return new GovernedServer(
        audit, server, InProcessChannelBuilder.forName(name).build(), queue, predictions);
  }

  /** {@code stub} sending {@code key} as its bearer API key. */
  static <S extends AbstractStub<S>> S withKey(S stub, String key) {
    Metadata h = new Metadata();
    h.put(AuthInterceptor.AUTHORIZATION, "Bearer " + key);
    return stub.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(h));
  }

  /** Shuts the server down (flushing aggregated denials) but keeps the audit store open. */
  void stopServing() throws InterruptedException {
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    server.shutdown(Duration.ZERO);
    queue.close();
    predictions.close();
  }

  @Override
  public void close() throws InterruptedException {
    if (!channel.isShutdown()) {
      stopServing();
    }
    audit.close();
  }
}
