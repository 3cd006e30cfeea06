package dev.protorad.server.serving;

import static org.assertj.core.api.Assertions.assertThat;

import dev.protorad.clinical.catalog.Catalog;
import dev.protorad.server.serving.PredictionStore.ReviewedNote;
import dev.protorad.training.data.DatasetValidator;
import dev.protorad.training.data.Example;
import dev.protorad.training.data.Split;
import dev.protorad.training.data.ValidatedDataset;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.assertj.core.groups.Tuple;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FeedbackExportTest {

  @TempDir Path dir;
  private final SecureRandom random = new SecureRandom();
  private final NoteVault vault = NoteVault.of(Map.of("n1", new byte[32]), "n1", random);
  private final List<ReviewedNote> rows = new ArrayList<>();

  /** A prediction of ct-head-wo for {@code note}, reviewed as {@code label} (null: accepted). */
  private void reviewed(String note, String label) {
    String id = "p-" + rows.size();
    boolean accepted = label == null;
    StoredPrediction p =
        new StoredPrediction(
            id,
            "O-" + rows.size(),
            "",
            "ct-head-wo",
            0.4,
            "protocol@1",
            true,
            List.of(),
            List.of(),
            List.of(),
            Instant.EPOCH,
            "vm:" + rows.size(),
            Optional.of(
                new StoredPrediction.Review(
                    accepted, accepted ? "" : label, "dr.kim", Instant.EPOCH, "")));
    Optional<SealedNote> sealed =
        note == null ? Optional.empty() : Optional.of(vault.seal(id, note));
    rows.add(new ReviewedNote(p, sealed));
  }

  @Test
  void export_keepsOneCopyOfADuplicate_dropsConflicts_andTheFileValidates() {
    reviewed("r/o PE, CKD", "cta-chest-pe");
    reviewed("  R/O  pe, ckd ", "cta-chest-pe");
    reviewed("knee pain after fall", "mri-extremity-wo");
    reviewed("Knee pain after fall", "xr-ankle-3v");
    reviewed("headache, no trauma", null);
    reviewed(null, "cta-chest-pe");
    reviewed("shoulder pain", "no-such-protocol");

    FeedbackExport.Result result =
        FeedbackExport.of(Catalog.loadDefault(), Optional.of(vault)).export(rows);

    assertThat(result.examples())
        .extracting(Example::note, Example::label)
        .containsExactly(
            Tuple.tuple("r/o PE, CKD", "cta-chest-pe"),
            Tuple.tuple("headache, no trauma", "ct-head-wo"));
    assertThat(result.reviewed()).isEqualTo(7);
    assertThat(result.corrections()).isEqualTo(1);
    assertThat(result.accepted()).isEqualTo(1);
    assertThat(result.skipped())
        .containsEntry(FeedbackExport.Skip.DUPLICATE, 1)
        .containsEntry(FeedbackExport.Skip.CONFLICTING_LABELS, 2)
        .containsEntry(FeedbackExport.Skip.NO_RETAINED_NOTE, 1)
        .containsEntry(FeedbackExport.Skip.UNKNOWN_LABEL, 1)
        .containsEntry(FeedbackExport.Skip.NOT_AUTHENTIC, 0);
    Path file = dir.resolve("f.jsonl");
    result.writeJsonl(file);
    ValidatedDataset validated = DatasetValidator.of(Catalog.loadDefault()).validate(file, false);
    assertThat(validated.report().hasErrors()).isFalse();
    assertThat(validated.records())
        .hasSize(2)
        .allMatch(r -> r.split().equals(Optional.of(Split.TRAIN)));
  }

  @Test
  void export_withoutAVault_countsSealedNotesAsUnknownKey() {
    reviewed("r/o PE, CKD", "cta-chest-pe");

    FeedbackExport.Result result =
        FeedbackExport.of(Catalog.loadDefault(), Optional.empty()).export(rows);

    assertThat(result.examples()).isEmpty();
    assertThat(result.unreadable()).isEqualTo(1);
    assertThat(result.skipped()).containsEntry(FeedbackExport.Skip.UNKNOWN_KEY, 1);
  }
}
