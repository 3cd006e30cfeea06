package dev.protorad.server.serving;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.protorad.server.serving.PredictionStore.PredictionStoreException;
import dev.protorad.testing.Postgres;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * The prediction schema under Flyway: the owner migrates and grants, the server's role then runs
 * the store with {@code predictions.manage_schema: false} and can insert, review and read, but not
 * delete a prediction or change the schema.
 */
class PredictionSchemaTest {

  private static final Instant NOW = Instant.parse("2026-03-01T09:00:00Z");

  @Test
  void leastPrivilegeRole_runsTheStoreOnceTheOwnerMigrated_andCannotDeleteOrAlter() {
    String schema = "ps_" + Long.toHexString(System.nanoTime());
    String role = "srv_" + schema;
    Postgres.execute("CREATE SCHEMA " + schema, "CREATE ROLE " + role + " LOGIN");
    PGSimpleDataSource owner = new PGSimpleDataSource();
    owner.setUrl(Postgres.url("postgres", schema));

    PredictionSchema.Result migrated = PredictionSchema.migrate(owner, Optional.of(role));
    PredictionSchema.Result again = PredictionSchema.migrate(owner, Optional.of(role));

    assertThat(migrated.version()).isEqualTo("6");
    assertThat(again.migrationsApplied()).isZero();
    String url = Postgres.url(role, schema);
    try (PredictionStore store =
        PredictionStore.open(url, role, "", Optional.empty(), /* manageSchema= */ false)) {
      store.insert(prediction("p-1"), "RLQ pain");
      assertThat(
              store.review(
                  "p-1", new StoredPrediction.Review(true, "", "dr.lee", NOW.plusSeconds(5), "")))
          .isTrue();
      assertThat(store.find("p-1").orElseThrow().review()).isPresent();
    }
    assertThatThrownBy(() -> run(url, role, "DELETE FROM predictions"))
        .hasMessageContaining("permission denied");
    assertThatThrownBy(() -> run(url, role, "ALTER TABLE predictions ADD COLUMN x int"))
        .hasMessageContaining("must be owner");
    assertThatThrownBy(() -> run(url, role, "CREATE TABLE other (i int)"))
        .hasMessageContaining("permission denied");
  }

  @Test
  void open_withoutManagingTheSchema_onAnEmptyDatabase_saysToMigrateFirst(@TempDir Path dir) {
    String url = "jdbc:h2:file:" + dir.toAbsolutePath().resolve("empty");

    assertThatThrownBy(() -> PredictionStore.open(url, "", "", Optional.empty(), false))
        .isInstanceOf(PredictionStoreException.class)
        .hasMessageContaining("protorad predictions migrate");
  }

  @Test
  void open_managingTheSchema_recordsItsMigrations(@TempDir Path dir) throws SQLException {
    String url = "jdbc:h2:file:" + dir.toAbsolutePath().resolve("fresh");
    PredictionStore.open(url, "", "").close();

    try (Connection c = DriverManager.getConnection(url, "", "");
        Statement s = c.createStatement();
        var rs =
            s.executeQuery(
                "SELECT max(\"version\") FROM \"" + PredictionSchema.HISTORY_TABLE + "\"")) {
      rs.next();
      assertThat(rs.getString(1)).isEqualTo("6");
    }
    PredictionStore.open(url, "", "", Optional.empty(), false).close();
  }

  private static void run(String url, String user, String sql) throws SQLException {
    try (Connection c = DriverManager.getConnection(url, user, "");
        Statement s = c.createStatement()) {
      s.execute(sql);
    }
  }

  private static StoredPrediction prediction(String id) {
    return new StoredPrediction(
        id,
        "O-" + id,
        "PT-7",
        "ct-head-wo",
        0.42,
        "protocol@3",
        true,
        List.of("renal"),
        List.of("low-confidence"),
        List.of(),
        NOW,
        "w1:" + id,
        Optional.empty());
  }
}
