package dev.protorad.server.config;

import static java.util.Objects.requireNonNull;

import java.nio.file.Path;
import java.time.Duration;

/**
 * Settings of one server process. Built by {@link ConfigLoader} from defaults, an optional YAML
 * file, {@code PROTORAD_*} environment variables and command-line flags, in that order of
 * increasing precedence.
 *
 * @param host address to listen on
 * @param port TCP port; 0 picks a free port
 * @param dataDir directory for adapters, audit segments and the prediction database
 * @param shutdownGrace how long in-flight calls may run after a shutdown signal
 */
public record ServerConfig(String host, int port, Path dataDir, Duration shutdownGrace) {

  public static final String DEFAULT_HOST = "127.0.0.1";
  public static final int DEFAULT_PORT = 50051;
  public static final Path DEFAULT_DATA_DIR = Path.of("data");
  public static final Duration DEFAULT_SHUTDOWN_GRACE = Duration.ofSeconds(10);

  public ServerConfig {
    requireNonNull(host, "host");
    requireNonNull(dataDir, "dataDir");
    requireNonNull(shutdownGrace, "shutdownGrace");
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
  }

  /** The defaults: 127.0.0.1:50051, {@code ./data}, 10 s grace. */
  public static ServerConfig defaults() {
    return new ServerConfig(DEFAULT_HOST, DEFAULT_PORT, DEFAULT_DATA_DIR, DEFAULT_SHUTDOWN_GRACE);
  }

  public ServerConfig withHost(String newHost) {
    return new ServerConfig(newHost, port, dataDir, shutdownGrace);
  }

  public ServerConfig withPort(int newPort) {
    return new ServerConfig(host, newPort, dataDir, shutdownGrace);
  }

  public ServerConfig withDataDir(Path newDataDir) {
    return new ServerConfig(host, port, newDataDir, shutdownGrace);
  }

  public ServerConfig withShutdownGrace(Duration newGrace) {
    return new ServerConfig(host, port, dataDir, newGrace);
  }
}
