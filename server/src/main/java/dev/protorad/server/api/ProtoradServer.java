package dev.protorad.server.api;

import static java.util.Objects.requireNonNull;

import dev.protorad.api.v1.AdapterServiceGrpc;
import dev.protorad.api.v1.AuditServiceGrpc;
import dev.protorad.api.v1.ProtocolServiceGrpc;
import dev.protorad.api.v1.TrainingServiceGrpc;
import dev.protorad.audit.AuditStore;
import dev.protorad.policy.PolicyEngine;
import io.grpc.BindableService;
import io.grpc.Server;
import io.grpc.ServerBuilder;
import io.grpc.ServerServiceDefinition;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * The gRPC server process: the four {@code protorad.v1} services, {@code grpc.health.v1.Health} and
 * server reflection, assembled over a {@link ServerBuilder} passed in so that tests run the same
 * wiring in-process.
 *
 * <p>Health answers NOT_SERVING from start until {@link #markServing()} (the model is loaded) and
 * again from the moment {@link #shutdown(Duration)} begins. A service not supplied to the builder
 * is registered with its generated base class, which answers UNIMPLEMENTED.
 */
public final class ProtoradServer {

  /** The services health reports on, besides the overall status (""). */
  static final List<String> SERVICE_NAMES =
      List.of(
          ProtocolServiceGrpc.SERVICE_NAME,
          AdapterServiceGrpc.SERVICE_NAME,
          TrainingServiceGrpc.SERVICE_NAME,
          AuditServiceGrpc.SERVICE_NAME);

  private final Server server;
  private final HealthStatusManager health;
  private final @Nullable AuditInterceptor audit; // null without governance
  private dev.protorad.server.background.@Nullable PeriodicJob denialFlush;

  private ProtoradServer(
      Server server, HealthStatusManager health, @Nullable AuditInterceptor audit) {
    this.server = server;
    this.health = health;
    this.audit = audit;
  }

  /** Starts assembling a server over {@code serverBuilder}. */
  public static Builder builder(ServerBuilder<?> serverBuilder) {
    return new Builder(serverBuilder);
  }

  /** Starts listening; health stays NOT_SERVING until {@link #markServing()}. */
  public ProtoradServer start() throws IOException {
    server.start();
    if (audit != null) {
      denialFlush =
          dev.protorad.server.background.PeriodicJob.start(
              "protorad-anonymous-denials",
              AnonymousDenials.INTERVAL,
              audit::flushAnonymousDenials);
    }
    return this;
  }

  /** Reports SERVING on health for the server and every service. */
  public void markServing() {
    setStatus(ServingStatus.SERVING);
  }

  /**
   * Reports NOT_SERVING on health while the server cannot answer (its audit store refuses writes);
   * {@link #markServing()} reverses it.
   */
  public void markNotServing() {
    setStatus(ServingStatus.NOT_SERVING);
  }

  /** Records the anonymous denials counted so far (a timer does it every interval). */
  void flushAnonymousDenials() {
    if (audit != null) {
      audit.flushAnonymousDenials();
    }
  }

  /**
   * The health service this server reports through, to serve on a second, plaintext port as well
   * (probes that cannot speak TLS); it reports the same status.
   */
  public io.grpc.BindableService healthService() {
    return health.getHealthService();
  }

  /** The port the server listens on (useful with port 0); -1 for in-process servers. */
  public int port() {
    return server.getPort();
  }

  /**
   * Stops accepting calls, lets calls in flight finish within {@code grace}, then cancels what is
   * left. Returns true when every call finished within the grace period.
   */
  public boolean shutdown(Duration grace) throws InterruptedException {
    requireNonNull(grace, "grace");
    health.enterTerminalState();
    server.shutdown();
    if (denialFlush != null) {
      denialFlush.close();
    }
    boolean clean = server.awaitTermination(grace.toMillis(), TimeUnit.MILLISECONDS);
    if (!clean) {
      server.shutdownNow();
      server.awaitTermination(5, TimeUnit.SECONDS);
    }
    if (audit != null) {
      audit.flushAnonymousDenials();
    }
    return clean;
  }

  /** Blocks until the server has terminated. */
  public void awaitTermination() throws InterruptedException {
    server.awaitTermination();
  }

  private void setStatus(ServingStatus status) {
    health.setStatus(HealthStatusManager.SERVICE_NAME_ALL_SERVICES, status);
    for (String name : SERVICE_NAMES) {
      health.setStatus(name, status);
    }
  }

  /** Assembles a {@link ProtoradServer}; every service left unset answers UNIMPLEMENTED. */
  public static final class Builder {
    private final ServerBuilder<?> serverBuilder;
    private BindableService protocolService = new ProtocolServiceGrpc.ProtocolServiceImplBase() {};
    private BindableService adapterService = new AdapterServiceGrpc.AdapterServiceImplBase() {};
    private BindableService trainingService = new TrainingServiceGrpc.TrainingServiceImplBase() {};
    private BindableService auditService = new AuditServiceGrpc.AuditServiceImplBase() {};
    private final List<io.grpc.ServerInterceptor> interceptors = new ArrayList<>();
    private io.grpc.@Nullable ServerInterceptor telemetry;
    private Runnable onAuditUnavailable = () -> {};
    private @Nullable AuditInterceptor auditInterceptor;
    private double rateLimitPerSecond = RateLimiter.DEFAULT_PER_SECOND;

    private Builder(ServerBuilder<?> serverBuilder) {
      this.serverBuilder = requireNonNull(serverBuilder, "serverBuilder");
    }

    public Builder protocolService(BindableService service) {
      this.protocolService = requireNonNull(service, "service");
      return this;
    }

    public Builder adapterService(BindableService service) {
      this.adapterService = requireNonNull(service, "service");
      return this;
    }

    public Builder trainingService(BindableService service) {
      this.trainingService = requireNonNull(service, "service");
      return this;
    }

    public Builder auditService(BindableService service) {
      this.auditService = requireNonNull(service, "service");
      return this;
    }

    /**
     * Adds an interceptor around the {@code protorad.v1} services. gRPC runs server interceptors in
     * reverse order of registration: the last one added runs first (outermost).
     */
    public Builder intercept(io.grpc.ServerInterceptor interceptor) {
      interceptors.add(requireNonNull(interceptor, "interceptor"));
      return this;
    }

    /**
     * Calls a second each principal may start (bursts of twice that); past it a call is
     * RESOURCE_EXHAUSTED. Default {@value RateLimiter#DEFAULT_PER_SECOND}. Set before {@link
     * #governance}.
     */
    public Builder rateLimitPerSecond(double perSecond) {
      if (!(perSecond > 0)) {
        throw new IllegalArgumentException("perSecond: " + perSecond + " (expected: > 0)");
      }
      this.rateLimitPerSecond = perSecond;
      return this;
    }

    /**
     * What to do when the audit store cannot make a call's event durable (the call itself fails
     * closed either way); the server process reports NOT_SERVING until the store recovers.
     */
    public Builder onAuditUnavailable(Runnable action) {
      this.onAuditUnavailable = requireNonNull(action, "action");
      return this;
    }

    /**
     * Puts every {@code protorad.v1} call under governance: authentication and authorization by
     * {@code policy}, one audit event per call in {@code audit} (outermost, so denials are
     * recorded), and the {@code AuditService} over the same store.
     */
    public Builder governance(PolicyEngine policy, AuditStore audit) {
      intercept(
          new AuthInterceptor(policy, RateLimiter.perSecond(rateLimitPerSecond, System::nanoTime)));
      auditInterceptor = new AuditInterceptor(audit, () -> onAuditUnavailable.run());
      intercept(auditInterceptor);
      return auditService(new AuditGrpcService(audit, policy));
    }

    /**
     * Records a span and an {@code rpc.server.call.duration} measurement per {@code protorad.v1}
     * call in {@code openTelemetry}, whenever this is called relative to the other interceptors.
     *
     * <p>It runs outermost, outside audit: the RPC span is then current when the audit interceptor
     * starts the call (the audit event carries its trace id, the {@code audit.append} span is its
     * child), denials and audit failures are measured with their final status, and the duration
     * includes the durable audit append the caller waits for. Health and reflection are left out:
     * probes every few seconds would drown the calls that matter.
     */
    public Builder telemetry(io.opentelemetry.api.OpenTelemetry openTelemetry) {
      this.telemetry =
          dev.protorad.server.telemetry.RpcTelemetryInterceptor.create(
              requireNonNull(openTelemetry, "openTelemetry"));
      return this;
    }

    /** Builds the server; health starts NOT_SERVING. */
    public ProtoradServer build() {
      HealthStatusManager health = new HealthStatusManager();
      ProtoradServer result = new ProtoradServer(buildServer(health), health, auditInterceptor);
      result.setStatus(ServingStatus.NOT_SERVING);
      return result;
    }

    /** The gRPC server with the four services (intercepted), health and reflection. */
    private Server buildServer(HealthStatusManager health) {
      for (BindableService service :
          List.of(protocolService, adapterService, trainingService, auditService)) {
        serverBuilder.addService(intercepted(service.bindService()));
      }
      serverBuilder.addService(health.getHealthService());
      serverBuilder.addService(ProtoReflectionServiceV1.newInstance());
      return serverBuilder.build();
    }

    private ServerServiceDefinition intercepted(ServerServiceDefinition definition) {
      // Innermost: requests are parsed inside the call, so a malformed one is INVALID_ARGUMENT
      // and audited, not UNKNOWN.
      List<io.grpc.ServerInterceptor> all = new ArrayList<>();
      all.add(RequestParsing.parser(definition));
      all.addAll(interceptors);
      if (telemetry != null) {
        all.add(telemetry);
      }
      return io.grpc.ServerInterceptors.intercept(RequestParsing.raw(definition), all);
    }
  }
}
