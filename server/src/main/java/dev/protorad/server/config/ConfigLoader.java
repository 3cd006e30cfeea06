package dev.protorad.server.config;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Period;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.YAMLException;

/**
 * Reads {@link ServerConfig}: defaults, then a YAML file, then environment variables. Nested YAML
 * sections become dotted keys ({@code audit: {store: file}} is {@code audit.store}); each key's
 * environment variable is {@code PROTORAD_} plus the key in upper case with dots as underscores
 * ({@code PROTORAD_AUDIT_STORE}). Unknown keys are errors, so a misspelt key never silently falls
 * back to a default. The keys are listed in {@link #KEYS} and in the README.
 */
public final class ConfigLoader {

  /** Every key, in the order they are documented. */
  public static final List<String> KEYS =
      List.of(
          "host",
          "port",
          "server.role",
          "health_port",
          "data_dir",
          "shutdown_grace_seconds",
          "policy.file",
          "policy.reload_seconds",
          "audit.store",
          "audit.dir",
          "audit.jdbc_url",
          "audit.jdbc_user",
          "audit.jdbc_password_env",
          "audit.writer_id",
          "audit.checkpoint_key_file",
          "audit.hmac_key_file",
          "audit.retention_days",
          "audit.allow_short_retention",
          "audit.manage_schema",
          "audit.witness_dir",
          "tls.cert_file",
          "tls.key_file",
          "tls.client_ca_file",
          "tls.client_auth",
          "model.dir",
          "model.review_threshold",
          "serving.workers",
          "serving.queue_capacity",
          "serving.max_batch",
          "serving.max_wait_ms",
          "serving.rate_limit_per_second",
          "predictions.jdbc_url",
          "predictions.jdbc_user",
          "predictions.jdbc_password_env",
          "predictions.manage_schema",
          "predictions.retain_notes",
          "predictions.note_key_file",
          "predictions.note_retention_days",
          "adapters.registry",
          "telemetry.prometheus_port",
          "console.enabled",
          "console.host",
          "console.port",
          "console.gateway_key_env",
          "console.user_header");

  private final Map<String, String> environment;

  private ConfigLoader(Map<String, String> environment) {
    this.environment = requireNonNull(environment, "environment");
  }

  /** A loader that reads the given environment (tests pass a map; main passes System.getenv). */
  public static ConfigLoader withEnvironment(Map<String, String> environment) {
    return new ConfigLoader(Map.copyOf(environment));
  }

  /** The environment variable for a key, for example {@code PROTORAD_AUDIT_STORE}. */
  public static String environmentName(String key) {
    return "PROTORAD_" + key.replace('.', '_').toUpperCase(Locale.ROOT);
  }

  /** Loads the configuration; {@code file} may be null for defaults plus environment. */
  public ServerConfig load(Path file) {
    Map<String, String> values = new LinkedHashMap<>();
    if (file != null) {
      flatten("", readYaml(file), values);
    }
    for (String key : KEYS) {
      String value = environment.get(environmentName(key));
      if (value != null) {
        values.put(key, value.trim());
      }
    }
    return build(new Values(values));
  }

  private static ServerConfig build(Values v) {
    ServerConfig d = ServerConfig.defaults();
    return new ServerConfig(
        v.text("host").orElse(d.host()),
        v.integer("port", 0, 65535).orElse(d.port()),
        v.path("data_dir").orElse(d.dataDir()),
        v.integer("shutdown_grace_seconds", 0, 600)
            .map(Duration::ofSeconds)
            .orElse(d.shutdownGrace()),
        v.path("policy.file"),
        v.integer("policy.reload_seconds", 0, 86_400)
            .map(Duration::ofSeconds)
            .orElse(d.policyReload()),
        audit(v),
        tls(v),
        serving(v),
        v.integer("telemetry.prometheus_port", 0, 65535).orElse(0),
        v.text("server.role").map(ServerConfig.Role::parse).orElse(ServerConfig.Role.ALL),
        v.integer("health_port", 0, 65535).orElse(0),
        console(v));
  }

  private static ConsoleConfig console(Values v) {
    ConsoleConfig d = ConsoleConfig.disabled();
    return new ConsoleConfig(
        v.bool("console.enabled").orElse(d.enabled()),
        v.text("console.host").orElse(d.host()),
        v.integer("console.port", 0, 65535).orElse(d.port()),
        v.text("console.gateway_key_env").orElse(d.gatewayKeyEnv()),
        v.text("console.user_header").orElse(d.userHeader()));
  }

  private static ServingConfig serving(Values v) {
    ServingConfig d = ServingConfig.defaults();
    return new ServingConfig(
        v.path("model.dir"),
        v.decimal("model.review_threshold").orElse(d.reviewThreshold()),
        v.integer("serving.workers", 1, 256).orElse(d.workers()),
        v.integer("serving.queue_capacity", 1, 100_000).orElse(d.queueCapacity()),
        v.integer("serving.max_batch", 1, 256).orElse(d.maxBatch()),
        v.integer("serving.max_wait_ms", 0, 1000).orElse(d.maxWaitMillis()),
        v.text("predictions.jdbc_url").orElse(""),
        v.text("predictions.jdbc_user").orElse(""),
        v.text("predictions.jdbc_password_env").orElse(""),
        v.bool("predictions.manage_schema").orElse(d.predictionsManageSchema()),
        v.bool("predictions.retain_notes").orElse(d.retainNotes()),
        v.path("predictions.note_key_file"),
        v.integer("predictions.note_retention_days", 0, ServingConfig.MAX_NOTE_RETENTION_DAYS)
            .orElse(d.noteRetentionDays()),
        v.decimal("serving.rate_limit_per_second").orElse(d.rateLimitPerSecond()),
        v.text("adapters.registry")
            .map(ServingConfig.AdapterRegistry::parse)
            .orElse(d.adapterRegistry()));
  }

  private static AuditConfig audit(Values v) {
    AuditConfig d = AuditConfig.defaults();
    return new AuditConfig(
        v.text("audit.store").orElse(d.store()),
        v.path("audit.dir"),
        v.text("audit.jdbc_url").orElse(""),
        v.text("audit.jdbc_user").orElse(""),
        v.text("audit.jdbc_password_env").orElse(""),
        v.text("audit.writer_id"),
        v.path("audit.checkpoint_key_file"),
        v.path("audit.hmac_key_file"),
        retention(v).map(Period::ofDays).orElse(d.retention()),
        v.path("audit.witness_dir"),
        v.bool("audit.manage_schema").orElse(d.manageSchema()));
  }

  /**
   * {@code audit.retention_days}: 1..36500, and at least {@link AuditConfig#MIN_RETENTION_DAYS}
   * (six years, HIPAA's documentation retention) unless {@code audit.allow_short_retention} says so
   * explicitly.
   */
  private static Optional<Integer> retention(Values v) {
    Optional<Integer> days = v.integer("audit.retention_days", 1, 36_500);
    boolean allowShort = v.bool("audit.allow_short_retention").orElse(false);
    if (days.isPresent() && days.get() < AuditConfig.MIN_RETENTION_DAYS && !allowShort) {
      throw new ConfigException(
          "audit.retention_days",
          days.get()
              + " (expected: >= "
              + AuditConfig.MIN_RETENTION_DAYS
              + ", six years, unless audit.allow_short_retention is true)");
    }
    return days;
  }

  private static TlsConfig tls(Values v) {
    return new TlsConfig(
        v.path("tls.cert_file"),
        v.path("tls.key_file"),
        v.path("tls.client_ca_file"),
        v.text("tls.client_auth").orElse("none"));
  }

  private static void flatten(String prefix, Map<?, ?> map, Map<String, String> out) {
    for (Map.Entry<?, ?> e : map.entrySet()) {
      String key = prefix + e.getKey();
      if (e.getValue() instanceof Map<?, ?> nested) {
        flatten(key + ".", nested, out);
      } else if (!KEYS.contains(key)) {
        throw new ConfigException(key, "unknown key (expected one of " + KEYS + ")");
      } else {
        out.put(key, e.getValue() == null ? "" : String.valueOf(e.getValue()));
      }
    }
  }

  private static Map<?, ?> readYaml(Path file) {
    Yaml yaml = new Yaml(new SafeConstructor(new LoaderOptions()));
    try (Reader reader = Files.newBufferedReader(file)) {
      Object root = yaml.load(reader);
      if (root == null) {
        return Map.of();
      }
      if (!(root instanceof Map<?, ?> map)) {
        throw new ConfigException("config", file + " is not a YAML mapping (expected: key: value)");
      }
      return map;
    } catch (NoSuchFileException e) {
      throw new ConfigException("config", file + " does not exist (expected: a readable file)");
    } catch (IOException e) {
      throw new ConfigException(
          "config", file + " cannot be read (" + e.getClass().getSimpleName() + ")");
    } catch (YAMLException e) {
      throw new ConfigException("config", file + " is not valid YAML (" + firstLine(e) + ")");
    }
  }

  private static String firstLine(Exception e) {
    String message = String.valueOf(e.getMessage());
    int newline = message.indexOf('\n');
    return newline < 0 ? message : message.substring(0, newline);
  }

  /** Typed access to the merged string values, with errors that name the key. */
  private record Values(Map<String, String> raw) {

    Optional<String> text(String key) {
      return Optional.ofNullable(raw.get(key));
    }

    Optional<Path> path(String key) {
      return text(key).map(value -> toPath(key, value));
    }

    Optional<Double> decimal(String key) {
      return text(key).map(value -> toDecimal(key, value));
    }

    Optional<Boolean> bool(String key) {
      return text(key).map(value -> toBool(key, value));
    }

    private static Path toPath(String key, String value) {
      if (value.isBlank()) {
        throw new ConfigException(key, "empty (expected: a path)");
      }
      return Path.of(value);
    }

    private static double toDecimal(String key, String value) {
      try {
        return Double.parseDouble(value);
      } catch (NumberFormatException e) {
        throw new ConfigException(key, "'" + value + "' (expected: a number)");
      }
    }

    private static boolean toBool(String key, String value) {
      return switch (value.toLowerCase(Locale.ROOT)) {
        case "true" -> true;
        case "false" -> false;
        default -> throw new ConfigException(key, "'" + value + "' (expected: true or false)");
      };
    }

    Optional<Integer> integer(String key, int min, int max) {
      return text(key).map(value -> parse(key, value, min, max));
    }

    private static int parse(String key, String value, int min, int max) {
      int parsed;
      try {
        parsed = Integer.parseInt(value);
      } catch (NumberFormatException e) {
        throw new ConfigException(
            key, "'" + value + "' (expected: an integer in " + min + ".." + max + ")");
      }
      if (parsed < min || parsed > max) {
        throw new ConfigException(key, parsed + " (expected: " + min + ".." + max + ")");
      }
      return parsed;
    }
  }
}
