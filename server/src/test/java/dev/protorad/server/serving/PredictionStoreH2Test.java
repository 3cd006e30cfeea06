package dev.protorad.server.serving;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.protorad.server.config.ServingConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The prediction store's contract on the embedded H2 file database the server uses by default. */
class PredictionStoreH2Test extends PredictionStoreContractTest {

  @TempDir Path dir;

  @Override
  PredictionStore open(Optional<NoteVault> vault) {
    return PredictionStore.open(
        "jdbc:h2:file:" + dir.toAbsolutePath().resolve("predictions"), "", "", vault);
  }

  @Test
  void compact_aFileGrownByAppendedCommits_shrinksIt_andKeepsEveryPredictionAndNote()
      throws Exception {
    String url = ServingConfig.defaults().resolvedPredictionsJdbcUrl(dir.resolve("data"));
    Path file = dir.resolve("data").resolve("predictions").resolve("predictions.mv.db");
    NoteVault vault =
        NoteVault.of(Map.of("n1", new byte[NoteVault.KEY_BYTES]), "n1", new SecureRandom());
    List<String> ids = new ArrayList<>();
    try (PredictionStore store = PredictionStore.open(url, "", "", Optional.of(vault))) {
      for (int i = 0; i < 200; i++) {
        StoredPrediction p = prediction("p-" + i, Instant.parse("2026-01-01T00:00:00Z"));
        store.insert(p, "note " + i);
        ids.add(p.predictionId());
      }
    }
    long grown = Files.size(file);

    PredictionStore.compact(url, "", "");

    assertThat(Files.size(file)).isLessThan(grown / 4);
    try (PredictionStore store = PredictionStore.open(url, "", "", Optional.of(vault))) {
      for (int i = 0; i < ids.size(); i++) {
        assertThat(store.find(ids.get(i))).isPresent();
        assertThat(store.note(ids.get(i))).contains("note " + i);
      }
    }
  }

  @Test
  void compact_aServerDatabase_isRefused() {
    assertThatThrownBy(() -> PredictionStore.compact("jdbc:postgresql://db/protorad", "u", "p"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("jdbc:h2:file:");
  }

  @Test
  void open_aDatabaseMadeBeforeReviewReasons_addsTheColumn_andKeepsOldRows() throws Exception {
    String url = "jdbc:h2:file:" + dir.toAbsolutePath().resolve("legacy");
    try (Connection c = DriverManager.getConnection(url, "", "");
        Statement s = c.createStatement()) {
      s.execute(
          "CREATE TABLE predictions (prediction_id VARCHAR(64) PRIMARY KEY, order_id VARCHAR(128)"
              + " NOT NULL, patient_ref VARCHAR(128) NOT NULL, label_id VARCHAR(128) NOT NULL,"
              + " confidence DOUBLE PRECISION NOT NULL, adapter_version VARCHAR(160) NOT NULL,"
              + " needs_review BOOLEAN NOT NULL, flags VARCHAR(1024) NOT NULL, created_at TIMESTAMP"
              + " NOT NULL, audit_event_id VARCHAR(160) NOT NULL, review_accepted BOOLEAN,"
              + " review_label_id VARCHAR(128), reviewer VARCHAR(256), reviewed_at TIMESTAMP,"
              + " review_comment VARCHAR(1000))");
      s.execute(
          "INSERT INTO predictions (prediction_id, order_id, patient_ref, label_id, confidence,"
              + " adapter_version, needs_review, flags, created_at, audit_event_id) VALUES ('old',"
              + " 'O-1', '', 'ct-head-wo', 0.9, 'protocol@1', FALSE, '', CURRENT_TIMESTAMP,"
              + " 'w:1')");
    }

    try (PredictionStore store = PredictionStore.open(url, "", "")) {
      StoredPrediction old = store.find("old").orElseThrow();
      store.insert(
          new StoredPrediction(
              "new",
              "O-2",
              "",
              "ct-head-wo",
              0.4,
              "protocol@1",
              true,
              List.of(),
              List.of("low-confidence"),
              List.of(),
              Instant.parse("2026-01-01T00:00:00Z"),
              "w:2",
              Optional.empty()),
          "note");

      assertThat(old.reviewReasons()).isEmpty();
      assertThat(store.find("new").orElseThrow().reviewReasons()).containsExactly("low-confidence");
    }
  }
}
