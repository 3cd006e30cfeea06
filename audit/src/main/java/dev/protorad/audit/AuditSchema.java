package dev.protorad.audit;

import static java.util.Objects.requireNonNull;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.FlywayException;

/**
 * The PostgreSQL audit schema, managed by Flyway migrations ({@code dev/protorad/audit/migration}).
 * Migrations run as the role that owns the schema ({@code protorad audit migrate}); the server's
 * own role then needs only the grants {@link #migrate} gives it: SELECT and INSERT on the two
 * tables, USAGE on their sequences, SELECT on the purge policy, EXECUTE on the purge function. Such
 * a role cannot change the schema, update or delete a row, lower a guard, read the purge keys or
 * purge anything younger than the policy's minimum age.
 */
public final class AuditSchema {

  private static final String LOCATION = "classpath:dev/protorad/audit/migration";
  private static final Pattern ROLE = Pattern.compile("[a-z_][a-z0-9_]{0,62}");

  private AuditSchema() {}

  /** What a migration did. */
  public record Result(String schema, int migrationsApplied, String version) {}

  /**
   * What the purge function enforces, set by the schema's owner.
   *
   * @param minimumAge the youngest an event may be, by the database's clock, when purged; empty
   *     keeps the one set before (six years on a new schema)
   * @param keys checkpoint signing keys whose purge anchors the function accepts (installed or
   *     replaced, never removed here)
   */
  public record PurgePolicy(Optional<Duration> minimumAge, List<CheckpointKeys> keys) {
    public PurgePolicy {
      requireNonNull(minimumAge, "minimumAge");
      keys = List.copyOf(keys);
      minimumAge.ifPresent(
          age -> {
            if (age.isNegative()) {
              throw new IllegalArgumentException("minimumAge: " + age + " (expected: >= 0)");
            }
          });
      for (CheckpointKeys k : keys) {
        if (!k.canSign()) {
          throw new IllegalArgumentException("keys: verify-only (expected: a signing key)");
        }
      }
    }

    /** Changes nothing: the floor stays, no key is installed. */
    public static PurgePolicy unchanged() {
      return new PurgePolicy(Optional.empty(), List.of());
    }
  }

  /**
   * Applies the migrations not yet applied to the schema {@code owner} works in (its current
   * schema), then grants the server's role what it needs, if one is named. A schema made before
   * migrations existed is taken over (its objects are created only if absent).
   *
   * @param owner a data source logging in as the role that owns (or may create) the schema
   * @param serverRole the role the server logs in as, or empty to grant nothing
   * @throws AuditUnavailableException when the database cannot be reached or a migration fails
   */
  public static Result migrate(DataSource owner, Optional<String> serverRole) {
    return migrate(owner, serverRole, PurgePolicy.unchanged());
  }

  /**
   * {@link #migrate(DataSource, Optional)}, then sets the purge function's minimum age and installs
   * the purge keys of {@code policy}, in tables only the owner can read.
   */
  public static Result migrate(DataSource owner, Optional<String> serverRole, PurgePolicy policy) {
    requireNonNull(owner, "owner");
    requireNonNull(serverRole, "serverRole");
    requireNonNull(policy, "policy");
    serverRole.ifPresent(AuditSchema::requireRole);
    String schema = currentSchema(owner);
    try {
      var result =
          Flyway.configure()
              .dataSource(owner)
              .locations(LOCATION)
              .schemas(unquoted(schema))
              .placeholders(Map.of("schema", schema))
              .baselineOnMigrate(true)
              .baselineVersion("0")
              .load()
              .migrate();
      applyPolicy(owner, policy);
      serverRole.ifPresent(role -> grant(owner, role));
      return new Result(schema, result.migrationsExecuted, result.targetSchemaVersion);
    } catch (FlywayException e) {
      throw new AuditUnavailableException("audit schema migration failed: " + e.getMessage(), e);
    }
  }

  /** Whether the schema {@code db} works in holds the migrated audit tables. */
  static boolean isMigrated(DataSource db) {
    try (Connection c = db.getConnection();
        Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT to_regclass(quote_ident(current_schema()) || '.audit_events') IS NOT NULL"
                    + " AND to_regprocedure(quote_ident(current_schema())"
                    + " || '.protorad_audit_purge(text,bigint,text)') IS NOT NULL")) {
      return rs.next() && rs.getBoolean(1);
    } catch (SQLException e) {
      throw unavailable(e);
    }
  }

  private static void applyPolicy(DataSource owner, PurgePolicy policy) {
    if (policy.minimumAge().isEmpty() && policy.keys().isEmpty()) {
      return;
    }
    try (Connection c = owner.getConnection()) {
      c.setAutoCommit(false);
      if (policy.minimumAge().isPresent()) {
        try (PreparedStatement s =
            c.prepareStatement(
                "UPDATE audit_purge_policy SET min_age = make_interval(days => ?, secs => ?)"
                    + " WHERE id = 1")) {
          Duration age = policy.minimumAge().get();
          s.setInt(1, Math.toIntExact(age.toDays()));
          s.setDouble(2, (double) age.minusDays(age.toDays()).toSeconds());
          s.executeUpdate();
        }
      }
      try (PreparedStatement s =
          c.prepareStatement(
              "INSERT INTO audit_purge_keys (key_id, mac_key) VALUES (?, ?)"
                  + " ON CONFLICT (key_id) DO UPDATE SET mac_key = EXCLUDED.mac_key")) {
        for (CheckpointKeys k : policy.keys()) {
          s.setString(1, k.keyId());
          s.setBytes(2, k.anchorMacKey());
          s.addBatch();
        }
        s.executeBatch();
      }
      c.commit();
    } catch (SQLException e) {
      throw unavailable(e);
    }
  }

  private static void grant(DataSource owner, String role) {
    try (Connection c = owner.getConnection();
        Statement s = c.createStatement()) {
      String schema = currentSchema(c);
      s.execute("GRANT USAGE ON SCHEMA " + schema + " TO " + role);
      s.execute("GRANT SELECT, INSERT ON audit_events, audit_checkpoints TO " + role);
      s.execute("GRANT USAGE ON SEQUENCE audit_events_id_seq, audit_checkpoints_id_seq TO " + role);
      s.execute("GRANT SELECT ON audit_purge_policy TO " + role);
      s.execute("GRANT EXECUTE ON FUNCTION protorad_audit_purge(text, bigint, text) TO " + role);
    } catch (SQLException e) {
      throw unavailable(e);
    }
  }

  private static void requireRole(String role) {
    if (!ROLE.matcher(role).matches()) {
      throw new IllegalArgumentException(
          "serverRole: not a plain role name (expected: [a-z_][a-z0-9_]{0,62})");
    }
  }

  private static String currentSchema(DataSource db) {
    try (Connection c = db.getConnection()) {
      return currentSchema(c);
    } catch (SQLException e) {
      throw unavailable(e);
    }
  }

  private static String currentSchema(Connection c) throws SQLException {
    try (Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT quote_ident(current_schema())")) {
      if (!rs.next() || rs.getString(1) == null) {
        throw new SQLException("no current schema", "3F000");
      }
      return rs.getString(1);
    }
  }

  private static String unquoted(String quoted) {
    return quoted.startsWith("\"")
        ? quoted.substring(1, quoted.length() - 1).replace("\"\"", "\"")
        : quoted;
  }

  private static AuditUnavailableException unavailable(SQLException e) {
    return new AuditUnavailableException(
        "audit database unavailable (SQLState " + e.getSQLState() + ")", e);
  }
}
