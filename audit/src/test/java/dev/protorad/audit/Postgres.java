package dev.protorad.audit;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import javax.sql.DataSource;

/** One real PostgreSQL server per test JVM; each test gets its own database. */
final class Postgres {

  private static final AtomicInteger DATABASES = new AtomicInteger();
  private static EmbeddedPostgres server;

  private Postgres() {}

  /** A fresh, empty schema (cheaper than a database) seen as the default by the data source. */
  static synchronized DataSource newDatabase() {
    String name = "audit_" + DATABASES.incrementAndGet();
    execute(server().getPostgresDatabase(), "CREATE SCHEMA " + name);
    return server().getDatabase("postgres", "postgres", Map.of("currentSchema", name));
  }

  /**
   * A data source on {@code db}'s schema logging in as {@code role}, a new role without privileges
   * beyond USAGE on the schema (grant what a test needs as the superuser).
   */
  static synchronized DataSource as(DataSource db, String role) {
    String schema = schemaOf(db);
    execute(
        server().getPostgresDatabase(),
        "CREATE ROLE " + role + " LOGIN",
        "GRANT USAGE ON SCHEMA " + schema + " TO " + role);
    return server().getDatabase(role, "postgres", Map.of("currentSchema", schema));
  }

  /** The schema {@code db} works in. */
  static String schemaOf(DataSource db) {
    try (Connection c = db.getConnection();
        Statement s = c.createStatement();
        java.sql.ResultSet rs = s.executeQuery("SELECT current_schema()")) {
      rs.next();
      return rs.getString(1);
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Runs SQL as the superuser. */
  static void execute(DataSource ds, String... sql) {
    try (Connection c = ds.getConnection();
        Statement s = c.createStatement()) {
      for (String statement : sql) {
        s.execute(statement);
      }
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  private static EmbeddedPostgres server() {
    if (server == null) {
      try {
        server = EmbeddedPostgres.builder().setPGStartupWait(Duration.ofSeconds(60)).start();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      Runtime.getRuntime().addShutdownHook(new Thread(Postgres::stop));
    }
    return server;
  }

  private static void stop() {
    try {
      server.close();
    } catch (IOException e) {
      // the JVM is exiting
    }
  }
}
