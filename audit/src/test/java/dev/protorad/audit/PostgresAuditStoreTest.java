package dev.protorad.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.protorad.testing.Postgres;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PostgresAuditStoreTest {

  private static final CheckpointKeys KEYS = CheckpointKeys.generateInMemory();

  private final DataSource db = Postgres.newDatabase();
  private final TestDrafts.MutableClock clock =
      new TestDrafts.MutableClock(Instant.parse("2026-01-05T08:00:00Z"));

  @Test
  void update_deleteAndTruncate_areRefusedByTheDatabase() {
    try (PostgresAuditStore store = builder("w1").open()) {
      store.append(TestDrafts.prediction(1));
    }

    assertThatThrownBy(() -> Postgres.execute(db, "UPDATE audit_events SET principal = 'x'"))
        .hasStackTraceContaining("audit tables are append-only: UPDATE refused");
    assertThatThrownBy(() -> Postgres.execute(db, "DELETE FROM audit_events"))
        .hasStackTraceContaining("audit tables are append-only: DELETE refused");
    assertThatThrownBy(() -> Postgres.execute(db, "TRUNCATE audit_events"))
        .hasStackTraceContaining("audit tables are append-only: TRUNCATE refused");
    assertThatThrownBy(() -> Postgres.execute(db, "DELETE FROM audit_checkpoints"))
        .hasStackTraceContaining("audit tables are append-only: DELETE refused");
    assertThat(count("audit_events")).isEqualTo(1);
  }

  @Test
  void purgeFunction_withoutAnchor_refusesToDelete() {
    try (PostgresAuditStore store = builder("w1").open()) {
      store.append(TestDrafts.prediction(1));
    }

    assertThatThrownBy(() -> Postgres.execute(db, "SELECT protorad_audit_purge('w1', 1, '00')"))
        .hasMessageContaining("no anchor");
    assertThat(count("audit_events")).isEqualTo(1);
  }

  @Test
  void aRoleWithDeleteGranted_cannotPassTheGuardBySettingTheSessionFlag() {
    try (PostgresAuditStore store = builder("w1").open()) {
      store.append(TestDrafts.prediction(1));
    }
    String schema = Postgres.schemaOf(db);
    DataSource app = Postgres.as(db, "app_" + schema);
    Postgres.execute(
        db, "GRANT SELECT, INSERT, DELETE ON audit_events, audit_checkpoints TO app_" + schema);

    assertThatThrownBy(
            () ->
                Postgres.execute(app, "SET protorad.audit_purge = on", "DELETE FROM audit_events"))
        .hasStackTraceContaining("append-only: DELETE refused");
    assertThatThrownBy(
            () ->
                Postgres.execute(
                    app, "SET protorad.audit_purge = on", "DELETE FROM audit_checkpoints"))
        .hasStackTraceContaining("append-only: DELETE refused");
    assertThat(count("audit_events")).isEqualTo(1);
  }

  @Test
  void purgeFunction_isNotExecutableByPublic_andATemporaryTableCannotStandInForTheAnchors() {
    try (PostgresAuditStore store = builder("w1").open()) {
      store.append(TestDrafts.prediction(1));
      store.append(TestDrafts.prediction(2));
    }
    String schema = Postgres.schemaOf(db);
    DataSource stranger = Postgres.as(db, "stranger_" + schema);
    DataSource app = Postgres.as(db, "server_" + schema);
    Postgres.execute(
        db,
        "GRANT SELECT, INSERT ON audit_events, audit_checkpoints TO server_" + schema,
        "GRANT EXECUTE ON FUNCTION protorad_audit_purge(text, bigint, text) TO server_" + schema);

    assertThatThrownBy(
            () -> Postgres.execute(stranger, "SELECT protorad_audit_purge('w1', 2, '00')"))
        .hasStackTraceContaining("permission denied");
    assertThatThrownBy(
            () ->
                Postgres.execute(
                    app,
                    "CREATE TEMPORARY TABLE audit_checkpoints"
                        + " (writer_id text, sequence bigint, kind text, body text)",
                    "INSERT INTO audit_checkpoints VALUES ('w1', 2, 'ANCHOR', '{}')",
                    "SELECT protorad_audit_purge('w1', 2, '00')"))
        .hasStackTraceContaining("no anchor");
    assertThat(count("audit_events")).isEqualTo(2);
  }

  @Test
  void appRole_withAnAnchorItInsertedItself_cannotPurge_withoutTheOwnersKey() {
    String schema = Postgres.schemaOf(db);
    String role = "app_" + schema;
    DataSource app = Postgres.as(db, role);
    AuditSchema.migrate(
        db,
        java.util.Optional.of(role),
        new AuditSchema.PurgePolicy(java.util.Optional.of(Duration.ZERO), List.of(KEYS)));
    try (PostgresAuditStore store = builder("w1").manageSchema(false).open()) {
      store.append(TestDrafts.prediction(1));
      store.append(TestDrafts.prediction(2));
    }
    String body = "{\"kind\":\"ANCHOR\",\"sequence\":2}";
    String forgedMac =
        CheckpointKeys.generateInMemory().anchorMac("w1", 2, body); // the attacker's own key

    assertThatThrownBy(
            () ->
                Postgres.execute(
                    app,
                    "INSERT INTO audit_checkpoints (writer_id, sequence, kind, body)"
                        + " VALUES ('w1', 2, 'ANCHOR', '"
                        + body
                        + "')",
                    "SELECT protorad_audit_purge('w1', 2, '" + forgedMac + "')"))
        .hasStackTraceContaining("with a valid MAC");
    assertThatThrownBy(() -> Postgres.execute(app, "SELECT mac_key FROM audit_purge_keys"))
        .hasStackTraceContaining("permission denied");
    assertThatThrownBy(
            () -> Postgres.execute(app, "UPDATE audit_purge_policy SET min_age = interval '0'"))
        .hasStackTraceContaining("permission denied");
    assertThat(count("audit_events")).isEqualTo(2);
  }

  @Test
  void purgeFunction_refusesEventsTheDatabaseReceivedLessThanItsFloorAgo_whateverTheirTime() {
    try (PostgresAuditStore store = builder("w1").purgeFloor(Duration.ofHours(1)).open()) {
      clock.advance(Duration.ofDays(-3650)); // written ten years back-dated
      store.append(TestDrafts.prediction(1));
      store.append(TestDrafts.prediction(2));
      clock.advance(Duration.ofDays(3650));

      assertThat(store.purgeExpired()).isZero();
    }
    // Even with a genuine anchor and its MAC, the function itself refuses.
    String body = "{\"kind\":\"ANCHOR\",\"sequence\":2}";
    String mac = KEYS.anchorMac("w1", 2, body);
    assertThatThrownBy(
            () ->
                Postgres.execute(
                    db,
                    "INSERT INTO audit_checkpoints (writer_id, sequence, kind, body)"
                        + " VALUES ('w1', 2, 'ANCHOR', '"
                        + body
                        + "')",
                    "SELECT protorad_audit_purge('w1', 2, '" + mac + "')"))
        .hasStackTraceContaining("younger than");
    assertThat(count("audit_events")).isEqualTo(2);

    // Past the floor, the same call goes through: the MAC is the one the function computes.
    Postgres.execute(db, "UPDATE audit_purge_policy SET min_age = interval '0'");
    Postgres.execute(db, "SELECT protorad_audit_purge('w1', 2, '" + mac + "')");
    assertThat(count("audit_events")).isZero();
  }

  @Test
  void purge_anEventBackDatedAfterYoungerOnes_doesNotCarryThemAway() {
    try (PostgresAuditStore store = builder("w1").retention(java.time.Period.ofDays(30)).open()) {
      store.append(TestDrafts.prediction(1)); // day 0
      clock.advance(java.time.Duration.ofDays(60));
      store.append(TestDrafts.prediction(2)); // day 60: young
      clock.advance(java.time.Duration.ofDays(-60));
      store.append(TestDrafts.prediction(3)); // back-dated to day 0 after a young event
      clock.advance(java.time.Duration.ofDays(70));

      long removed = store.purgeExpired();

      assertThat(removed).isEqualTo(1);
      assertThat(
              store.query(AuditQuery.builder().build()).events().stream()
                  .map(AuditEvent::sequence)
                  .toList())
          .containsExactly(2L, 3L);
    }
  }

  @Test
  void leastPrivilegeRole_runsTheStoreOnceTheOwnerMigrated_andCanOnlyInsertAndSelect() {
    String schema = Postgres.schemaOf(db);
    String role = "protorad_" + schema;
    DataSource app = Postgres.as(db, role);

    AuditSchema.Result migrated =
        AuditSchema.migrate(
            db,
            java.util.Optional.of(role),
            new AuditSchema.PurgePolicy(java.util.Optional.of(Duration.ZERO), List.of(KEYS)));
    try (PostgresAuditStore store =
        PostgresAuditStore.builder(app)
            .writerId("w1")
            .checkpointKeys(KEYS)
            .clock(clock)
            .retention(java.time.Period.ofDays(30))
            .manageSchema(false)
            .open()) {
      store.append(TestDrafts.prediction(1));
      clock.advance(java.time.Duration.ofDays(40));
      store.append(TestDrafts.prediction(2));
      store.seal();

      assertThat(store.purgeExpired()).isEqualTo(1);
      VerifyResult result = store.verify();
      assertThat(result.valid()).as(result.problem()).isTrue();
    }

    assertThat(migrated.version()).isEqualTo("2");
    assertThatThrownBy(() -> Postgres.execute(app, "DELETE FROM audit_events"))
        .hasStackTraceContaining("permission denied");
    assertThatThrownBy(() -> Postgres.execute(app, "UPDATE audit_events SET principal = 'x'"))
        .hasStackTraceContaining("permission denied");
    assertThatThrownBy(() -> Postgres.execute(app, "CREATE TABLE audit_other (i int)"))
        .hasStackTraceContaining("permission denied");
    assertThatThrownBy(
            () ->
                Postgres.execute(
                    app, "DROP TRIGGER protorad_audit_events_append_only ON audit_events"))
        .hasStackTraceContaining("must be owner");
    assertThat(count("audit_events")).isEqualTo(1);
  }

  @Test
  void open_withoutManagingTheSchema_onAnEmptySchema_saysToMigrateFirst() {
    assertThatThrownBy(() -> builder("w1").manageSchema(false).open())
        .isInstanceOf(AuditUnavailableException.class)
        .hasMessageContaining("protorad audit migrate");
  }

  @Test
  void writerReopenedOnAChainCutBehindItsWitnessedHead_reportsIt_andNoLaterHeadHidesIt(
      @TempDir Path dir) {
    Path witness = dir.resolve("witness");
    try (PostgresAuditStore w1 = builder("w1").witness(witness).open()) {
      appendAndSeal(w1, 8);
    }
    cutW1BackToThree();

    try (PostgresAuditStore w1 = builder("w1").witness(witness).open()) {
      assertThat(w1.problemAtOpen())
          .hasValueSatisfying(p -> assertThat(p).contains("ends at sequence 3", "sequence 8"));
      for (int i = 0; i < 20; i++) {
        w1.append(TestDrafts.prediction(100 + i));
      }
      w1.seal(); // heads at sequence 23 now: the cut record must outlive them

      VerifyResult result = w1.verify();
      assertThat(result.valid()).isFalse();
      assertThat(result.firstBadWriter()).isEqualTo("w1");
      assertThat(result.problem()).contains("found on reopening", "ends at sequence 3");
    }
  }

  @Test
  void witness_detectsADeletedChain_aCutBackChain_andAForgedWriter(@TempDir Path dir) {
    Path witness = dir.resolve("witness");
    try (PostgresAuditStore w1 = builder("w1").witness(witness).open();
        PostgresAuditStore w2 = builder("w2").witness(witness).open()) {
      for (int i = 0; i < 5; i++) {
        w1.append(TestDrafts.prediction(i));
        w2.append(TestDrafts.prediction(10 + i));
      }
      w1.seal();
      w2.seal();
      assertThat(w1.verify().valid()).as(w1.verify().problem()).isTrue();

      // A DBA removes writer w2 altogether: its chain and checkpoints are gone.
      asDba(
          "DELETE FROM audit_events WHERE writer_id = 'w2'",
          "DELETE FROM audit_checkpoints WHERE writer_id = 'w2'");
      VerifyResult deleted = w1.verify();
      assertThat(deleted.valid()).isFalse();
      assertThat(deleted.firstBadWriter()).isEqualTo("w2");
      assertThat(deleted.problem()).contains("does not reach its witnessed head");
    }
  }

  @Test
  void witness_detectsEventsUnderAWriterNoServerRan(@TempDir Path dir) {
    Path witness = dir.resolve("witness");
    try (PostgresAuditStore w1 = builder("w1").witness(witness).open()) {
      w1.append(TestDrafts.prediction(1));
      try (PostgresAuditStore ghost = builder("ghost").open()) {
        ghost.append(TestDrafts.prediction(2));
        ghost.seal();
      }

      VerifyResult forged = w1.verify();

      assertThat(forged.valid()).isFalse();
      assertThat(forged.firstBadWriter()).isEqualTo("ghost");
      assertThat(forged.problem()).contains("never witnessed");
    }
  }

  @Test
  void witness_detectsAChainCutBackTogetherWithItsCheckpoints(@TempDir Path dir) {
    Path witness = dir.resolve("witness");
    try (PostgresAuditStore w1 = builder("w1").witness(witness).open()) {
      appendAndSeal(w1, 8);
      cutW1BackToThree();
      assertThat(PostgresAuditStore.verify(db, KEYS, 1000).valid())
          .as("the chain alone looks like a crash tail")
          .isTrue();

      VerifyResult cut = w1.verify();

      assertThat(cut.valid()).isFalse();
      assertThat(cut.problem()).contains("witnessed head at sequence 8");
    }
  }

  private static void appendAndSeal(AuditStore store, int events) {
    for (int i = 0; i < events; i++) {
      store.append(TestDrafts.prediction(i));
    }
    store.seal();
  }

  /** What a DBA does to writer w1: its events and checkpoints after sequence 3 deleted. */
  private void cutW1BackToThree() {
    asDba(
        "DELETE FROM audit_events WHERE writer_id = 'w1' AND sequence > 3",
        "DELETE FROM audit_checkpoints WHERE writer_id = 'w1' AND sequence > 3");
  }

  /** Runs statements as a DBA would: triggers off, then back on. */
  private void asDba(String... statements) {
    List<String> all = new ArrayList<>();
    all.add("ALTER TABLE audit_events DISABLE TRIGGER ALL");
    all.add("ALTER TABLE audit_checkpoints DISABLE TRIGGER ALL");
    all.addAll(List.of(statements));
    all.add("ALTER TABLE audit_events ENABLE TRIGGER ALL");
    all.add("ALTER TABLE audit_checkpoints ENABLE TRIGGER ALL");
    Postgres.execute(db, all.toArray(String[]::new));
  }

  @Test
  void append_fromManyThreads_groupCommitsAndVerifies() throws Exception {
    try (PostgresAuditStore store = builder("w1").checkpointInterval(25).open()) {
      ExecutorService pool = Executors.newFixedThreadPool(8);
      List<Future<?>> done = new ArrayList<>();
      for (int t = 0; t < 8; t++) {
        int base = t * 50;
        done.add(pool.submit(() -> appendMany(store, base, 50)));
      }
      for (Future<?> f : done) {
        f.get();
      }
      pool.shutdown();

      VerifyResult result = store.verify();
      assertThat(result.valid()).as(result.problem()).isTrue();
      assertThat(result.eventsChecked()).isEqualTo(400);
    }
  }

  @Test
  void twoWriters_keepSeparateChainsAndBothVerify() {
    try (PostgresAuditStore a = builder("replica-a").open();
        PostgresAuditStore b = builder("replica-b").open()) {
      for (int i = 0; i < 5; i++) {
        a.append(TestDrafts.prediction(i));
        b.append(TestDrafts.prediction(i));
      }

      assertThat(b.append(TestDrafts.denied("x")).eventId()).isEqualTo("replica-b:6");
      assertThat(a.query(AuditQuery.builder().build()).events()).hasSize(11);
      VerifyResult result = a.verify();
      assertThat(result.valid()).as(result.problem()).isTrue();
      assertThat(result.eventsChecked()).isEqualTo(11);
    }
  }

  @Test
  void open_sameWriterIdTwice_isRefused() {
    try (PostgresAuditStore first = builder("w1").open()) {
      assertThatThrownBy(() -> builder("w1").open())
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("in use");
    }
  }

  @Test
  void reopen_continuesTheWritersChain() {
    AuditEvent before;
    try (PostgresAuditStore store = builder("w1").open()) {
      before = store.append(TestDrafts.prediction(1));
    }
    try (PostgresAuditStore store = builder("w1").open()) {
      AuditEvent after = store.append(TestDrafts.prediction(2));

      assertThat(after.sequence()).isEqualTo(2);
      assertThat(after.previousHash()).isEqualTo(before.recordHash());
    }
  }

  @Test
  void purgeExpired_removesOldRowsAndTheRestStillVerifies() {
    try (PostgresAuditStore store = builder("w1").checkpointInterval(10).open()) {
      appendMany(store, 0, 30);
      clock.advance(Duration.ofDays(365 * 6 + 10));
      appendMany(store, 30, 5);

      assertThat(store.purgeExpired()).isEqualTo(30);

      VerifyResult result = store.verify();
      assertThat(result.valid()).as(result.problem()).isTrue();
      assertThat(result.eventsChecked()).isEqualTo(5);
      assertThat(store.append(TestDrafts.prediction(99)).sequence()).isEqualTo(36);
      assertThat(store.purgeExpired()).isZero();
    }
    try (PostgresAuditStore store = builder("w1").open()) {
      assertThat(store.verify().valid()).isTrue();
    }
  }

  @Test
  void append_whenTheDatabaseIsDown_failsClosedAndResumesWhenItReturns(@TempDir Path data)
      throws Exception {
    EmbeddedPostgres pg = start(data, 0);
    int port = pg.getPort();
    PostgresAuditStore store =
        PostgresAuditStore.builder(pg.getPostgresDatabase())
            .writerId("w1")
            .checkpointKeys(KEYS)
            .open();
    try {
      AuditEvent first = store.append(TestDrafts.prediction(1));
      pg.close();

      assertThatThrownBy(() -> store.append(TestDrafts.prediction(2)))
          .isInstanceOf(AuditUnavailableException.class)
          .hasMessageContaining("unavailable");

      pg = start(data, port);
      AuditEvent next = store.append(TestDrafts.prediction(3));
      assertThat(next.sequence()).isEqualTo(2);
      assertThat(next.previousHash()).isEqualTo(first.recordHash());
      assertThat(store.verify().valid()).isTrue();
    } finally {
      store.close();
      pg.close();
    }
  }

  private static EmbeddedPostgres start(Path data, int port) throws java.io.IOException {
    return EmbeddedPostgres.builder()
        .setDataDirectory(data)
        .setCleanDataDirectory(false)
        .setPort(port)
        .setPGStartupWait(Duration.ofSeconds(60))
        .start();
  }

  private static void appendMany(AuditStore store, int base, int count) {
    for (int i = 0; i < count; i++) {
      store.append(TestDrafts.prediction(base + i));
    }
  }

  private long count(String table) {
    try (Connection c = db.getConnection();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT count(*) FROM " + table)) {
      rs.next();
      return rs.getLong(1);
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * A store on the test's clock. The database's own purge floor reads the database's clock, which
   * the test cannot move: it is off here and tested on its own.
   */
  private PostgresAuditStore.Builder builder(String writerId) {
    return PostgresAuditStore.builder(db)
        .writerId(writerId)
        .checkpointKeys(KEYS)
        .clock(clock)
        .purgeFloor(Duration.ZERO);
  }
}
