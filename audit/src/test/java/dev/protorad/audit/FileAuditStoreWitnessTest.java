package dev.protorad.audit;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Cutting a log back together with its checkpoints looks like a crash to the log alone; the
 * witnessed head, kept elsewhere, tells the two apart.
 */
class FileAuditStoreWitnessTest {

  private static final CheckpointKeys KEYS = CheckpointKeys.generateInMemory();
  private static final int EVENTS = 20;

  @TempDir Path dir;
  private Path log;
  private Path witness;

  @BeforeEach
  void writeLog() throws IOException {
    log = dir.resolve("audit");
    witness = dir.resolve("witness");
    try (FileAuditStore store = open(true)) {
      for (int i = 1; i <= EVENTS; i++) {
        store.append(TestDrafts.prediction(i));
      }
      store.seal();
    }
  }

  private FileAuditStore open(boolean withWitness) throws IOException {
    FileAuditStore.Builder b = FileAuditStore.builder(log).writerId("w1").checkpointKeys(KEYS);
    return (withWitness ? b.witness(witness) : b).open();
  }

  /** What an attacker with the files but not the key does: keep 5 events, drop the checkpoints. */
  private void cutBackToFiveEventsAndDropCheckpoints() throws IOException {
    Path segment = SegmentFiles.onlySegment(log);
    List<String> records = new ArrayList<>(SegmentFiles.records(segment, Frames.EVENT_MAGIC));
    SegmentFiles.write(segment, Frames.EVENT_MAGIC, records.subList(0, 5));
    Files.delete(log.resolve(Segments.CHECKPOINTS));
  }

  @Test
  void witnessedHead_isPublished_andAnUntouchedLogVerifies() throws IOException {
    assertThat(witness.resolve("w1.head")).exists();
    try (FileAuditStore store = open(true)) {
      VerifyResult result = store.verify();
      assertThat(result.valid()).as(result.problem()).isTrue();
    }
  }

  @Test
  void cutBackLog_withoutAWitness_isResealedAndPassesAsACrash() throws IOException {
    cutBackToFiveEventsAndDropCheckpoints();

    try (FileAuditStore store = open(false)) {
      assertThat(store.verify().valid()).isTrue();
    }
  }

  @Test
  void cutBackLog_withTheWitness_isNotResealed_andVerificationNamesTheWitnessedHead()
      throws IOException {
    cutBackToFiveEventsAndDropCheckpoints();

    try (FileAuditStore store = open(true)) {
      VerifyResult result = store.verify();

      assertThat(result.valid()).isFalse();
      assertThat(result.problem()).contains("witnessed head at sequence " + EVENTS);
      assertThat(result.firstBadSequence()).isEqualTo(EVENTS);
    }
  }

  @Test
  void cutBackLog_writtenPastItsOldHeadAndSealed_stillFailsVerification_fromTheCutRecord()
      throws IOException {
    cutBackToFiveEventsAndDropCheckpoints();

    try (FileAuditStore store = open(true)) {
      assertThat(store.problemAtOpen())
          .hasValueSatisfying(
              p -> assertThat(p).contains("ends at sequence 5", "head at sequence 20"));
      for (int i = 0; i < 2 * EVENTS; i++) {
        store.append(TestDrafts.prediction(200 + i));
      }
      store.seal(); // a new head past the old one: the cut record must outlive it
    }

    try (FileAuditStore store = open(true)) {
      VerifyResult result = store.verify();

      assertThat(store.problemAtOpen()).isEmpty();
      assertThat(result.valid()).isFalse();
      assertThat(result.problem())
          .contains("found on reopening", "ends at sequence 5 before its witnessed head");
    }
    assertThat(witness.resolve("w1.cut")).exists();
  }

  @Test
  void rolledBackToAnOlderCopy_isDetected() throws IOException {
    Path older = dir.resolve("older");
    copy(log, older);
    try (FileAuditStore store = open(true)) {
      for (int i = 0; i < 5; i++) {
        store.append(TestDrafts.prediction(100 + i));
      }
      store.seal();
    }
    deleteTree(log);
    copy(older, log);

    try (FileAuditStore store = open(true)) {
      VerifyResult result = store.verify();

      assertThat(result.valid()).isFalse();
      assertThat(result.problem()).contains("witnessed head at sequence " + (EVENTS + 5));
    }
  }

  private static void copy(Path from, Path to) throws IOException {
    Files.createDirectories(to);
    try (var files = Files.list(from)) {
      for (Path f : files.toList()) {
        Files.copy(f, to.resolve(f.getFileName()));
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
