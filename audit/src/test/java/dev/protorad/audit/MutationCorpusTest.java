package dev.protorad.audit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.protorad.testing.Postgres;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import javax.sql.DataSource;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The mutation corpus over both stores, each kept with a witness: every mutation an attacker
 * without the signing key can make is detected by verification. The file store's mutations are made
 * to its files, the PostgreSQL store's by a DBA with the triggers off.
 */
class MutationCorpusTest {

  private static final CheckpointKeys KEYS = CheckpointKeys.generateInMemory();
  private static final int EVENTS = 12;

  enum Mutation {
    FLIP_A_BIT,
    DELETE_AN_EVENT,
    REORDER_TWO_EVENTS,
    TRUNCATE_THE_TAIL_AND_ITS_CHECKPOINTS,
    ROLL_BACK_TO_AN_OLDER_PREFIX,
    FORGED_WRITER,
    DELETED_CHAIN
  }

  @TempDir Path dir;

  // ---- file store ----

  private FileAuditStore file(Path log) throws IOException {
    return FileAuditStore.builder(log)
        .writerId("w1")
        .checkpointKeys(KEYS)
        .checkpointInterval(5)
        .witness(dir.resolve("witness"))
        .open();
  }

  @ParameterizedTest(name = "file store: {0}")
  @EnumSource(Mutation.class)
  void fileStore_detectsEveryMutation(Mutation mutation) throws IOException {
    Path log = dir.resolve("audit");
    Path older = dir.resolve("older");
    try (FileAuditStore store = file(log)) {
      for (int i = 1; i <= EVENTS; i++) {
        store.append(TestDrafts.prediction(i));
        if (i == 6) {
          store.seal();
          copy(log, older);
        }
      }
      store.seal();
    }
    Path segment = SegmentFiles.onlySegment(log);
    List<String> records = new ArrayList<>(SegmentFiles.records(segment, Frames.EVENT_MAGIC));
    switch (mutation) {
      case FLIP_A_BIT ->
          SegmentFiles.flipBit(segment, SegmentFiles.payloadOffset(segment, 4) + 9, 1);
      case DELETE_AN_EVENT -> {
        records.remove(4);
        SegmentFiles.write(segment, Frames.EVENT_MAGIC, records);
      }
      case REORDER_TWO_EVENTS -> {
        Collections.swap(records, 3, 4);
        SegmentFiles.write(segment, Frames.EVENT_MAGIC, records);
      }
      case TRUNCATE_THE_TAIL_AND_ITS_CHECKPOINTS -> {
        SegmentFiles.write(segment, Frames.EVENT_MAGIC, records.subList(0, 3));
        Files.delete(log.resolve(Segments.CHECKPOINTS));
      }
      case ROLL_BACK_TO_AN_OLDER_PREFIX -> {
        deleteTree(log);
        copy(older, log);
      }
      case FORGED_WRITER -> {
        List<String> forged = SegmentFiles.rechain(records, 0);
        List<String> asGhost = new ArrayList<>();
        for (String r : forged) {
          asGhost.add(
              SegmentFiles.withPrincipal(
                  r.replace("\"writerId\":\"w1\"", "\"writerId\":\"ghost\""), "svc-ghost"));
        }
        SegmentFiles.write(segment, Frames.EVENT_MAGIC, asGhost);
      }
      case DELETED_CHAIN -> {
        deleteTree(log);
        Files.createDirectories(log);
      }
    }

    assertThat(fileProblem(log)).as(mutation.name()).isNotEmpty();
  }

  /**
   * What reopening and verifying the log reports: the writer's refusal to open a log another
   * writer's records claim, or verification's problem; empty when it passes as valid.
   */
  private String fileProblem(Path log) throws IOException {
    FileAuditStore store;
    try {
      store = file(log);
    } catch (IllegalStateException refused) {
      return refused.getMessage();
    }
    try (store) {
      VerifyResult result = store.verify();
      return result.valid() ? "" : result.problem();
    }
  }

  // ---- PostgreSQL store ----

  private PostgresAuditStore pg(DataSource db, String writer) {
    return PostgresAuditStore.builder(db)
        .writerId(writer)
        .checkpointKeys(KEYS)
        .checkpointInterval(5)
        .witness(dir.resolve("pg-witness"))
        .open();
  }

  @ParameterizedTest(name = "PostgreSQL store: {0}")
  @EnumSource(Mutation.class)
  void postgresStore_detectsEveryMutation(Mutation mutation) {
    DataSource db = Postgres.newDatabase();
    try (PostgresAuditStore w1 = pg(db, "w1");
        PostgresAuditStore w2 = pg(db, "w2")) {
      for (int i = 1; i <= EVENTS; i++) {
        w1.append(TestDrafts.prediction(i));
        w2.append(TestDrafts.prediction(100 + i));
      }
      w1.seal();
      w2.seal();
    }
    List<String> dba = new ArrayList<>();
    dba.add("ALTER TABLE audit_events DISABLE TRIGGER ALL");
    dba.add("ALTER TABLE audit_checkpoints DISABLE TRIGGER ALL");
    switch (mutation) {
      case FLIP_A_BIT ->
          dba.add(
              "UPDATE audit_events SET body = replace(body, 'svc-intake', 'svc-intakf')"
                  + " WHERE writer_id = 'w1' AND sequence = 5");
      case DELETE_AN_EVENT ->
          dba.add("DELETE FROM audit_events WHERE writer_id = 'w1' AND sequence = 5");
      case REORDER_TWO_EVENTS -> {
        dba.add("UPDATE audit_events SET sequence = -4 WHERE writer_id = 'w1' AND sequence = 4");
        dba.add("UPDATE audit_events SET sequence = 4 WHERE writer_id = 'w1' AND sequence = 5");
        dba.add("UPDATE audit_events SET sequence = 5 WHERE writer_id = 'w1' AND sequence = -4");
      }
      case TRUNCATE_THE_TAIL_AND_ITS_CHECKPOINTS, ROLL_BACK_TO_AN_OLDER_PREFIX -> {
        int keep = mutation == Mutation.TRUNCATE_THE_TAIL_AND_ITS_CHECKPOINTS ? 3 : 6;
        dba.add("DELETE FROM audit_events WHERE writer_id = 'w1' AND sequence > " + keep);
        dba.add("DELETE FROM audit_checkpoints WHERE writer_id = 'w1' AND sequence > " + keep);
      }
      case FORGED_WRITER -> {
        try (PostgresAuditStore ghost =
            PostgresAuditStore.builder(db).writerId("ghost").checkpointKeys(KEYS).open()) {
          ghost.append(TestDrafts.prediction(999));
          ghost.seal();
        }
      }
      case DELETED_CHAIN -> {
        dba.add("DELETE FROM audit_events WHERE writer_id = 'w2'");
        dba.add("DELETE FROM audit_checkpoints WHERE writer_id = 'w2'");
      }
    }
    dba.add("ALTER TABLE audit_events ENABLE TRIGGER ALL");
    dba.add("ALTER TABLE audit_checkpoints ENABLE TRIGGER ALL");
    Postgres.execute(db, dba.toArray(String[]::new));

    try (PostgresAuditStore w1 = pg(db, "w1")) {
      VerifyResult result = w1.verify();
      assertThat(result.valid()).as(mutation + ": " + result.problem()).isFalse();
    }
  }

  private static void copy(Path from, Path to) throws IOException {
    Files.createDirectories(to);
    try (var files = Files.list(from)) {
      for (Path f : files.toList()) {
        if (!f.getFileName().toString().equals(Segments.LOCK)) {
          Files.copy(f, to.resolve(f.getFileName()));
        }
      }
    }
  }

  private static void deleteTree(Path p) throws IOException {
    try (var files = Files.list(p)) {
      for (Path f : files.toList()) {
        Files.delete(f);
      }
    }
    Files.delete(p);
  }
}
