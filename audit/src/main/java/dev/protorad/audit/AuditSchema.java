package dev.protorad.audit;

import static java.util.Objects.requireNonNull;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
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
 * tables, USAGE on their sequences, EXECUTE on the purge function. Such a role cannot change the
 * schema, update or delete a row, or lower a guard.
 */
public final class AuditSchema {

  private static final String LOCATION = "classpath:dev/protorad/audit/migration";
  private static final Pattern ROLE = Pattern.compile("[a-z_][a-z0-9_]{0,62}");

  private AuditSchema() {}

  /** What a migration did. */
  public record Result(String schema, int migrationsApplied, String version) {}

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
    requireNonNull(owner, "owner");
    requireNonNull(serverRole, "serverRole");
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
                    + " || '.protorad_audit_purge(text,bigint)') IS NOT NULL")) {
      return rs.next() && rs.getBoolean(1);
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
      s.execute("GRANT EXECUTE ON FUNCTION protorad_audit_purge(text, bigint) TO " + role);
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
