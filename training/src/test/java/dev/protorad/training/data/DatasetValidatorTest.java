package dev.protorad.training.data;

import static org.assertj.core.api.Assertions.assertThat;

import dev.protorad.clinical.catalog.Catalog;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.Test;

class DatasetValidatorTest {

  private static final String CANARY = "CANARY-PHI-7731";
  private static final DatasetValidator VALIDATOR = DatasetValidator.of(Catalog.loadDefault());

  @Test
  void validate_everyErrorKind_reportedWithItsLineNumber() {
    byte[] jsonl =
        lines(
            "{\"note\": \""
                + CANARY
                + " r/o PE, SOB\", \"label\": \"cta-chest-pe\", \"split\": \"train\"}",
            "{\"note\": \"" + CANARY + " broken\", ",
            "{\"note\": \"" + CANARY + " no label\"}",
            "{\"note\": \"" + CANARY + " knee\", \"label\": \"mri-knee\"}",
            "{\"note\": \"   \", \"label\": \"ct-head-wo\"}",
            "{\"note\": \"" + "x".repeat(20_001) + "\", \"label\": \"ct-head-wo\"}",
            "",
            "{\"note\": 42, \"label\": \"ct-head-wo\"}",
            "{\"note\": \"" + CANARY + " split\", \"label\": \"ct-head-wo\", \"split\": \"dev\"}",
            "{\"note\": \"  "
                + CANARY.toLowerCase(Locale.ROOT)
                + "   R/O PE,  SOB \", \"label\": \"cta-chest-pe\"}",
            "[1, 2]");
    byte[] withBadUtf8 = concat(jsonl, new byte[] {'{', '"', 'n', (byte) 0xC3, (byte) 0x28, '\n'});

    ValidationReport report = VALIDATOR.validate(withBadUtf8, false).report();

    assertThat(report.errors())
        .extracting(ValidationError::line, ValidationError::kind)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple(2, ErrorKind.BAD_JSON),
            org.assertj.core.groups.Tuple.tuple(3, ErrorKind.MISSING_FIELD),
            org.assertj.core.groups.Tuple.tuple(4, ErrorKind.UNKNOWN_LABEL),
            org.assertj.core.groups.Tuple.tuple(5, ErrorKind.EMPTY_NOTE),
            org.assertj.core.groups.Tuple.tuple(6, ErrorKind.OVERSIZED_NOTE),
            org.assertj.core.groups.Tuple.tuple(8, ErrorKind.WRONG_TYPE),
            org.assertj.core.groups.Tuple.tuple(9, ErrorKind.INVALID_SPLIT),
            org.assertj.core.groups.Tuple.tuple(10, ErrorKind.DUPLICATE),
            org.assertj.core.groups.Tuple.tuple(11, ErrorKind.BAD_JSON),
            org.assertj.core.groups.Tuple.tuple(12, ErrorKind.INVALID_UTF8));
    assertThat(report.lines()).isEqualTo(11);
    assertThat(report.validRecords()).isEqualTo(1);
    assertThat(report.counts())
        .containsEntry(ErrorKind.BAD_JSON, 2)
        .containsEntry(ErrorKind.DUPLICATE, 1)
        .containsEntry(ErrorKind.INVALID_UTF8, 1);
    assertThat(report.errors(ErrorKind.DUPLICATE).get(0).message())
        .isEqualTo("duplicate of line 1");
    assertThat(report.errors(ErrorKind.UNKNOWN_LABEL).get(0).message()).contains("'mri-knee'");
    assertThat(report.errors(ErrorKind.OVERSIZED_NOTE).get(0).message())
        .contains("20001")
        .contains("20000");
  }

  @Test
  void validate_conflictingLabels_reportsBothLines() {
    byte[] jsonl =
        lines(
            "{\"note\": \"RLQ pain, r/o appy\", \"label\": \"ct-abdomen-pelvis-w\"}",
            "{\"note\": \"flank pain, r/o stone\", \"label\": \"ct-abdomen-pelvis-wo\"}",
            "{\"note\": \"rlq pain,  R/O APPY \", \"label\": \"us-abdomen-rlq\"}");

    ValidatedDataset result = VALIDATOR.validate(jsonl, true);

    assertThat(result.report().errors(ErrorKind.CONFLICTING_LABEL))
        .extracting(ValidationError::line, ValidationError::message)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple(1, "same note as line 3 with a different label"),
            org.assertj.core.groups.Tuple.tuple(3, "same note as line 1 with a different label"));
    assertThat(result.records()).extracting(DatasetRecord::line).containsExactly(2);
    assertThat(result.report().skippedLines()).isEqualTo(2);
  }

  @Test
  void validate_strictModeWithErrors_leavesNoRecords() {
    byte[] jsonl =
        lines(
            "{\"note\": \"r/o PE\", \"label\": \"cta-chest-pe\"}",
            "{\"note\": \"knee\", \"label\": \"mri-knee\"}");

    ValidatedDataset strict = VALIDATOR.validate(jsonl, false);
    ValidatedDataset skipping = VALIDATOR.validate(jsonl, true);

    assertThat(strict.report().hasErrors()).isTrue();
    assertThat(strict.records()).isEmpty();
    assertThat(strict.report().skippedLines()).isZero();
    assertThat(skipping.records()).extracting(DatasetRecord::line).containsExactly(1);
    assertThat(skipping.report().skippedLines()).isEqualTo(1);
    assertThat(skipping.report().render(10))
        .contains("skipped lines: 1")
        .contains("UNKNOWN_LABEL=1");
  }

  @Test
  void validate_cleanFile_returnsTrimmedExamplesWithSplits() {
    byte[] jsonl =
        lines(
            "{\"note\": \"  r/o PE  \", \"label\": \"cta-chest-pe\", \"split\": \"test\"}",
            "{\"note\": \"fall, head strike\", \"label\": \"ct-head-wo\"}");

    ValidatedDataset result = VALIDATOR.validate(jsonl, false);

    assertThat(result.report().hasErrors()).isFalse();
    assertThat(result.examples())
        .containsExactly(
            new Example("r/o PE", "cta-chest-pe"), new Example("fall, head strike", "ct-head-wo"));
    assertThat(result.records().get(0).split()).contains(Split.TEST);
    assertThat(result.records().get(1).split()).isEmpty();
  }

  @Test
  void validate_reportAndErrors_neverContainNoteText() {
    byte[] jsonl =
        lines(
            "{\"note\": \"" + CANARY + "\", \"label\": \"" + CANARY + " bad label\"}",
            "{\"note\": \"" + CANARY + "\", \"label\": \"ct-head-wo\"}",
            "{\"note\": \"" + CANARY + "\", \"label\": \"ct-head-w-wo\"}",
            "{\"note\": \"" + CANARY + "\", \"label\": \"ct-head-wo\"",
            "{\"note\": \""
                + CANARY
                + "\", \"label\": \"ct-head-wo\", \"split\": \""
                + CANARY
                + "\"}");

    ValidationReport report = VALIDATOR.validate(jsonl, true).report();

    assertThat(report.errors()).hasSizeGreaterThanOrEqualTo(4);
    assertThat(report.render(100))
        .doesNotContain(CANARY)
        .doesNotContain(CANARY.toLowerCase(Locale.ROOT));
    assertThat(report.errors().toString()).doesNotContain(CANARY);
  }

  @Test
  void validate_countsPerKind_areSummed() {
    byte[] jsonl = lines("not json", "{\"label\": \"ct-head-wo\"}", "nope", "{\"note\": \"x\"}");

    Map<ErrorKind, Integer> counts = VALIDATOR.validate(jsonl, false).report().counts();

    assertThat(counts)
        .containsExactlyInAnyOrderEntriesOf(
            Map.of(ErrorKind.BAD_JSON, 2, ErrorKind.MISSING_FIELD, 2));
  }

  @Test
  void bySplit_keepsAGivenSplit_andDrawsTheRestFromTheNormalizedNote() {
    byte[] jsonl =
        lines(
            "{\"note\": \"RLQ pain, r/o appy\", \"label\": \"ct-abdomen-pelvis-w\","
                + " \"split\": \"test\"}",
            "{\"note\": \"flank pain, r/o stone\", \"label\": \"ct-abdomen-pelvis-wo\"}",
            "{\"note\": \"thunderclap headache\", \"label\": \"ct-head-wo\"}");

    Map<Split, List<Example>> splits = VALIDATOR.validate(jsonl, false).bySplit();

    assertThat(splits).containsOnlyKeys(Split.values());
    assertThat(splits.get(Split.TEST)).extracting(Example::note).contains("RLQ pain, r/o appy");
    assertThat(splits.get(Split.byHash(NearDuplicates.normalize("flank pain, r/o stone"))))
        .extracting(Example::note)
        .contains("flank pain, r/o stone");
    assertThat(splits.values().stream().mapToInt(List::size).sum()).isEqualTo(3);
  }

  private static byte[] lines(String... lines) {
    return (String.join("\n", List.of(lines)) + "\n").getBytes(StandardCharsets.UTF_8);
  }

  private static byte[] concat(byte[] a, byte[] b) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(a);
    out.writeBytes(b);
    return out.toByteArray();
  }
}
