package dev.protorad.training.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.protorad.clinical.catalog.Catalog;
import dev.protorad.clinical.catalog.Protocol;
import dev.protorad.clinical.catalog.Rule;
import dev.protorad.clinical.catalog.RuleChecker;
import dev.protorad.clinical.catalog.RuleFlag;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.Predicate;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SyntheticNotesTest {

  private static final Catalog CATALOG = Catalog.loadDefault();
  private static final int N = 1200;
  private static final Pattern ABBREVIATION =
      Pattern.compile("(?i)(?<![\\w/])(h/o|s/p|c/o|r/o|w/|w/o|hx|eval|pt|f/u|sx)(?![\\w/])");
  private static SyntheticDataset data;

  @BeforeAll
  static void generate() {
    data = SyntheticNotes.builder(CATALOG).seed(7).build().generate(N);
  }

  @Test
  void generate_sameSeed_sameNotes() {
    SyntheticDataset again = SyntheticNotes.builder(CATALOG).seed(7).build().generate(300);

    assertThat(again.notes()).isEqualTo(data.notes().subList(0, 300));
  }

  @Test
  void generate_otherSeed_otherNotes() {
    SyntheticDataset other = SyntheticNotes.builder(CATALOG).seed(8).build().generate(300);

    assertThat(other.notes()).isNotEqualTo(data.notes().subList(0, 300));
  }

  @Test
  void generate_everyProtocol_isALabelInTrain() {
    assertThat(data.notes()).hasSize(N);
    Set<String> trainLabels = new HashSet<>();
    data.examples(Split.TRAIN).forEach(e -> trainLabels.add(e.label()));

    assertThat(trainLabels).containsExactlyInAnyOrderElementsOf(CATALOG.ids());
    assertThat(data.countsByLabel().keySet()).allMatch(CATALOG::contains);
  }

  @Test
  void generate_splits_areRoughly80_10_10() {
    assertThat(data.countsBySplit().get(Split.TRAIN)).isBetween(900L, 1020L);
    assertThat(data.countsBySplit().get(Split.VALIDATION)).isBetween(80L, 170L);
    assertThat(data.countsBySplit().get(Split.TEST)).isBetween(80L, 170L);
  }

  @Test
  void generate_noNearDuplicatesAcrossSplits() {
    List<GeneratedNote> notes = data.notes();
    List<Set<String>> shingles =
        notes.stream().map(n -> NearDuplicates.shingles(n.example().note())).toList();
    int crossPairs = 0;
    for (int i = 0; i < notes.size(); i++) {
      for (int j = i + 1; j < notes.size(); j++) {
        if (notes.get(i).split() != notes.get(j).split()) {
          crossPairs++;
          assertThat(NearDuplicates.jaccard(shingles.get(i), shingles.get(j)))
              .as("notes %d and %d", i, j)
              .isLessThan(NearDuplicates.DEFAULT_THRESHOLD);
        }
      }
    }
    assertThat(crossPairs).isGreaterThan(100_000);
  }

  @Test
  void generate_noExactDuplicatesOrConflicts_validatorAcceptsOutput(@TempDir Path dir) {
    Path file = dir.resolve("synth.jsonl");
    data.writeJsonl(file);

    ValidatedDataset result = DatasetValidator.of(CATALOG).validate(file, false);

    assertThat(result.report().errors()).isEmpty();
    assertThat(result.records()).hasSize(N);
    assertThat(result.records().get(0).split()).contains(data.notes().get(0).split());
  }

  @Test
  void generate_ruleScenarios_moveFromAvoidedToPreferredProtocols() {
    Set<String> preferred = new HashSet<>();
    Set<String> avoided = new HashSet<>();
    for (Rule r : CATALOG.rules()) {
      preferred.addAll(r.prefer());
      avoided.addAll(r.avoid());
    }
    List<GeneratedNote> changed =
        data.notes().stream().filter(n -> !n.example().label().equals(n.sourceId())).toList();

    assertThat(changed).hasSizeGreaterThan(N / 10);
    assertThat(changed)
        .allSatisfy(
            n -> {
              assertThat(n.scenario()).isNotIn(Scenario.INDICATION, Scenario.DIALYSIS_UNCHANGED);
              assertThat(preferred).contains(n.example().label());
              assertThat(avoided).contains(n.sourceId());
            });
  }

  @Test
  void generate_kidneyAndAllergyScenarios_giveNonContrastCounterparts() {
    assertThat(data.notes())
        .filteredOn(n -> n.sourceId().equals("ct-chest-w"))
        .filteredOn(
            n ->
                EnumSet.of(Scenario.RENAL_IODINATED, Scenario.ALLERGY_IODINATED)
                    .contains(n.scenario()))
        .isNotEmpty()
        .allSatisfy(n -> assertThat(n.example().label()).isEqualTo("ct-chest-wo"));
    assertThat(data.notes())
        .filteredOn(
            n ->
                n.scenario() == Scenario.RENAL_IODINATED
                    || n.scenario() == Scenario.ALLERGY_IODINATED)
        .allSatisfy(
            n -> assertThat(CATALOG.get(n.example().label()).usesIodinatedContrast()).isFalse());
    assertThat(data.notes())
        .filteredOn(n -> n.scenario() == Scenario.MRI_UNSAFE_DEVICE)
        .isNotEmpty()
        .allSatisfy(
            n ->
                assertThat(CATALOG.get(n.example().label()).modality().isMagneticResonance())
                    .isFalse());
  }

  @Test
  void generate_distractorScenarios_keepTheLabel() {
    assertThat(data.notes())
        .filteredOn(
            n ->
                EnumSet.of(
                        Scenario.DIALYSIS_UNCHANGED,
                        Scenario.ALLERGY_UNCHANGED,
                        Scenario.MRI_CONDITIONAL_DEVICE)
                    .contains(n.scenario()))
        .hasSizeGreaterThan(30)
        .allSatisfy(n -> assertThat(n.example().label()).isEqualTo(n.sourceId()));
  }

  @Test
  void generate_pregnancyScenario_avoidsCtForAppendicitisAndStones() {
    assertThat(data.notes())
        .filteredOn(n -> n.scenario() == Scenario.PREGNANCY)
        .isNotEmpty()
        .allSatisfy(
            n ->
                assertThat(
                        CATALOG.get(n.example().label()).modality().isIonizing()
                            && !n.example().label().equals("xr-chest-2v"))
                    .isFalse());
  }

  @Test
  void generate_ruleFindings_areVisibleToTheRuleChecker() {
    RuleChecker checker = RuleChecker.create();
    List<GeneratedNote> renal = ofScenario(Scenario.RENAL_IODINATED);
    List<GeneratedNote> pregnant = ofScenario(Scenario.PREGNANCY);
    List<GeneratedNote> device = ofScenario(Scenario.MRI_UNSAFE_DEVICE);

    assertThat(share(renal, n -> !checker.check(n.example().note(), source(n)).isEmpty()))
        .isGreaterThan(0.9);
    assertThat(
            share(pregnant, n -> checker.findings(n.example().note()).contains(RuleFlag.PREGNANCY)))
        .isGreaterThan(0.9);
    assertThat(
            share(
                device,
                n ->
                    checker
                        .check(n.example().note(), source(n))
                        .contains(RuleFlag.MRI_UNSAFE_DEVICE)))
        .isGreaterThan(0.9);
    assertThat(
            share(
                renal,
                n -> checker.check(n.example().note(), CATALOG.get(n.example().label())).isEmpty()))
        .isGreaterThan(0.9);
  }

  @Test
  void generate_styles_areVaried() {
    assertThat(data.countsByStyle().keySet()).containsExactlyInAnyOrder(NoteStyle.values());
    assertThat(data.share(n -> allCaps(n.example().note()))).isGreaterThan(0.05);
    assertThat(data.share(n -> abbreviations(n.example().note()) >= 3)).isGreaterThan(0.05);
    assertThat(data.share(n -> n.example().note().length() > 400)).isGreaterThan(0.03);
    assertThat(data.share(n -> n.example().note().length() < 40)).isGreaterThan(0.03);
    assertThat(data.share(n -> n.example().note().contains("\n"))).isGreaterThan(0.05);
    assertThat(
            data.share(
                n ->
                    n.example()
                        .note()
                        .toLowerCase(Locale.ROOT)
                        .matches("(?s).*\\b(denies|no|not|neg)\\b.*")))
        .isGreaterThan(0.2);
    assertThat(
            data.share(
                n -> n.example().note().matches("(?s).*\\b\\d{2} ?(yo|y/o|-year-old|M|F)\\b.*")))
        .isGreaterThan(0.3);
  }

  @Test
  void generate_notes_paraphraseRatherThanCopyCatalogIndications() {
    Set<String> indications = new HashSet<>();
    for (Protocol p : CATALOG.protocols()) {
      p.indications().stream()
          .map(NearDuplicates::normalize)
          .filter(i -> i.split(" ").length >= 5)
          .forEach(indications::add);
    }

    assertThat(
            share(
                data.notes(),
                n ->
                    indications.stream()
                        .anyMatch(NearDuplicates.normalize(n.example().note())::contains)))
        .isLessThan(0.02);
  }

  @Test
  void writeJsonl_writesNoteLabelSplitPerLine(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("out.jsonl");
    SyntheticDataset small = SyntheticNotes.builder(CATALOG).seed(3).build().generate(5);

    small.writeJsonl(file);

    List<String> lines = Files.readAllLines(file);
    assertThat(lines).hasSize(5);
    assertThat(lines.get(0)).startsWith("{\"note\":").contains("\"label\":").contains("\"split\":");
  }

  @Test
  void generate_protocolMissingFromLexicon_usesItsCatalogIndications() {
    Catalog site =
        Catalog.parse(
            """
            protocols:
              - id: ct-sinus-wo
                name: CT Sinus WO Contrast
                modality: CT
                region: face
                contrast: none
                indications: [chronic rhinosinusitis before endoscopic surgery]
              - id: ct-chest-w
                name: CT Chest W Contrast
                modality: CT
                region: chest
                contrast: iv
                indications: [lung mass]
            """,
            "site.yaml");

    SyntheticDataset out = SyntheticNotes.builder(site).seed(1).build().generate(40);

    assertThat(out.countsByLabel()).containsOnlyKeys("ct-sinus-wo", "ct-chest-w");
    List<GeneratedNote> sinus =
        out.notes().stream().filter(n -> n.sourceId().equals("ct-sinus-wo")).toList();
    // Typos may hit the word itself; most notes still carry it.
    assertThat(share(sinus, n -> n.example().note().toLowerCase(Locale.ROOT).contains("sinus")))
        .isGreaterThan(0.7);
  }

  @Test
  void generate_nonPositiveCount_namesTheParameter() {
    assertThatThrownBy(() -> SyntheticNotes.builder(CATALOG).build().generate(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("n: 0 (expected: >= 1)");
  }

  private static List<GeneratedNote> ofScenario(Scenario s) {
    return data.notes().stream().filter(n -> n.scenario() == s).toList();
  }

  private static Protocol source(GeneratedNote n) {
    return CATALOG.get(n.sourceId());
  }

  private static double share(List<GeneratedNote> notes, Predicate<GeneratedNote> test) {
    assertThat(notes).isNotEmpty();
    return (double) notes.stream().filter(test).count() / notes.size();
  }

  private static boolean allCaps(String note) {
    return note.chars().anyMatch(Character::isLetter) && note.equals(note.toUpperCase(Locale.ROOT));
  }

  private static long abbreviations(String note) {
    return ABBREVIATION.matcher(note).results().count();
  }
}
