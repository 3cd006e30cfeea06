package dev.protorad.server.config;

import static java.util.Objects.requireNonNull;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/**
 * Settings of one server process. Built by {@link ConfigLoader} from defaults, an optional YAML
 * file, {@code PROTORAD_*} environment variables and command-line flags, in that order of
 * increasing precedence. Paths left unset resolve under {@link #dataDir()}.
 *
 * @param host address to listen on
 * @param port TCP port; 0 picks a free port
 * @param dataDir directory for adapters, audit segments, keys and databases
 * @param shutdownGrace how long in-flight calls may run after a shutdown signal
 * @param policyFile the access policy (YAML); empty means {@code <data_dir>/policy.yaml}
 * @param policyReload how often the policy file is checked for changes; zero disables polling
 *     (SIGHUP still reloads)
 * @param audit where and how audit events are kept
 * @param tls TLS and client-certificate settings
 * @param serving the model, inference threads and prediction database
 * @param prometheusPort TCP port of the Prometheus scrape endpoint; 0 turns it off
 * @param role what this replica does: serve predictions, train, or both
 * @param healthPort a second TCP port serving only {@code grpc.health.v1.Health}, in plaintext, for
 *     probes that cannot speak TLS; 0 turns it off
 * @param console the web console
 */
public record ServerConfig(
    String host,
    int port,
    Path dataDir,
    Duration shutdownGrace,
    Optional<Path> policyFile,
    Duration policyReload,
    AuditConfig audit,
    TlsConfig tls,
    ServingConfig serving,
    int prometheusPort,
    Role role,
    int healthPort,
    ConsoleConfig console) {

  /**
   * What a replica does ({@code server.role}). Replicas behind one Service run {@code serve}:
   * predictions and adapter reads, no training and no adapter writes; one deployment runs {@code
   * train}: training and adapter management, no clinical traffic; a single server runs {@code all}.
   */
  public enum Role {
    SERVE,
    TRAIN,
    ALL;

    /** Whether this replica answers {@code ProtocolService}. */
    public boolean servesPredictions() {
      return this != TRAIN;
    }

    /** Whether this replica trains and writes adapters. */
    public boolean trains() {
      return this != SERVE;
    }

    /** The configuration spelling: {@code serve}, {@code train} or {@code all}. */
    public String configName() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }

    /** The role spelled {@code name}, or a {@link ConfigException} naming the key. */
    public static Role parse(String name) {
      for (Role r : values()) {
        if (r.configName().equals(name)) {
          return r;
        }
      }
      throw new ConfigException("server.role", "'" + name + "' (expected: serve, train or all)");
    }
  }

  public static final String DEFAULT_HOST = "127.0.0.1";
  public static final int DEFAULT_PORT = 50051;
  public static final Path DEFAULT_DATA_DIR = Path.of("data");
  public static final Duration DEFAULT_SHUTDOWN_GRACE = Duration.ofSeconds(10);
  public static final Duration DEFAULT_POLICY_RELOAD = Duration.ofSeconds(5);

  public ServerConfig {
    requireNonNull(host, "host");
    requireNonNull(dataDir, "dataDir");
    requireNonNull(shutdownGrace, "shutdownGrace");
    requireNonNull(policyFile, "policyFile");
    requireNonNull(policyReload, "policyReload");
    requireNonNull(audit, "audit");
    requireNonNull(tls, "tls");
    requireNonNull(serving, "serving");
    requireNonNull(role, "role");
    if (host.isBlank()) {
      throw new ConfigException("host", "empty (expected: a host name or IP address)");
    }
    if (port < 0 || port > 65535) {
      throw new ConfigException("port", port + " (expected: 0..65535)");
    }
    if (shutdownGrace.isNegative() || shutdownGrace.compareTo(Duration.ofMinutes(10)) > 0) {
      throw new ConfigException(
          "shutdown_grace_seconds", shutdownGrace.toSeconds() + " (expected: 0..600)");
    }
    requireNonNull(console, "console");
    if (healthPort < 0 || healthPort > 65535) {
      throw new ConfigException("health_port", healthPort + " (expected: 0..65535, 0 = off)");
    }
    if (prometheusPort < 0 || prometheusPort > 65535) {
      throw new ConfigException(
          "telemetry.prometheus_port", prometheusPort + " (expected: 0..65535, 0 = off)");
    }
    if (policyReload.isNegative()) {
      throw new ConfigException(
          "policy.reload_seconds", policyReload.toSeconds() + " (expected: >= 0)");
    }
  }

  /** Settings without a Prometheus endpoint. */
  public ServerConfig(
      String host,
      int port,
      Path dataDir,
      Duration shutdownGrace,
      Optional<Path> policyFile,
      Duration policyReload,
      AuditConfig audit,
      TlsConfig tls,
      ServingConfig serving) {
    this(
        host,
        port,
        dataDir,
        shutdownGrace,
        policyFile,
        policyReload,
        audit,
        tls,
        serving,
        0,
        Role.ALL,
        0,
        ConsoleConfig.disabled());
  }

  /** The defaults: 127.0.0.1:50051, {@code ./data}, 10 s grace, file audit store, no TLS. */
  public static ServerConfig defaults() {
    return new ServerConfig(
        DEFAULT_HOST,
        DEFAULT_PORT,
        DEFAULT_DATA_DIR,
        DEFAULT_SHUTDOWN_GRACE,
        Optional.empty(),
        DEFAULT_POLICY_RELOAD,
        AuditConfig.defaults(),
        TlsConfig.disabled(),
        ServingConfig.defaults());
  }

  /** The policy file in force: the configured one, else {@code <data_dir>/policy.yaml}. */
  public Path resolvedPolicyFile() {
    return policyFile.orElse(dataDir.resolve("policy.yaml"));
  }

  public ServerConfig withHost(String newHost) {
    return new ServerConfig(
        newHost,
        port,
        dataDir,
        shutdownGrace,
        policyFile,
        policyReload,
        audit,
        tls,
        serving,
        prometheusPort,
        role,
        healthPort,
        console);
  }

  public ServerConfig withPort(int newPort) {
    return new ServerConfig(
        host,
        newPort,
        dataDir,
        shutdownGrace,
        policyFile,
        policyReload,
        audit,
        tls,
        serving,
        prometheusPort,
        role,
        healthPort,
        console);
  }

  public ServerConfig withDataDir(Path newDataDir) {
    return new ServerConfig(
        host,
        port,
        newDataDir,
        shutdownGrace,
        policyFile,
        policyReload,
        audit,
        tls,
        serving,
        prometheusPort,
        role,
        healthPort,
        console);
  }

  public ServerConfig withServing(ServingConfig newServing) {
    return new ServerConfig(
        host,
        port,
        dataDir,
        shutdownGrace,
        policyFile,
        policyReload,
        audit,
        tls,
        newServing,
        prometheusPort,
        role,
        healthPort,
        console);
  }

  public ServerConfig withTls(TlsConfig newTls) {
    return new ServerConfig(
        host,
        port,
        dataDir,
        shutdownGrace,
        policyFile,
        policyReload,
        audit,
        newTls,
        serving,
        prometheusPort,
        role,
        healthPort,
        console);
  }

  public ServerConfig withRole(Role newRole) {
    return new ServerConfig(
        host,
        port,
        dataDir,
        shutdownGrace,
        policyFile,
        policyReload,
        audit,
        tls,
        serving,
        prometheusPort,
        newRole,
        healthPort,
        console);
  }

  public ServerConfig withHealthPort(int newHealthPort) {
    return new ServerConfig(
        host,
        port,
        dataDir,
        shutdownGrace,
        policyFile,
        policyReload,
        audit,
        tls,
        serving,
        prometheusPort,
        role,
        newHealthPort,
        console);
  }

  public ServerConfig withConsole(ConsoleConfig newConsole) {
    return new ServerConfig(
        host,
        port,
        dataDir,
        shutdownGrace,
        policyFile,
        policyReload,
        audit,
        tls,
        serving,
        prometheusPort,
        role,
        healthPort,
        newConsole);
  }
}
