package dev.protorad.server.serving;

import static java.util.Objects.requireNonNull;

import dev.protorad.server.serving.PredictionStore.PredictionStoreException;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.FlywayException;

/**
 * The prediction store's schema, managed by Flyway migrations ({@code
 * dev/protorad/server/serving/migration}), the same on H2 and PostgreSQL. Migrations run as the
 * role that owns the schema: the server itself by default, or beforehand {@code protorad
 * predictions migrate}, after which the server's PostgreSQL role needs only what {@link #migrate}
 * grants it (SELECT, INSERT and UPDATE on predictions, for reviews; SELECT, INSERT and DELETE on
 * the kept notes, for their retention, and on the break-glass grants, which expire and are
 * revoked).
 */
public final class PredictionSchema {

  /** Flyway's history table, apart from the audit schema's should both share one schema. */
  static final String HISTORY_TABLE = "protorad_predictions_history";

  /** Advisory lock key serializing migrations on PostgreSQL ("PRDS"). */
  private static final long SCHEMA_LOCK = 0x50524453L;

  private static final String LOCATION = "classpath:dev/protorad/server/serving/migration";
  private static final Pattern ROLE = Pattern.compile("[a-z_][a-z0-9_]{0,62}");

  private PredictionSchema() {}

  /** What a migration did. */
  public record Result(int migrationsApplied, String version) {}

  /**
   * Applies the migrations not yet applied, then grants {@code serverRole} (PostgreSQL only) what
   * the server needs. Replicas starting together migrate one after another.
   *
   * @throws PredictionStoreException when the database cannot be reached or a migration fails
   * @throws IllegalArgumentException for a role name that is not a plain identifier, or a role on a
   *     database other than PostgreSQL
   */
  public static Result migrate(DataSource owner, Optional<String> serverRole) {
    requireNonNull(owner, "owner");
    requireNonNull(serverRole, "serverRole");
    serverRole.ifPresent(PredictionSchema::requireRole);
    synchronized (PredictionSchema.class) {
      try (Connection lock = owner.getConnection()) {
        boolean postgres = lock.getMetaData().getDatabaseProductName().equals("PostgreSQL");
        if (postgres) {
          advisoryLock(lock, "pg_advisory_lock");
        }
        try {
          return migrateHeld(owner, serverRole);
        } finally {
          if (postgres) {
            advisoryLock(lock, "pg_advisory_unlock");
          }
        }
      } catch (SQLException e) {
        throw new PredictionStoreException("cannot reach the prediction database", e);
      }
    }
  }

  /**
   * Replicas starting together, on PostgreSQL, would race to create Flyway's history table; one
   * session-level advisory lock ("PRDS") lets one migrate while the others wait. Within one JVM
   * (several stores on one H2 file) the class lock does the same.
   */
  private static void advisoryLock(Connection c, String function) throws SQLException {
    try (Statement s = c.createStatement()) {
      s.execute("SELECT " + function + "(" + SCHEMA_LOCK + ")");
    }
  }

  private static Result migrateHeld(DataSource owner, Optional<String> serverRole) {
    try {
      var result =
          Flyway.configure()
              .dataSource(owner)
              .locations(LOCATION)
              .table(HISTORY_TABLE)
              .baselineOnMigrate(true)
              .baselineVersion("0")
              .load()
              .migrate();
      if (serverRole.isPresent()) {
        grant(owner, serverRole.get());
      }
      return new Result(result.migrationsExecuted, result.targetSchemaVersion);
    } catch (FlywayException e) {
      SQLException cause =
          e.getCause() instanceof SQLException sql ? sql : new SQLException(e.getMessage(), e);
      throw new PredictionStoreException("prediction schema migration failed", cause);
    }
  }

  /** Whether the database {@code db} works in holds the migrated prediction tables. */
  static boolean isMigrated(DataSource db) {
    try (Connection c = db.getConnection()) {
      return hasTable(c, HISTORY_TABLE) && hasTable(c, "prediction_notes");
    } catch (SQLException e) {
      throw new PredictionStoreException("cannot read the prediction schema", e);
    }
  }

  private static boolean hasTable(Connection c, String table) throws SQLException {
    DatabaseMetaData meta = c.getMetaData();
    for (String name : new String[] {table, table.toUpperCase(Locale.ROOT)}) {
      try (ResultSet r = meta.getTables(null, c.getSchema(), name, null)) {
        if (r.next()) {
          return true;
        }
      }
    }
    return false;
  }

  private static void grant(DataSource owner, String role) {
    try (Connection c = owner.getConnection();
        Statement s = c.createStatement()) {
      if (!c.getMetaData().getDatabaseProductName().equals("PostgreSQL")) {
        throw new IllegalArgumentException(
            "serverRole: grants are made on PostgreSQL only (expected: a jdbc:postgresql URL)");
      }
      s.execute("GRANT USAGE ON SCHEMA " + quotedSchema(c) + " TO " + role);
      s.execute("GRANT SELECT, INSERT, UPDATE ON predictions TO " + role);
      s.execute("GRANT SELECT, INSERT, DELETE ON prediction_notes TO " + role);
      s.execute("GRANT SELECT, INSERT, DELETE ON break_glass_grants TO " + role);
      s.execute("GRANT SELECT, INSERT, UPDATE ON adapter_versions TO " + role);
      s.execute("GRANT SELECT, INSERT, UPDATE ON adapter_aliases TO " + role);
    } catch (SQLException e) {
      throw new PredictionStoreException("cannot grant the server's role", e);
    }
  }

  private static String quotedSchema(Connection c) throws SQLException {
    try (Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT quote_ident(current_schema())")) {
      if (!rs.next() || rs.getString(1) == null) {
        throw new SQLException("no current schema", "3F000");
      }
      return rs.getString(1);
    }
  }

  private static void requireRole(String role) {
    if (!ROLE.matcher(role).matches()) {
      throw new IllegalArgumentException(
          "serverRole: not a plain role name (expected: [a-z_][a-z0-9_]{0,62})");
    }
  }
}
