package dev.protorad.training.data;

import static org.assertj.core.api.Assertions.assertThat;

import dev.protorad.clinical.catalog.Catalog;
import dev.protorad.clinical.catalog.Protocol;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** The committed evaluation set {@code eval/independent-notes.jsonl} stays usable and apart. */
class IndependentNotesTest {

  private static final Path FILE = Path.of("..", "eval", "independent-notes.jsonl");
  private static final Catalog CATALOG = Catalog.loadDefault();

  @Test
  void validatesCleanly_allTest_everyCatalogIdAtLeastTwice() {
    ValidatedDataset data = DatasetValidator.of(CATALOG).validate(FILE, false);

    assertThat(data.report().hasErrors()).as(data.report().render(10)).isFalse();
    assertThat(data.records()).hasSize(180);
    assertThat(data.records()).allMatch(r -> r.split().orElse(null) == Split.TEST);
    Map<String, Long> perLabel =
        data.examples().stream()
            .collect(Collectors.groupingBy(Example::label, Collectors.counting()));
    assertThat(perLabel.keySet())
        .containsExactlyInAnyOrderElementsOf(
            CATALOG.protocols().stream().map(Protocol::id).toList());
    assertThat(perLabel.values()).allMatch(n -> n >= 2);
  }

  @Test
  void noNote_isANearDuplicateOfTheNotesTheDemoBaseWasPretrainedAndFineTunedOn() {
    List<Example> notes = DatasetValidator.of(CATALOG).validate(FILE, false).examples();
    NearDuplicates index = NearDuplicates.index(0.5);
    SyntheticNotes.builder(CATALOG).seed(7).build().generate(10_000).notes().stream()
        .map(GeneratedNote::example)
        .map(Example::note)
        .forEach(n -> index.add(n, 0));

    List<String> close =
        notes.stream().map(Example::note).filter(n -> index.hasNearDuplicateOutside(n, 1)).toList();

    assertThat(close).isEmpty();
  }

  @Test
  void secondSet_validatesCleanly_allTest_atLeast300_everyCatalogIdAtLeastFourTimes() {
    ValidatedDataset data =
        DatasetValidator.of(CATALOG)
            .validate(Path.of("..", "eval", "independent-notes-2.jsonl"), false);

    assertThat(data.report().hasErrors()).as(data.report().render(10)).isFalse();
    assertThat(data.records()).hasSizeGreaterThanOrEqualTo(300);
    assertThat(data.records()).allMatch(r -> r.split().orElse(null) == Split.TEST);
    Map<String, Long> perLabel =
        data.examples().stream()
            .collect(Collectors.groupingBy(Example::label, Collectors.counting()));
    assertThat(perLabel).hasSize(CATALOG.protocols().size());
    assertThat(perLabel.values()).allMatch(n -> n >= 4);
  }
}
