package dev.protorad.cli;

import dev.protorad.server.config.ConfigLoader;
import dev.protorad.server.config.ServerConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import picocli.CommandLine.Option;

/** The options shared by {@code serve} and {@code demo}; flags win over file and environment. */
final class ServerOptions {

  /** Where {@code demo} and {@code serve --demo} keep their policy, keys and stores. */
  static final Path DEMO_DATA_DIR = Path.of("data", "demo");

  /** The embedded demo base the demo serves when no model is named. */
  static final Path EMBEDDED_MODEL = Path.of("models", "demo-base");

  @Option(
      names = "--host",
      paramLabel = "HOST",
      description = "Address to listen on (default 127.0.0.1; env PROTORAD_HOST).")
  String host;

  @Option(
      names = "--port",
      paramLabel = "PORT",
      description = "TCP port, 0 for any free port (default 50051; env PROTORAD_PORT).")
  Integer port;

  @Option(
      names = "--data-dir",
      paramLabel = "DIR",
      description = "Data directory (default ./data; env PROTORAD_DATA_DIR).")
  Path dataDir;

  @Option(
      names = "--config",
      paramLabel = "FILE",
      description =
          "YAML configuration file (keys listed in the README; PROTORAD_* variables override).")
  Path configFile;

  @Option(
      names = "--model",
      paramLabel = "DIR",
      description =
          "Base model checkpoint directory (Hugging Face layout; env PROTORAD_MODEL_DIR).")
  Path modelDir;

  ServerConfig resolve(Map<String, String> environment) {
    ServerConfig config = ConfigLoader.withEnvironment(environment).load(configFile);
    if (host != null) {
      config = config.withHost(host);
    }
    if (port != null) {
      config = config.withPort(port);
    }
    if (dataDir != null) {
      config = config.withDataDir(dataDir);
    }
    if (modelDir != null) {
      config = config.withServing(config.serving().withModelDir(modelDir));
    }
    return config;
  }

  /**
   * The demo's defaults, for the tour and for {@code serve --demo}: data directory {@link
   * #DEMO_DATA_DIR}, and the embedded base when present and no model is named.
   */
  void applyDemoDefaults() {
    if (dataDir == null) {
      dataDir = DEMO_DATA_DIR;
    }
    if (modelDir == null && Files.exists(EMBEDDED_MODEL.resolve("config.json"))) {
      modelDir = EMBEDDED_MODEL;
    }
  }
}
