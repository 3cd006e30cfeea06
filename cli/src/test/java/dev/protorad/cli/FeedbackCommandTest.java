package dev.protorad.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.protorad.api.v1.AssignProtocolRequest;
import dev.protorad.api.v1.AssignProtocolResponse;
import dev.protorad.api.v1.ReviewDecision;
import dev.protorad.api.v1.ReviewPredictionRequest;
import dev.protorad.clinical.catalog.Catalog;
import dev.protorad.training.data.DatasetValidator;
import dev.protorad.training.data.ValidatedDataset;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code dataset feedback} over notes a real server stored: predict, review, export, validate; and
 * what happens to sealed notes that were altered, keys that do not match, and a server that keeps
 * no notes.
 */
class FeedbackCommandTest {

  private static final String CANARY = "CANARY-PHI-4417";
  private static final String NOTE_1 =
      CANARY + " 58F RLQ pain x2d, fever, WBC 14. r/o appendicitis. Cr 0.8.";
  private static final String NOTE_2 =
      CANARY + " 72M on apixaban, fall w/ head strike, now confused. Eval for ICH.";

  @TempDir Path dir;
  private DemoServer server;
  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();

  @AfterEach
  void stop() throws Exception {
    if (server != null) {
      server.close();
    }
  }

  private int export(String... args) {
    CommandLine cl = new CommandLine(new DatasetCommand());
    cl.setOut(new PrintWriter(out, true));
    cl.setErr(new PrintWriter(err, true));
    String[] all =
        Stream.concat(
                Stream.of("feedback", "--data-dir", server.dataDir.toString()), Stream.of(args))
            .toArray(String[]::new);
    return cl.execute(all);
  }

  private AssignProtocolResponse predict(String orderId, String note) {
    return server
        .as("clinician")
        .assignProtocol(
            AssignProtocolRequest.newBuilder()
                .setOrderId(orderId)
                .setPatientRef("PT-7")
                .setNote(note)
                .build());
  }

  /** Corrects the prediction to a catalog label other than the one predicted; returns it. */
  private String correct(AssignProtocolResponse r) {
    String label =
        Catalog.loadDefault().ids().stream()
            .filter(id -> !id.equals(r.getLabel().getId()))
            .findFirst()
            .orElseThrow();
    server
        .as("radiologist")
        .reviewPrediction(
            ReviewPredictionRequest.newBuilder()
                .setPredictionId(r.getPredictionId())
                .setDecision(ReviewDecision.REVIEW_DECISION_CORRECT)
                .setCorrectedLabelId(label)
                .build());
    return label;
  }

  private void accept(AssignProtocolResponse r) {
    server
        .as("radiologist")
        .reviewPrediction(
            ReviewPredictionRequest.newBuilder()
                .setPredictionId(r.getPredictionId())
                .setDecision(ReviewDecision.REVIEW_DECISION_ACCEPT)
                .build());
  }

  private Connection database() throws Exception {
    return DriverManager.getConnection(
        "jdbc:h2:file:" + server.dataDir.toAbsolutePath().resolve("predictions/predictions"),
        "",
        "");
  }

  @Test
  void predictReviewExport_givesTheNoteWithTheCorrectedLabel_andTheFileValidates()
      throws Exception {
    server = DemoServer.start(dir, null);
    AssignProtocolResponse first = predict("F-1", NOTE_1);
    String corrected = correct(first);
    AssignProtocolResponse second = predict("F-2", NOTE_2);
    accept(second);
    Path file = dir.resolve("feedback.jsonl");

    int code = export("--out", file.toString());

    assertThat(code).as(err.toString()).isZero();
    assertThat(Files.readAllLines(file))
        .containsExactly(
            "{\"note\":\"" + NOTE_1 + "\",\"label\":\"" + corrected + "\",\"split\":\"train\"}");
    ValidatedDataset validated = DatasetValidator.of(Catalog.loadDefault()).validate(file, false);
    assertThat(validated.report().hasErrors()).isFalse();
    assertThat(validated.records()).hasSize(1);
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file)))
        .isEqualTo("rw-------");
    assertThat(out.toString())
        .contains("reviewed: 1 (corrected)")
        .contains("exported: 1 (corrections 1, accepted 0)")
        .doesNotContain(CANARY);
  }

  @Test
  void includeAccepted_addsAcceptedNotesWithThePredictedLabel_andOverwritingNeedsForce()
      throws Exception {
    server = DemoServer.start(dir, null);
    correct(predict("F-1", NOTE_1));
    AssignProtocolResponse accepted = predict("F-2", NOTE_2);
    accept(accepted);
    Path file = Files.writeString(dir.resolve("feedback.jsonl"), "old\n");

    int refused = export("--out", file.toString(), "--include-accepted");
    int forced = export("--out", file.toString(), "--include-accepted", "--force");

    assertThat(refused).isEqualTo(2);
    assertThat(err.toString()).contains("exists (expected: a new file, or --force)");
    assertThat(forced).isZero();
    List<String> lines = Files.readAllLines(file);
    assertThat(lines).hasSize(2);
    assertThat(lines.get(1))
        .isEqualTo(
            "{\"note\":\""
                + NOTE_2
                + "\",\"label\":\""
                + accepted.getLabel().getId()
                + "\",\"split\":\"train\"}");
    assertThat(out.toString()).contains("exported: 2 (corrections 1, accepted 1)");
  }

  @Test
  void storedNote_isSealed_neitherTheColumnNorTheDatabaseFileHoldsItsText() throws Exception {
    server = DemoServer.start(dir, null);
    AssignProtocolResponse r = predict("F-1", NOTE_1);

    try (Connection c = database();
        PreparedStatement s =
            c.prepareStatement("SELECT * FROM prediction_notes WHERE prediction_id = ?")) {
      s.setString(1, r.getPredictionId());
      try (ResultSet row = s.executeQuery()) {
        assertThat(row.next()).isTrue();
        assertThat(row.getString("key_id")).isEqualTo("n1");
        assertThat(Base64.getDecoder().decode(row.getString("nonce"))).hasSize(12);
        String ciphertext = row.getString("ciphertext");
        assertThat(ciphertext).doesNotContain(CANARY);
        assertThat(new String(Base64.getDecoder().decode(ciphertext), StandardCharsets.ISO_8859_1))
            .doesNotContain(CANARY);
      }
    }
    server.close();
    server = null;
    byte[] db = Files.readAllBytes(dir.resolve("data/predictions/predictions.mv.db"));
    assertThat(new String(db, StandardCharsets.ISO_8859_1)).doesNotContain(CANARY);
    assertThat(dir.resolve("data/keys/prediction-notes.keys")).exists();
  }

  @Test
  void alteredRowAndWrongKey_areCountedNotExported_andNoNoteTextIsPrinted() throws Exception {
    server = DemoServer.start(dir, null);
    AssignProtocolResponse altered = predict("F-1", NOTE_1);
    correct(altered);
    correct(predict("F-2", NOTE_2));
    try (Connection c = database();
        PreparedStatement s =
            c.prepareStatement(
                "UPDATE prediction_notes SET ciphertext = ? WHERE prediction_id = ?")) {
      s.setString(1, flipFirstByte(ciphertextOf(c, altered.getPredictionId())));
      s.setString(2, altered.getPredictionId());
      assertThat(s.executeUpdate()).isEqualTo(1);
    }
    Path otherKey =
        Files.writeString(
            dir.resolve("other.keys"),
            "n1=" + Base64.getEncoder().encodeToString(new byte[32]) + "\n");
    Path unknownKey =
        Files.writeString(
            dir.resolve("unknown.keys"),
            "n9=" + Base64.getEncoder().encodeToString(new byte[32]) + "\n");

    int tampered = export("--out", dir.resolve("a.jsonl").toString());
    int wrongKey =
        export("--out", dir.resolve("b.jsonl").toString(), "--key-file", otherKey.toString());
    int noSuchKey =
        export("--out", dir.resolve("c.jsonl").toString(), "--key-file", unknownKey.toString());

    assertThat(List.of(tampered, wrongKey, noSuchKey)).containsOnly(1);
    assertThat(Files.readAllLines(dir.resolve("a.jsonl")))
        .hasSize(1)
        .allMatch(l -> l.contains(NOTE_2));
    assertThat(Files.readAllLines(dir.resolve("b.jsonl"))).isEmpty();
    assertThat(Files.readAllLines(dir.resolve("c.jsonl"))).isEmpty();
    assertThat(out.toString())
        .contains("exported: 1 (corrections 1, accepted 0)")
        .contains("unknown key id 0, decryption failed 1,")
        .contains("unknown key id 0, decryption failed 2,")
        .contains("unknown key id 2, decryption failed 0,")
        .doesNotContain(CANARY);
    assertThat(err.toString()).doesNotContain(CANARY);
  }

  @Test
  void retainNotesFalse_storesNothing_andTheExportSaysSo() throws Exception {
    Path config =
        Files.writeString(dir.resolve("protorad.yaml"), "predictions:\n  retain_notes: false\n");
    server = DemoServer.start(dir, config);
    correct(predict("F-1", NOTE_1));

    try (Connection c = database();
        ResultSet count =
            c.createStatement().executeQuery("SELECT COUNT(*) FROM prediction_notes")) {
      count.next();
      assertThat(count.getInt(1)).isZero();
    }
    int code = export("--config", config.toString(), "--out", dir.resolve("f.jsonl").toString());

    assertThat(code).as(err.toString()).isZero();
    assertThat(Files.readAllLines(dir.resolve("f.jsonl"))).isEmpty();
    assertThat(dir.resolve("data/keys/prediction-notes.keys")).doesNotExist();
    assertThat(out.toString())
        .contains("predictions.retain_notes is false")
        .contains("exported: 0")
        .contains("no retained note 1,");
  }

  @Test
  void noteOlderThanRetention_isDeletedWhenTheServerStarts_andTheExportCountsIt() throws Exception {
    server = DemoServer.start(dir, null);
    AssignProtocolResponse old = predict("F-1", NOTE_1);
    correct(old);
    correct(predict("F-2", NOTE_2));
    server.close();
    try (Connection c = database();
        PreparedStatement s =
            c.prepareStatement("UPDATE predictions SET created_at = ? WHERE prediction_id = ?")) {
      s.setTimestamp(1, Timestamp.from(Instant.now().minus(Duration.ofDays(91))));
      s.setString(2, old.getPredictionId());
      assertThat(s.executeUpdate()).isEqualTo(1);
    }

    server = DemoServer.start(dir, null);
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (countNotes() > 1 && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    int code = export("--out", dir.resolve("r.jsonl").toString());

    assertThat(code).as(err.toString()).isZero();
    assertThat(Files.readAllLines(dir.resolve("r.jsonl")))
        .singleElement()
        .satisfies(line -> assertThat(line).contains(NOTE_2));
    assertThat(out.toString())
        .contains("reviewed: 2 (corrected)")
        .contains("exported: 1 (corrections 1, accepted 0)")
        .contains("no retained note 1,");
  }

  private int countNotes() throws Exception {
    try (Connection c = database();
        ResultSet count =
            c.createStatement().executeQuery("SELECT COUNT(*) FROM prediction_notes")) {
      count.next();
      return count.getInt(1);
    }
  }

  @Test
  void missingDatabaseOrBadSince_exits2WithOneLine() throws Exception {
    server = DemoServer.start(dir, null);

    int noDb =
        new CommandLine(new DatasetCommand())
            .setErr(new PrintWriter(err, true))
            .execute(
                "feedback", "--data-dir", dir.resolve("elsewhere").toString(), "--out", "x.jsonl");
    int badSince = export("--out", dir.resolve("x.jsonl").toString(), "--since", "last week");

    assertThat(noDb).isEqualTo(2);
    assertThat(badSince).isEqualTo(2);
    assertThat(err.toString().lines())
        .containsExactly(
            "dataset feedback: no prediction database at "
                + dir.resolve("elsewhere/predictions/predictions.mv.db")
                + " (expected: the server's --data-dir, or --db JDBC_URL)",
            "dataset feedback: --since: 'last week' (expected: an ISO-8601 instant such as"
                + " 2026-11-01T00:00:00Z, or a date)");
  }

  @Test
  void since_leavesOutEarlierReviews() throws Exception {
    server = DemoServer.start(dir, null);
    correct(predict("F-1", NOTE_1));

    int code =
        export("--out", dir.resolve("s.jsonl").toString(), "--since", "2999-01-01T00:00:00Z");

    assertThat(code).isZero();
    assertThat(out.toString()).contains("reviewed: 0").contains("exported: 0");
  }

  private static String ciphertextOf(Connection c, String predictionId) throws Exception {
    try (PreparedStatement s =
        c.prepareStatement("SELECT ciphertext FROM prediction_notes WHERE prediction_id = ?")) {
      s.setString(1, predictionId);
      try (ResultSet r = s.executeQuery()) {
        r.next();
        return r.getString(1);
      }
    }
  }

  private static String flipFirstByte(String base64) {
    byte[] bytes = Base64.getDecoder().decode(base64);
    bytes[0] ^= 1;
    return Base64.getEncoder().encodeToString(bytes);
  }
}
