package dev.protorad.server.config;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.YAMLException;

/**
 * Reads {@link ServerConfig}: defaults, then a YAML file, then environment variables.
 *
 * <p>YAML keys and the environment variables that override them:
 *
 * <pre>
 * host: 127.0.0.1                # PROTORAD_HOST
 * port: 50051                    # PROTORAD_PORT
 * data_dir: data                 # PROTORAD_DATA_DIR
 * shutdown_grace_seconds: 10     # PROTORAD_SHUTDOWN_GRACE_SECONDS
 * </pre>
 *
 * Unknown keys are errors, so a misspelt key never silently falls back to a default.
 */
public final class ConfigLoader {

  /** YAML keys in the order they are documented. */
  public static final List<String> KEYS =
      List.of("host", "port", "data_dir", "shutdown_grace_seconds");

  private final Map<String, String> environment;

  private ConfigLoader(Map<String, String> environment) {
    this.environment = requireNonNull(environment, "environment");
  }

  /** A loader that reads the given environment (tests pass a map; main passes System.getenv). */
  public static ConfigLoader withEnvironment(Map<String, String> environment) {
    return new ConfigLoader(Map.copyOf(environment));
  }

  /** Loads the configuration; {@code file} may be null for defaults plus environment. */
  public ServerConfig load(Path file) {
    ServerConfig config = ServerConfig.defaults();
    if (file != null) {
      config = applyFile(config, file);
    }
    return applyEnvironment(config);
  }

  /** The environment variable that overrides a YAML key, for example {@code PROTORAD_PORT}. */
  public static String environmentName(String key) {
    return "PROTORAD_" + key.toUpperCase(java.util.Locale.ROOT);
  }

  private ServerConfig applyFile(ServerConfig config, Path file) {
    Map<String, Object> values = readYaml(file);
    for (Map.Entry<String, Object> e : values.entrySet()) {
      config = apply(config, e.getKey(), String.valueOf(e.getValue()));
    }
    return config;
  }

  private ServerConfig applyEnvironment(ServerConfig config) {
    for (String key : KEYS) {
      String value = environment.get(environmentName(key));
      if (value != null) {
        config = apply(config, key, value.trim());
      }
    }
    return config;
  }

  private static Map<String, Object> readYaml(Path file) {
    Yaml yaml = new Yaml(new SafeConstructor(new LoaderOptions()));
    try (Reader reader = Files.newBufferedReader(file)) {
      Object root = yaml.load(reader);
      if (root == null) {
        return Map.of();
      }
      if (!(root instanceof Map<?, ?> map)) {
        throw new ConfigException("config", file + " is not a YAML mapping (expected: key: value)");
      }
      @SuppressWarnings("unchecked")
      Map<String, Object> values = (Map<String, Object>) map;
      return values;
    } catch (NoSuchFileException e) {
      throw new ConfigException("config", file + " does not exist (expected: a readable file)");
    } catch (IOException e) {
      throw new ConfigException(
          "config", file + " cannot be read (" + e.getClass().getSimpleName() + ")");
    } catch (YAMLException e) {
      throw new ConfigException("config", file + " is not valid YAML (" + firstLine(e) + ")");
    }
  }

  private static ServerConfig apply(ServerConfig config, String key, String value) {
    return switch (key) {
      case "host" -> config.withHost(value);
      case "port" -> config.withPort(parseInt(key, value, "0..65535"));
      case "data_dir" -> config.withDataDir(Path.of(nonBlank(key, value)));
      case "shutdown_grace_seconds" ->
          config.withShutdownGrace(Duration.ofSeconds(parseInt(key, value, "0..600")));
      default ->
          throw new ConfigException(
              String.valueOf(key), "unknown key (expected one of " + KEYS + ")");
    };
  }

  private static int parseInt(String key, String value, String expected) {
    try {
      return Integer.parseInt(value);
    } catch (NumberFormatException e) {
      throw new ConfigException(key, "'" + value + "' (expected: an integer in " + expected + ")");
    }
  }

  private static String nonBlank(String key, String value) {
    if (value.isBlank()) {
      throw new ConfigException(key, "empty (expected: a directory path)");
    }
    return value;
  }

  private static String firstLine(Exception e) {
    String message = String.valueOf(e.getMessage());
    int newline = message.indexOf('\n');
    return newline < 0 ? message : message.substring(0, newline);
  }
}
