package dev.protorad.server.config;

import static java.util.Objects.requireNonNull;

import java.nio.file.Path;
import java.time.Period;
import java.util.Optional;

/**
 * Audit trail settings. Paths left empty resolve under the data directory.
 *
 * @param store {@code file} (append-only segments, the embedded default) or {@code postgres}
 * @param directory segment directory for the file store; default {@code <data_dir>/audit}
 * @param jdbcUrl PostgreSQL JDBC URL, required for {@code postgres}
 * @param jdbcUser database user
 * @param jdbcPasswordEnv name of the environment variable holding the database password (the
 *     password itself never goes in a file)
 * @param writerId this process's chain id; default derived from the host name
 * @param checkpointKeyFile Ed25519 private key (PKCS#8 PEM) signing checkpoints; generated when
 *     missing; default {@code <data_dir>/keys/audit-checkpoint.pem}
 * @param hmacKeyFile note HMAC keys, lines {@code id=base64key}, the last line current; generated
 *     when missing; default {@code <data_dir>/keys/note-hmac.keys}
 * @param retention how long events are kept (default 6 years)
 * @param witnessDirectory where the file store keeps its signed heads (default {@code
 *     <data_dir>/witness}; put it on another volume than the segments)
 * @param manageSchema whether the server applies the PostgreSQL schema's migrations itself at start
 *     (default true); false for a role holding only INSERT and SELECT, once the schema's owner ran
 *     {@code protorad audit migrate}
 */
public record AuditConfig(
    String store,
    Optional<Path> directory,
    String jdbcUrl,
    String jdbcUser,
    String jdbcPasswordEnv,
    Optional<String> writerId,
    Optional<Path> checkpointKeyFile,
    Optional<Path> hmacKeyFile,
    Period retention,
    Optional<Path> witnessDirectory,
    boolean manageSchema) {

  /** Fewest days {@code audit.retention_days} may say without an explicit override: six years. */
  public static final int MIN_RETENTION_DAYS = 2192;

  public static final String FILE = "file";
  public static final String POSTGRES = "postgres";
  public static final Period DEFAULT_RETENTION = Period.ofYears(6);

  public AuditConfig {
    requireNonNull(store, "store");
    requireNonNull(directory, "directory");
    requireNonNull(jdbcUrl, "jdbcUrl");
    requireNonNull(jdbcUser, "jdbcUser");
    requireNonNull(jdbcPasswordEnv, "jdbcPasswordEnv");
    requireNonNull(writerId, "writerId");
    requireNonNull(checkpointKeyFile, "checkpointKeyFile");
    requireNonNull(hmacKeyFile, "hmacKeyFile");
    requireNonNull(retention, "retention");
    requireNonNull(witnessDirectory, "witnessDirectory");
    if (!store.equals(FILE) && !store.equals(POSTGRES)) {
      throw new ConfigException("audit.store", "'" + store + "' (expected: file or postgres)");
    }
    if (store.equals(POSTGRES) && !jdbcUrl.startsWith("jdbc:postgresql:")) {
      throw new ConfigException(
          "audit.jdbc_url", "'" + jdbcUrl + "' (expected: jdbc:postgresql://HOST/DB)");
    }
    if (retention.isNegative() || retention.isZero()) {
      throw new ConfigException("audit.retention_days", retention + " (expected: > 0)");
    }
  }

  static AuditConfig defaults() {
    return new AuditConfig(
        FILE,
        Optional.empty(),
        "",
        "",
        "",
        Optional.empty(),
        Optional.empty(),
        Optional.empty(),
        DEFAULT_RETENTION,
        Optional.empty(),
        true);
  }

  /** The segment directory in force. */
  public Path resolvedDirectory(Path dataDir) {
    return directory.orElse(dataDir.resolve("audit"));
  }

  /** The witness directory in force. */
  public Path resolvedWitnessDirectory(Path dataDir) {
    return witnessDirectory.orElse(dataDir.resolve("witness"));
  }

  /** The checkpoint key file in force. */
  public Path resolvedCheckpointKeyFile(Path dataDir) {
    return checkpointKeyFile.orElse(dataDir.resolve("keys").resolve("audit-checkpoint.pem"));
  }

  /** The HMAC key file in force. */
  public Path resolvedHmacKeyFile(Path dataDir) {
    return hmacKeyFile.orElse(dataDir.resolve("keys").resolve("note-hmac.keys"));
  }
}
