package dev.protorad.server.app;

import static java.util.Objects.requireNonNull;

import dev.protorad.api.v1.AdapterServiceGrpc;
import dev.protorad.api.v1.ProtocolServiceGrpc;
import dev.protorad.api.v1.TrainingServiceGrpc;
import dev.protorad.clinical.catalog.Catalog;
import dev.protorad.engine.model.PromptTemplate;
import dev.protorad.policy.BreakGlass;
import dev.protorad.policy.PolicyHolder;
import dev.protorad.server.adapters.AdapterStore;
import dev.protorad.server.api.AdminServices;
import dev.protorad.server.api.ProtocolServices;
import dev.protorad.server.api.ProtoradServer;
import dev.protorad.server.api.ServiceSlot;
import dev.protorad.server.config.ConfigException;
import dev.protorad.server.config.DataDirectory;
import dev.protorad.server.config.ServerConfig;
import dev.protorad.server.config.ServingConfig;
import dev.protorad.server.config.TlsConfig;
import dev.protorad.server.governance.AuditRetention;
import dev.protorad.server.governance.AuditSealing;
import dev.protorad.server.governance.Governance;
import dev.protorad.server.jobs.FineTuneJobs;
import dev.protorad.server.serving.NoteKeyFile;
import dev.protorad.server.serving.NoteRetention;
import dev.protorad.server.serving.NoteVault;
import dev.protorad.server.serving.PredictionQueue;
import dev.protorad.server.serving.PredictionStore;
import dev.protorad.server.serving.ServingModel;
import dev.protorad.server.serving.StoreAdapterResolver;
import dev.protorad.server.telemetry.ServingMetrics;
import dev.protorad.server.telemetry.Telemetry;
import dev.protorad.server.telemetry.TracedAuditStore;
import dev.protorad.training.Evaluator;
import dev.protorad.training.FineTuner;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.handler.ssl.ClientAuth;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContext;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContextBuilder;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs a {@link ProtoradServer} on TCP until SIGTERM or SIGINT, then drains: stops accepting, lets
 * calls in flight finish within the configured grace, closes the audit store (sealing its chain
 * with a checkpoint) and returns so the process exits 0. SIGHUP reloads the policy. Audit events
 * past {@code audit.retention_days} are purged at start and daily, in the background.
 */
public final class ServerProcess {

  private static final Logger log = LoggerFactory.getLogger(ServerProcess.class);

  private final ServerConfig config;
  private final PrintStream out;
  private final CountDownLatch stopRequested = new CountDownLatch(1);
  private @Nullable Governance governance;
  private @Nullable ProtoradServer server;
  private io.grpc.@Nullable Server healthServer;
  private @Nullable ServingModel model;
  private @Nullable PredictionQueue queue;
  private @Nullable PredictionStore predictions;
  private @Nullable FineTuneJobs jobs;
  private @Nullable NoteRetention noteRetention;
  private @Nullable AuditRetention auditRetention;
  private @Nullable AuditSealing auditSealing;
  private volatile boolean ready;
  private volatile boolean stopping;
  private @Nullable Telemetry telemetry;

  /** The adapter a request without one uses, through its {@code production} alias. */
  public static final String DEFAULT_ADAPTER = "protocol";

  public ServerProcess(ServerConfig config, PrintStream out) {
    this.config = config;
    this.out = out;
  }

  /** Opens governance, starts listening and reports SERVING. */
  public ProtoradServer start() throws IOException {
    // Handlers first: a signal that arrives while the model loads must still drain, not kill.
    for (String name : new String[] {"TERM", "INT"}) {
      PosixSignals.handle(name, stopRequested::countDown);
    }
    PosixSignals.handle("HUP", this::reloadPolicy);
    DataDirectory.create(config.dataDir());
    Governance governance = Governance.open(config, Clock.systemUTC());
    this.governance = governance;
    AuditSealing auditSealing;
    ProtoradServer server;
    try {
      Telemetry telemetry = Telemetry.fromEnvironment(config.prometheusPort());
      this.telemetry = telemetry;
      NettyServerBuilder netty =
          NettyServerBuilder.forAddress(new InetSocketAddress(config.host(), config.port()));
      if (config.tls().enabled()) {
        netty.sslContext(sslContext(config.tls()));
      }
      Slots slots = new Slots();
      auditSealing = AuditSealing.of(governance.audit(), this::auditRecovered);
      this.auditSealing = auditSealing;
      server =
          ProtoradServer.builder(netty)
              .protocolService(slots.protocol)
              .trainingService(slots.training)
              .adapterService(slots.adapters)
              .rateLimitPerSecond(config.serving().rateLimitPerSecond())
              .governance(
                  governance.policy(),
                  TracedAuditStore.wrap(governance.audit(), telemetry.openTelemetry()))
              .telemetry(telemetry.openTelemetry())
              .onAuditUnavailable(this::auditUnavailable)
              .build()
              .start();
      this.server = server;
      out.printf(
          "protorad: listening on %s:%d (%s, data dir %s)%n",
          config.host(),
          server.port(),
          config.tls().enabled() ? "TLS, client auth " + config.tls().clientAuth() : "plaintext",
          config.dataDir());
      if (config.healthPort() > 0) {
        io.grpc.Server health =
            NettyServerBuilder.forAddress(new InetSocketAddress(config.host(), config.healthPort()))
                .addService(server.healthService())
                .build()
                .start();
        healthServer = health;
        out.printf(
            "protorad: health only on %s:%d (plaintext, for probes)%n",
            config.host(), health.getPort());
      }
      out.flush();
      auditRetention = AuditRetention.of(governance.audit()).start(AuditRetention.DEFAULT_INTERVAL);
      auditSealing.start(AuditSealing.DEFAULT_INTERVAL);
      loadModel(slots, governance, telemetry);
    } catch (IOException | RuntimeException e) {
      closeQuietly();
      throw e;
    }
    // One walk, once everything is open: older files and those made at this start become
    // owner-only (the directory itself already is).
    DataDirectory.secure(config.dataDir());
    ready = true;
    if (!auditSealing.failed()) {
      server.markServing();
    }
    out.println("protorad: ready (health SERVING)");
    out.flush();
    return server;
  }

  /** The audit store refused a write: NOT_SERVING until it takes writes again. */
  private void auditUnavailable() {
    AuditSealing sealing = auditSealing;
    if (sealing != null) {
      sealing.storeFailed();
    }
    ProtoradServer current = server;
    if (current != null) {
      current.markNotServing();
    }
  }

  /** The audit store takes writes again (recorded as an event of its own): SERVING once ready. */
  private void auditRecovered() {
    ProtoradServer current = server;
    if (ready && current != null && !stopping) {
      current.markServing();
    }
  }

  /** The services that need the model, registered before it loads. */
  private static final class Slots {
    final ServiceSlot protocol = ServiceSlot.of(ProtocolServiceGrpc.getServiceDescriptor());
    final ServiceSlot training = ServiceSlot.of(TrainingServiceGrpc.getServiceDescriptor());
    final ServiceSlot adapters = ServiceSlot.of(AdapterServiceGrpc.getServiceDescriptor());

    void refuseAll(Status status) {
      protocol.refuse(status);
      training.refuse(status);
      adapters.refuse(status);
    }
  }

  private void loadModel(Slots slots, Governance governance, Telemetry telemetry)
      throws IOException {
    ServingConfig serving = config.serving();
    if (serving.modelDir().isEmpty()) {
      slots.refuseAll(
          Status.FAILED_PRECONDITION.withDescription("no model loaded (set model.dir)"));
      out.println("protorad: no model configured (model.dir); model services refuse calls");
      return;
    }
    Path dir = serving.modelDir().get();
    out.printf("protorad: loading model %s (NF4-quantizing; health NOT_SERVING until done)%n", dir);
    out.flush();
    ServingModel model = ServingModel.load(dir, Catalog.loadDefault(), serving.reviewThreshold());
    this.model = model;
    Catalog catalog = model.predictor().catalog();
    AdapterStore adapterStore = openAdapters(model, dir.resolve("adapters"));
    ServerConfig.Role role = config.role();
    slots.adapters.install(AdminServices.adapters(adapterStore, role.trains()));
    StoreAdapterResolver resolver =
        StoreAdapterResolver.create(
            adapterStore, model.model(), DEFAULT_ADAPTER, StoreAdapterResolver.DEFAULT_CACHE_BYTES);
    ServingMetrics.observeModel(telemetry.openTelemetry(), model.model()::liveArrays);
    ServingMetrics.observeAdapterCache(
        telemetry.openTelemetry(), resolver::cacheStats, resolver::loadedCount);
    if (role.trains()) {
      startTraining(slots, catalog, telemetry, model, adapterStore);
    } else {
      slots.training.refuse(
          Status.FAILED_PRECONDITION.withDescription(
              "this replica serves predictions (server.role: serve); train on the train replica"));
    }
    if (role.servesPredictions()) {
      startServing(slots, governance, telemetry, model, resolver);
    } else {
      slots.protocol.refuse(
          Status.FAILED_PRECONDITION.withDescription(
              "this replica trains (server.role: train); predictions are served by the others"));
    }
    out.printf(
        "protorad: model loaded (%s, fingerprint %s, role %s)%n",
        dir,
        model.fingerprint().substring(0, Math.min(12, model.fingerprint().length())),
        role.configName());
  }

  private void startTraining(
      Slots slots,
      Catalog catalog,
      Telemetry telemetry,
      ServingModel model,
      AdapterStore adapterStore) {
    jobs =
        FineTuneJobs.create(
            FineTuner.create(
                model::loadCheckpoint,
                model.tokenizer(),
                catalog,
                PromptTemplate.forNewAdapter(),
                Evaluator.of(
                    model.model(), model.tokenizer(), catalog, PromptTemplate.forNewAdapter())),
            adapterStore,
            catalog,
            Clock.systemUTC(),
            config.dataDir().resolve("training-checkpoints"));
    slots.training.install(AdminServices.training(jobs, config.dataDir().resolve("datasets")));
    ServingMetrics.observeTraining(telemetry.openTelemetry(), jobs);
  }

  private void startServing(
      Slots slots,
      Governance governance,
      Telemetry telemetry,
      ServingModel model,
      StoreAdapterResolver resolver)
      throws IOException {
    ServingConfig serving = config.serving();
    queue =
        PredictionQueue.create(
            model.predictor().traced(telemetry.openTelemetry()),
            new PredictionQueue.Settings(
                serving.workers(),
                serving.queueCapacity(),
                serving.maxBatch(),
                Duration.ofMillis(serving.maxWaitMillis())));
    PredictionStore predictions = predictions();
    startNoteRetention(serving, predictions);
    ServingMetrics.observeQueue(telemetry.openTelemetry(), queue);
    slots.protocol.install(
        ProtocolServices.create(
            model.predictor().traced(telemetry.openTelemetry()),
            resolver,
            queue,
            predictions,
            governance.noteHmac(),
            governance.policy(),
            BreakGlass.create(
                governance.policy(),
                Clock.systemUTC(),
                new SecureRandom(),
                predictions.breakGlassGrants()),
            Clock.systemUTC()));
  }

  /** The vault sealing retained notes; its key file is created on first start. */
  private Optional<NoteVault> noteVault(ServingConfig serving) throws IOException {
    if (!serving.retainNotes()) {
      out.println("protorad: predictions.retain_notes is false; no note text is kept");
      return Optional.empty();
    }
    Path keyFile = serving.resolvedNoteKeyFile(config.dataDir());
    try {
      return Optional.of(NoteKeyFile.loadOrCreate(keyFile, new SecureRandom()));
    } catch (IllegalArgumentException e) {
      throw new ConfigException("predictions.note_key_file", String.valueOf(e.getMessage()));
    }
  }

  /**
   * Deletes expired notes now and hourly, off the request path; also when notes are no longer
   * retained, since earlier ones may still be in the database.
   */
  private void startNoteRetention(ServingConfig serving, PredictionStore predictions) {
    if (serving.noteRetention().isEmpty()) {
      out.println(
          "protorad: predictions.note_retention_days is 0; retained notes are never deleted");
      return;
    }
    noteRetention =
        NoteRetention.of(predictions, serving.noteRetention().get(), Clock.systemUTC())
            .start(NoteRetention.DEFAULT_INTERVAL);
  }

  /** The prediction store, opened (and its schema migrated, if this process manages it) once. */
  private PredictionStore predictions() throws IOException {
    if (predictions == null) {
      ServingConfig serving = config.serving();
      String url = serving.resolvedPredictionsJdbcUrl(config.dataDir());
      String user = serving.predictionsJdbcUser();
      String password = System.getenv().getOrDefault(serving.predictionsJdbcPasswordEnv(), "");
      Optional<Path> embedded = serving.embeddedPredictionsFile(config.dataDir());
      if (embedded.isPresent() && Files.exists(embedded.get())) {
        compactEmbedded(embedded.get(), url, user, password);
      }
      predictions =
          PredictionStore.open(
              url, user, password, noteVault(serving), serving.predictionsManageSchema());
    }
    return predictions;
  }

  /**
   * Compacts the embedded prediction database before it is opened: it appends every commit, so it
   * grows between starts (a crash included) and gets its size back here.
   */
  private void compactEmbedded(Path file, String url, String user, String password)
      throws IOException {
    long before = Files.size(file);
    long start = System.nanoTime();
    PredictionStore.compact(url, user, password);
    out.printf(
        Locale.ROOT,
        "protorad: prediction database compacted: %.1f MB -> %.1f MB in %.1f s%n",
        before / 1e6,
        Files.size(file) / 1e6,
        (System.nanoTime() - start) / 1e9);
  }

  /**
   * The adapter store in {@code <data_dir>/adapters}, its records where {@code adapters.registry}
   * says. A base may ship adapters (the embedded demo base does, in the store's file layout): an
   * empty store first registers them under their own numbers, the newest as {@code production}, so
   * that the default adapter answers from the start.
   */
  private AdapterStore openAdapters(ServingModel model, Path bundled) throws IOException {
    Path root = config.dataDir().resolve("adapters");
    AdapterStore store =
        switch (config.serving().adapterRegistry()) {
          case FILES -> AdapterStore.open(root, model.config(), model.fingerprint());
          case DATABASE ->
              AdapterStore.openShared(
                  root,
                  model.config(),
                  model.fingerprint(),
                  predictions().database(),
                  Clock.systemUTC());
        };
    if (Files.isDirectory(bundled) && store.list(Optional.empty(), true).isEmpty()) {
      int added = store.seed(bundled);
      out.println("protorad: " + added + " adapter versions shipped with the model registered");
      promoteNewest(store);
    }
    return store;
  }

  private void promoteNewest(AdapterStore store) throws IOException {
    var versions = store.list(Optional.of(DEFAULT_ADAPTER), false);
    if (!versions.isEmpty()) {
      var newest = versions.get(versions.size() - 1);
      store.setAlias(DEFAULT_ADAPTER, "production", newest.metadata().version());
      out.println("protorad: " + DEFAULT_ADAPTER + "@production -> " + newest.ref());
    }
  }

  private void closeQuietly() {
    if (healthServer != null) {
      healthServer.shutdownNow();
    }
    if (jobs != null) {
      try {
        jobs.close();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    if (noteRetention != null) {
      noteRetention.close();
    }
    if (auditSealing != null) {
      auditSealing.close();
    }
    if (auditRetention != null) {
      auditRetention.close();
    }
    if (queue != null) {
      queue.close();
    }
    if (predictions != null) {
      predictions.close();
    }
    if (model != null) {
      model.close();
    }
    if (governance != null) {
      governance.close();
    }
    if (telemetry != null) {
      telemetry.close();
    }
  }

  /** The governance components, once started. */
  public Governance governance() {
    return requireNonNull(governance, "governance: not started");
  }

  /** Blocks until a stop signal, then drains and returns. */
  public void serveUntilSignalled() throws InterruptedException {
    stopRequested.await();
    stop();
  }

  /** Drains within the configured grace period and closes the stores. */
  public void stop() throws InterruptedException {
    stopping = true;
    Duration grace = config.shutdownGrace();
    out.printf("protorad: shutting down (grace %ds)%n", grace.toSeconds());
    out.flush();
    ProtoradServer current = server;
    boolean clean = current == null || current.shutdown(grace);
    if (!clean) {
      log.warn("calls still running after {}s were cancelled", grace.toSeconds());
    }
    closeQuietly();
    out.println("protorad: stopped");
    out.flush();
  }

  private void reloadPolicy() {
    Governance current = governance;
    if (current == null) {
      return;
    }
    PolicyHolder.ReloadResult result = current.policyHolder().reload();
    log.info("policy reload on SIGHUP: {}", result.outcome());
  }

  private static SslContext sslContext(TlsConfig tls) throws IOException {
    SslContextBuilder builder =
        SslContextBuilder.forServer(
            tls.certFile().orElseThrow().toFile(), tls.keyFile().orElseThrow().toFile());
    if (tls.clientCaFile().isPresent()) {
      builder.trustManager(tls.clientCaFile().get().toFile());
    }
    builder.clientAuth(
        switch (tls.clientAuth()) {
          case "require" -> ClientAuth.REQUIRE;
          case "optional" -> ClientAuth.OPTIONAL;
          default -> ClientAuth.NONE;
        });
    try {
      return GrpcSslContexts.configure(builder).build();
    } catch (IllegalArgumentException e) {
      throw new ConfigException("tls.cert_file", "cannot be used (" + e.getMessage() + ")");
    }
  }
}
