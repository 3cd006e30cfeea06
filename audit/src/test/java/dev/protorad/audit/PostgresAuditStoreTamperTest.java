package dev.protorad.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.protorad.testing.Postgres;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** A superuser who disables the triggers and edits rows is caught by verify(). */
class PostgresAuditStoreTamperTest {

  private static final int EVENTS = 20;
  private static final CheckpointKeys KEYS = CheckpointKeys.generateInMemory();

  private DataSource db;
  private PostgresAuditStore store;

  @BeforeEach
  void writeLog() {
    db = Postgres.newDatabase();
    try (PostgresAuditStore writer = open()) {
      for (int i = 1; i <= EVENTS; i++) {
        writer.append(TestDrafts.prediction(i));
      }
    }
    store = open();
    Postgres.execute(
        db,
        "ALTER TABLE audit_events DISABLE TRIGGER protorad_audit_events_append_only",
        "ALTER TABLE audit_checkpoints DISABLE TRIGGER protorad_audit_checkpoints_append_only");
  }

  @AfterEach
  void close() {
    store.close();
  }

  @Test
  void verify_untouchedLog_isValid() {
    VerifyResult result = store.verify();

    assertThat(result.valid()).as(result.problem()).isTrue();
    assertThat(result.eventsChecked()).isEqualTo(EVENTS);
    assertThat(result.unsealedEvents()).isZero();
  }

  @Test
  void verifyPostgres_offlineWithPublicKeyOnly_findsTheSameProblem() {
    Postgres.execute(db, "DELETE FROM audit_events WHERE sequence = 12");

    VerifyResult result = AuditVerifier.verifyPostgres(db, KEYS.publicOnly(), 5);

    assertThat(result.valid()).isFalse();
    assertThat(result.firstBadSequence()).isEqualTo(12);
  }

  @Test
  void purgeExpired_overATamperedLog_isRefused() {
    Postgres.execute(db, "DELETE FROM audit_events WHERE sequence = 3");

    assertThatThrownBy(store::purgeExpired)
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("sequence 3");
  }

  @Test
  void verify_afterBitFlip_namesFirstBadSequence() {
    Postgres.execute(
        db,
        "UPDATE audit_events SET body = replace(body, 'svc-intake', 'svc-intakd')"
            + " WHERE sequence = 7");

    VerifyResult result = assertBad(7);
    assertThat(result.problem()).contains("hash");
  }

  @Test
  void verify_afterColumnEditedButBodyKept_namesEditedSequence() {
    Postgres.execute(db, "UPDATE audit_events SET principal = 'someone-else' WHERE sequence = 7");

    VerifyResult result = assertBad(7);
    assertThat(result.problem()).contains("columns");
  }

  @Test
  void verify_afterDeletedEvent_namesMissingSequence() {
    Postgres.execute(db, "DELETE FROM audit_events WHERE sequence = 7");

    assertBad(7);
  }

  @Test
  void verify_afterSwappedEvents_namesFirstSwappedSequence() throws SQLException {
    List<String> bodies = bodies();
    update(7, bodies.get(7));
    update(8, bodies.get(6));

    assertBad(7);
  }

  @Test
  void verify_afterTruncation_namesFirstMissingSequence() {
    Postgres.execute(db, "DELETE FROM audit_events WHERE sequence > 17");

    VerifyResult result = assertBad(18);
    assertThat(result.problem()).contains("truncated");
  }

  @Test
  void verify_afterAppendedGarbage_namesSequenceAfterLast() {
    Postgres.execute(
        db,
        "INSERT INTO audit_events (writer_id, sequence, event_time, action,"
            + " outcome, principal, on_behalf_of, order_id, patient_ref, adapter_version, break_glass,"
            + " record_hash, body) VALUES ('w1', 21, now(), 'x', 'ALLOWED', 'x', '', '', '', '', false,"
            + " 'x', '{\"garbage\":true}')");

    assertBad(EVENTS + 1);
  }

  @Test
  void verify_afterRecomputedChain_namesFirstSequenceAfterLastGenuineCheckpoint()
      throws SQLException {
    List<String> bodies = bodies();
    bodies.set(6, SegmentFiles.withPrincipal(bodies.get(6), "someone-else"));
    List<String> forged = SegmentFiles.rechain(bodies, 6);
    for (int i = 6; i < EVENTS; i++) {
      update(i + 1, forged.get(i));
    }

    VerifyResult result = assertBad(6);
    assertThat(result.problem()).contains("checkpoint");
  }

  @Test
  void verify_afterRecomputedChainWithCheckpointsSignedByAnotherKey_isDetected()
      throws SQLException {
    List<String> bodies = bodies();
    bodies.set(6, SegmentFiles.withPrincipal(bodies.get(6), "someone-else"));
    List<String> forged = SegmentFiles.rechain(bodies, 6);
    for (int i = 6; i < EVENTS; i++) {
      update(i + 1, forged.get(i));
    }
    resignCheckpoints(forged, CheckpointKeys.generateInMemory());

    VerifyResult result = assertBad(6);
    assertThat(result.problem()).contains("signature");
  }

  @Test
  void verify_afterCheckpointsDeleted_reportsMissingCheckpoints() {
    Postgres.execute(db, "DELETE FROM audit_checkpoints");

    assertBad(1);
  }

  private PostgresAuditStore open() {
    return PostgresAuditStore.builder(db)
        .writerId("w1")
        .checkpointKeys(KEYS)
        .checkpointInterval(5)
        .open();
  }

  private VerifyResult assertBad(long sequence) {
    VerifyResult result = store.verify();
    assertThat(result.valid()).isFalse();
    assertThat(result.firstBadWriter()).isEqualTo("w1");
    assertThat(result.firstBadSequence()).as(result.problem()).isEqualTo(sequence);
    return result;
  }

  private List<String> bodies() throws SQLException {
    List<String> bodies = new ArrayList<>();
    try (Connection c = db.getConnection();
        ResultSet rs =
            c.createStatement().executeQuery("SELECT body FROM audit_events ORDER BY sequence")) {
      while (rs.next()) {
        bodies.add(rs.getString(1));
      }
    }
    return bodies;
  }

  /** Rewrites a row from a record, keeping its columns consistent as a careful attacker would. */
  private void update(long sequence, String body) throws SQLException {
    AuditEvent e = EventCodec.parse(body);
    try (Connection c = db.getConnection();
        PreparedStatement s =
            c.prepareStatement(
                "UPDATE audit_events SET body = ?,"
                    + " record_hash = ?, principal = ?, order_id = ?, patient_ref = ?, on_behalf_of = ?"
                    + " WHERE writer_id = 'w1' AND sequence = ?")) {
      s.setString(1, body);
      s.setString(2, e.recordHash());
      s.setString(3, e.details().principal());
      s.setString(4, e.details().orderId());
      s.setString(5, e.details().patientRef());
      s.setString(6, e.details().onBehalfOf());
      s.setLong(7, sequence);
      s.executeUpdate();
    }
  }

  private void resignCheckpoints(List<String> forged, CheckpointKeys attacker) throws SQLException {
    try (Connection c = db.getConnection()) {
      for (Checkpoint cp : PostgresAuditStore.checkpoints(c, "w1")) {
        if (cp.sequence() < 7) {
          continue;
        }
        String hash = EventCodec.parse(forged.get((int) cp.sequence() - 1)).recordHash();
        Checkpoint fake =
            attacker.sign(
                new Checkpoint(
                    cp.kind(),
                    cp.writerId(),
                    cp.sequence(),
                    hash,
                    cp.time(),
                    cp.interval(),
                    "",
                    ""));
        try (PreparedStatement s =
            c.prepareStatement(
                "UPDATE audit_checkpoints SET body = ? WHERE writer_id = 'w1' AND sequence = ?")) {
          s.setString(1, fake.toJson());
          s.setLong(2, cp.sequence());
          s.executeUpdate();
        }
      }
    }
  }
}
