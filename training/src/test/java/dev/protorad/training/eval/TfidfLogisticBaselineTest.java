package dev.protorad.training.eval;

import static org.assertj.core.api.Assertions.assertThat;

import dev.protorad.clinical.catalog.Catalog;
import dev.protorad.training.data.DatasetValidator;
import dev.protorad.training.data.Example;
import dev.protorad.training.data.Split;
import dev.protorad.training.data.SyntheticDataset;
import dev.protorad.training.data.SyntheticNotes;
import dev.protorad.training.data.ValidatedDataset;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class TfidfLogisticBaselineTest {

  private static final Catalog CATALOG = Catalog.loadDefault();

  private static SyntheticDataset data;
  private static TfidfLogisticBaseline model;

  @BeforeAll
  static void train() {
    data = SyntheticNotes.builder(CATALOG).seed(11).build().generate(1000);
    model = TfidfLogisticBaseline.train(data.examples(Split.TRAIN), 8, 1);
  }

  @Test
  void train_generatedSet_beatsMajorityClass() {
    List<Example> train = data.examples(Split.TRAIN);
    List<Example> test = data.examples(Split.TEST);

    EvalMetrics metrics = Metrics.compute(CATALOG, model.evaluate(test, 5));

    double majority = majorityShare(train, test);
    assertThat(metrics.accuracy()).isGreaterThan(Math.max(0.4, 5 * majority));
    assertThat(metrics.top3Accuracy()).isGreaterThan(metrics.accuracy());
    assertThat(metrics.macroF1()).isGreaterThan(0.3);
  }

  @Test
  void train_generatedSet_generalizesToIndependentlyWrittenNotes() throws Exception {
    Path file =
        Path.of(TfidfLogisticBaselineTest.class.getResource("independent-notes.jsonl").toURI());
    ValidatedDataset independent = DatasetValidator.of(CATALOG).validate(file, false);

    EvalMetrics metrics = Metrics.compute(CATALOG, model.evaluate(independent.examples(), 5));

    assertThat(independent.report().hasErrors()).isFalse();
    assertThat(independent.examples()).hasSizeGreaterThanOrEqualTo(40);
    double majority = majorityShare(data.examples(Split.TRAIN), independent.examples());
    assertThat(metrics.accuracy()).isGreaterThan(Math.max(0.3, 5 * majority));
  }

  @Test
  void predict_returnsKLabelsByDescendingProbability() {
    List<Example> train =
        List.of(
            new Example("r/o PE, SOB, tachy", "cta-chest-pe"),
            new Example("pleuritic chest pain, d-dimer positive", "cta-chest-pe"),
            new Example("fall, head strike, on apixaban", "ct-head-wo"),
            new Example("head trauma, vomiting", "ct-head-wo"),
            new Example("flank pain, hematuria, r/o stone", "ct-abdomen-pelvis-wo"));

    TfidfLogisticBaseline small = TfidfLogisticBaseline.train(train, 20, 1);
    List<LabelProbability> top = small.predict("SOB and tachy, r/o PE", 2);
    List<LabelProbability> unknownWords = small.predict("zzz qqq", 3);

    assertThat(top).hasSize(2);
    assertThat(top.get(0).id()).isEqualTo("cta-chest-pe");
    assertThat(top.get(0).probability()).isGreaterThanOrEqualTo(top.get(1).probability());
    assertThat(unknownWords).hasSize(3);
  }

  private static double majorityShare(List<Example> train, List<Example> test) {
    Map<String, Long> counts =
        train.stream().collect(Collectors.groupingBy(Example::label, Collectors.counting()));
    String top =
        counts.entrySet().stream()
            .max(Map.Entry.comparingByValue())
            .map(Map.Entry::getKey)
            .orElseThrow();
    return (double) test.stream().map(Example::label).filter(top::equals).count() / test.size();
  }
}
