package dev.protorad.training.data;

import static org.assertj.core.api.Assertions.assertThat;

import dev.protorad.clinical.catalog.Catalog;
import dev.protorad.clinical.catalog.Protocol;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The written corpus and calibration set under {@code data/} stay valid, broad and apart from each
 * other and from the evaluation sets.
 */
class WrittenCorpusTest {

  private static final Path ROOT = Path.of("..");
  private static final Path NOTES = ROOT.resolve(WrittenCorpus.DEFAULT_DIR);
  private static final Path CALIBRATION_NOTES = ROOT.resolve(WrittenCorpus.CALIBRATION_DIR);
  private static final List<Path> EVALUATION_SETS =
      List.of(
          ROOT.resolve("eval/independent-notes.jsonl"),
          ROOT.resolve("eval/independent-notes-2.jsonl"));
  private static final Set<String> STYLES =
      Set.of(
          "ed",
          "referral",
          "consult",
          "triage",
          "rfe",
          "dictation",
          "caps",
          "abbrev",
          "negated",
          "multiproblem",
          "wrongexam",
          "inpatient",
          "specialist");
  private static final double NEAR = 0.5;
  private static final Catalog CATALOG = Catalog.loadDefault();

  private static ValidatedDataset corpus;
  private static ValidatedDataset calibration;

  @BeforeAll
  static void read() {
    corpus = WrittenCorpus.read(NOTES, CATALOG);
    calibration = WrittenCorpus.read(CALIBRATION_NOTES, CATALOG);
  }

  @Test
  void validates_withAtLeast100NotesForEveryCatalogProtocol() {
    assertValidWithEveryProtocol(corpus, 100);
    assertThat(corpus.examples()).hasSizeGreaterThanOrEqualTo(6000);
  }

  @Test
  void eachFileHoldsOneProtocol_inEveryWritingStyle() throws IOException {
    for (Map.Entry<Path, Map<String, Integer>> file : stylesPerFile(NOTES).entrySet()) {
      Map<String, Integer> styles = file.getValue();
      assertThat(styles.keySet())
          .as(file.getKey().toString())
          .containsExactlyInAnyOrderElementsOf(STYLES);
      assertThat(styles.values()).as(file.getKey().toString()).allMatch(n -> n >= 5);
    }
  }

  private static void assertValidWithEveryProtocol(ValidatedDataset set, int atLeast) {
    assertThat(set.report().hasErrors()).as(set.report().render(10)).isFalse();
    Map<String, Long> perLabel =
        set.examples().stream()
            .collect(Collectors.groupingBy(Example::label, Collectors.counting()));
    assertThat(perLabel.keySet())
        .containsExactlyInAnyOrderElementsOf(
            CATALOG.protocols().stream().map(Protocol::id).toList());
    assertThat(perLabel.values()).allMatch(n -> n >= atLeast);
  }

  /** Per file of {@code dir}, how many notes of each style; every label is the file's protocol. */
  private static Map<Path, Map<String, Integer>> stylesPerFile(Path dir) throws IOException {
    var json = new com.fasterxml.jackson.databind.ObjectMapper();
    Map<Path, Map<String, Integer>> out = new HashMap<>();
    for (Path f : WrittenCorpus.files(dir)) {
      String id = f.getFileName().toString().replace(".jsonl", "");
      Map<String, Integer> styles = out.computeIfAbsent(f, k -> new HashMap<>());
      for (String line : Files.readAllLines(f)) {
        var node = json.readTree(line);
        assertThat(node.path("label").asText()).as(f.toString()).isEqualTo(id);
        styles.merge(node.path("style").asText(), 1, Integer::sum);
      }
    }
    return out;
  }

  @Test
  void noTwoCorpusNotes_areNearDuplicates() {
    assertThat(nearDuplicates(corpus, NearDuplicates.index(NEAR))).isEmpty();
  }

  @Test
  void noCorpusNote_isANearDuplicateOfAnEvaluationNote() {
    NearDuplicates index = NearDuplicates.index(NEAR);
    corpus.examples().forEach(e -> index.add(e.note(), 0));
    List<String> close = new ArrayList<>();
    for (Path set : EVALUATION_SETS) {
      DatasetValidator.of(CATALOG).validate(set, false).examples().stream()
          .map(Example::note)
          .filter(n -> index.hasNearDuplicateOutside(n, 1))
          .forEach(close::add);
    }

    assertThat(close).isEmpty();
  }

  @Test
  void calibrationSet_validates_withAtLeast8NotesForEveryProtocol_inTheCorpusStyles()
      throws IOException {
    assertValidWithEveryProtocol(calibration, 8);
    for (Map.Entry<Path, Map<String, Integer>> file : stylesPerFile(CALIBRATION_NOTES).entrySet()) {
      assertThat(STYLES).as(file.getKey().toString()).containsAll(file.getValue().keySet());
    }
  }

  @Test
  void noCalibrationNote_isANearDuplicateOfAnotherOrOfACorpusOrEvaluationNote() {
    NearDuplicates index = NearDuplicates.index(NEAR);
    corpus.examples().forEach(e -> index.add(e.note(), -1));
    for (Path set : EVALUATION_SETS) {
      DatasetValidator.of(CATALOG)
          .validate(set, false)
          .examples()
          .forEach(e -> index.add(e.note(), -1));
    }

    assertThat(nearDuplicates(calibration, index)).isEmpty();
  }

  /** The notes of {@code set} that are near-duplicates of another note of {@code index}. */
  private static List<String> nearDuplicates(ValidatedDataset set, NearDuplicates index) {
    List<String> notes = set.examples().stream().map(Example::note).toList();
    for (int i = 0; i < notes.size(); i++) {
      index.add(notes.get(i), i);
    }
    List<String> close = new ArrayList<>();
    for (int i = 0; i < notes.size(); i++) {
      if (index.hasNearDuplicateOutside(notes.get(i), i)) {
        close.add(notes.get(i));
      }
    }
    return close;
  }

  @Test
  void corpusCommand_putsEveryCalibrationNoteInTheValidationSplit(@TempDir Path dir)
      throws IOException {
    Path out = dir.resolve("corpus.jsonl");

    Map<Split, Integer> counts =
        WrittenCorpus.write(corpus.examples(), calibration.examples(), out);

    List<DatasetRecord> records = DatasetValidator.of(CATALOG).validate(out, false).records();
    int n = corpus.examples().size();
    assertThat(records).hasSize(n + calibration.examples().size());
    assertThat(records.subList(n, records.size()))
        .allMatch(r -> r.split().orElseThrow() == Split.VALIDATION);
    assertThat(counts.values().stream().mapToInt(Integer::intValue).sum())
        .isEqualTo(records.size());
  }

  @Test
  void corpusCommand_writesEveryNoteOnceWithAHashSplit(@TempDir Path dir) throws IOException {
    Path out = dir.resolve("corpus.jsonl");

    Map<Split, Integer> counts = WrittenCorpus.write(corpus.examples(), out);

    ValidatedDataset written = DatasetValidator.of(CATALOG).validate(out, false);
    assertThat(written.report().hasErrors()).isFalse();
    assertThat(written.records()).hasSize(corpus.examples().size());
    assertThat(written.records())
        .allMatch(r -> r.split().orElseThrow() == Split.byHash(r.example().note()));
    int n = corpus.examples().size();
    assertThat(counts.get(Split.VALIDATION)).isBetween(n / 20, n / 5);
    assertThat(counts.get(Split.TEST)).isBetween(n / 20, n / 5);
  }

  @Test
  void referenceText_coversEveryProtocol_andTheGlossaryHoldsAThousandTerms() throws IOException {
    String reference = Files.readString(ROOT.resolve("data/reference/protocols.md"));
    for (Protocol p : CATALOG.protocols()) {
      assertThat(reference).contains("## " + p.id() + " — " + p.name());
    }
    List<String> glossary = Files.readAllLines(ROOT.resolve("data/reference/glossary.tsv"));
    Set<String> terms = new HashSet<>();
    for (String line : glossary.subList(1, glossary.size())) {
      String[] parts = line.split("\t");
      assertThat(parts).as(line).hasSize(2);
      assertThat(parts[1]).as(line).isNotBlank();
      terms.add(parts[0].toLowerCase(Locale.ROOT));
    }
    assertThat(terms).hasSize(glossary.size() - 1).hasSizeGreaterThanOrEqualTo(1000);
  }
}
