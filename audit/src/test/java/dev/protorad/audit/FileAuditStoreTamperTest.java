package dev.protorad.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Each way of tampering with a closed segment store is detected and located. */
class FileAuditStoreTamperTest {

  private static final int EVENTS = 20;
  private static final CheckpointKeys KEYS = CheckpointKeys.generateInMemory();

  @TempDir Path dir;
  private Path segment;

  @BeforeEach
  void writeLog() throws IOException {
    try (FileAuditStore store = open()) {
      for (int i = 1; i <= EVENTS; i++) {
        store.append(TestDrafts.prediction(i));
      }
    }
    segment = SegmentFiles.onlySegment(dir);
  }

  @Test
  void verify_untouchedLog_isValidAndFullySealed() {
    VerifyResult result = AuditVerifier.verifyDirectory(dir, KEYS.publicOnly(), 5);

    assertThat(result.valid()).as(result.problem()).isTrue();
    assertThat(result.eventsChecked()).isEqualTo(EVENTS);
    assertThat(result.checkpointsChecked()).isEqualTo(4);
    assertThat(result.unsealedEvents()).isZero();
  }

  @Test
  void purgeExpired_overATamperedLog_isRefused() throws IOException {
    SegmentFiles.flipBit(segment, SegmentFiles.payloadOffset(segment, 2) + 40, 0);

    try (FileAuditStore store = open()) {
      assertThatThrownBy(store::purgeExpired)
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("sequence 3");
    }
  }

  @Test
  void verify_afterBitFlip_namesFirstBadSequence() throws IOException {
    SegmentFiles.flipBit(segment, SegmentFiles.payloadOffset(segment, 6) + 40, 2);

    assertBad(7);
  }

  @Test
  void verify_afterEditWithValidFrame_namesEditedSequence() throws IOException {
    List<String> records = records();
    records.set(6, SegmentFiles.withPrincipal(records.get(6), "someone-else"));
    rewrite(records);

    VerifyResult result = assertBad(7);
    assertThat(result.problem()).contains("hash");
  }

  @Test
  void verify_afterDeletedEvent_namesMissingSequence() throws IOException {
    List<String> records = records();
    records.remove(6);
    rewrite(records);

    assertBad(7);
  }

  @Test
  void verify_afterSwappedEvents_namesFirstSwappedSequence() throws IOException {
    List<String> records = records();
    Collections.swap(records, 6, 7);
    rewrite(records);

    assertBad(7);
  }

  @Test
  void verify_afterTruncation_namesFirstMissingSequence() throws IOException {
    List<String> records = records();
    rewrite(new ArrayList<>(records.subList(0, 17)));

    VerifyResult result = assertBad(18);
    assertThat(result.problem()).contains("truncated");
  }

  @Test
  void verify_afterAppendedGarbage_namesSequenceAfterLast() throws IOException {
    SegmentFiles.append(
        segment, "{\"sequence\":21,\"junk\":true}\n".getBytes(StandardCharsets.UTF_8));

    assertBad(EVENTS + 1);
  }

  @Test
  void verify_afterRecomputedChain_namesFirstSequenceAfterLastGenuineCheckpoint()
      throws IOException {
    List<String> records = records();
    records.set(6, SegmentFiles.withPrincipal(records.get(6), "someone-else"));
    rewrite(SegmentFiles.rechain(records, 6));

    VerifyResult result = assertBad(6);
    assertThat(result.problem()).contains("checkpoint");
  }

  @Test
  void verify_afterRecomputedChainWithCheckpointsSignedByAnotherKey_isDetected()
      throws IOException {
    List<String> records = records();
    records.set(6, SegmentFiles.withPrincipal(records.get(6), "someone-else"));
    List<String> forged = SegmentFiles.rechain(records, 6);
    rewrite(forged);
    resignCheckpoints(forged, CheckpointKeys.generateInMemory());

    VerifyResult result = assertBad(6);
    assertThat(result.problem()).contains("signature");
  }

  @Test
  void verify_afterCheckpointFileDeleted_reportsMissingCheckpoints() throws IOException {
    Files.delete(dir.resolve(Segments.CHECKPOINTS));

    VerifyResult result = assertBad(1);
    assertThat(result.problem()).contains("no signed checkpoint");
  }

  @Test
  void open_afterCheckpointFileDeleted_doesNotSealTheUnattestedEvents() throws IOException {
    Files.delete(dir.resolve(Segments.CHECKPOINTS));

    // One event per flush: a crash can leave at most interval + 1 = 6 events unsealed, not 20.
    try (FileAuditStore store =
        FileAuditStore.builder(dir)
            .writerId("w1")
            .checkpointKeys(KEYS)
            .checkpointInterval(5)
            .groupCommit(false)
            .open()) {
      VerifyResult result = store.verify();

      assertThat(result.valid()).isFalse();
      assertThat(result.firstBadSequence()).isEqualTo(1);
    }
  }

  @Test
  void verify_withAnotherTrustedKey_rejectsEveryCheckpoint() {
    VerifyResult result =
        AuditVerifier.verifyDirectory(dir, CheckpointKeys.generateInMemory().publicOnly(), 5);

    assertThat(result.valid()).isFalse();
    assertThat(result.firstBadSequence()).isEqualTo(1);
  }

  @Test
  void open_afterAppendedGarbage_keepsEvidenceAndContinuesInNewSegment() throws IOException {
    SegmentFiles.append(segment, "garbage garbage garbage".getBytes(StandardCharsets.UTF_8));

    try (FileAuditStore store = open()) {
      AuditEvent next = store.append(TestDrafts.prediction(99));

      assertThat(next.sequence()).isEqualTo(EVENTS + 1);
      assertThat(Segments.list(dir)).hasSize(2);
      assertThat(store.verify().firstBadSequence()).isEqualTo(EVENTS + 1);
    }
  }

  private FileAuditStore open() throws IOException {
    return FileAuditStore.builder(dir)
        .writerId("w1")
        .checkpointKeys(KEYS)
        .checkpointInterval(5)
        .open();
  }

  private List<String> records() throws IOException {
    return new ArrayList<>(SegmentFiles.records(segment, Frames.EVENT_MAGIC));
  }

  private void rewrite(List<String> records) throws IOException {
    SegmentFiles.write(segment, Frames.EVENT_MAGIC, records);
  }

  private void resignCheckpoints(List<String> forged, CheckpointKeys attacker) throws IOException {
    Path file = dir.resolve(Segments.CHECKPOINTS);
    List<String> checkpoints = new ArrayList<>();
    for (String json : SegmentFiles.records(file, Frames.CHECKPOINT_MAGIC)) {
      Checkpoint c = Checkpoint.parse(json);
      if (c.sequence() < 7) {
        checkpoints.add(json);
      } else {
        String hash = EventCodec.parse(forged.get((int) c.sequence() - 1)).recordHash();
        Checkpoint unsigned =
            new Checkpoint(
                c.kind(), c.writerId(), c.sequence(), hash, c.time(), c.interval(), "", "");
        checkpoints.add(attacker.sign(unsigned).toJson());
      }
    }
    SegmentFiles.write(file, Frames.CHECKPOINT_MAGIC, checkpoints);
  }

  private VerifyResult assertBad(long sequence) {
    VerifyResult result = AuditVerifier.verifyDirectory(dir, KEYS.publicOnly(), 5);
    assertThat(result.valid()).isFalse();
    assertThat(result.firstBadWriter()).isEqualTo("w1");
    assertThat(result.firstBadSequence()).as(result.problem()).isEqualTo(sequence);
    return result;
  }
}
