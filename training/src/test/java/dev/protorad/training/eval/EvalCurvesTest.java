package dev.protorad.training.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.protorad.clinical.gate.ReviewGate;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class EvalCurvesTest {

  private static final List<String> LABELS = List.of("a", "b", "c");

  private static EvaluatedNote note(String gold, String predicted, double confidence) {
    List<LabelProbability> ranked = new ArrayList<>();
    ranked.add(new LabelProbability(predicted, confidence));
    LABELS.stream()
        .filter(l -> !l.equals(predicted))
        .forEach(l -> ranked.add(new LabelProbability(l, (1 - confidence) / 2)));
    return new EvaluatedNote(gold, ranked, confidence);
  }

  @Test
  void binsCurveAndConfusion_countWhatHappened() {
    List<EvaluatedNote> notes =
        List.of(
            note("a", "a", 0.95),
            note("a", "b", 0.91),
            note("b", "b", 0.55),
            note("c", "c", 0.52),
            note("c", "a", 0.45));

    EvalCurves c = EvalCurves.of("test", notes, LABELS, null, List.of(2.0, 1.5));

    assertThat(c.examples()).isEqualTo(5);
    assertThat(c.reliability())
        .extracting(EvalCurves.Bin::count)
        .containsExactly(1, 2, 2); // bins 0.4, 0.5 and 0.9
    EvalCurves.Bin top = c.reliability().get(2);
    assertThat(top.meanConfidence()).isCloseTo(0.93, within(1e-9));
    assertThat(top.accuracy()).isEqualTo(0.5);
    // Most confident first: right, wrong, right, right, wrong.
    assertThat(c.precisionCoverage())
        .extracting(EvalCurves.Point::precision)
        .containsExactly(1.0, 0.5, 2.0 / 3, 0.75, 0.6);
    assertThat(c.precisionCoverage().get(4).coverage()).isEqualTo(1.0);
    assertThat(c.precisionCoverage().get(0).threshold()).isEqualTo(0.95);
    assertThat(c.confusion())
        .containsExactly(
            new EvalCurves.Cell(0, 0, 1),
            new EvalCurves.Cell(0, 1, 1),
            new EvalCurves.Cell(1, 1, 1),
            new EvalCurves.Cell(2, 0, 1),
            new EvalCurves.Cell(2, 2, 1));
    assertThat(c.trainingLoss()).containsExactly(2.0, 1.5);
  }

  @Test
  void aLongCurve_keepsAboutAHundredPoints_endingAtFullCoverage() {
    List<EvaluatedNote> notes = new ArrayList<>();
    for (int i = 0; i < 2_000; i++) {
      notes.add(note("a", i % 7 == 0 ? "b" : "a", 0.3 + 0.6 * i / 2_000.0));
    }

    List<EvalCurves.Point> curve =
        EvalCurves.of("test", notes, LABELS, null, List.of()).precisionCoverage();

    assertThat(curve).hasSizeBetween(95, EvalCurves.CURVE_POINTS);
    assertThat(curve.get(curve.size() - 1).coverage()).isEqualTo(1.0);
    assertThat(curve).extracting(EvalCurves.Point::coverage).isSorted();
  }

  @Test
  void json_roundTrips_withTheGatesOperatingPoint() throws IOException {
    ReviewGate gate = new ReviewGate(0.3, 0.7, 0.95, 0.97, 0.34, false, 720, 0.41, 0.98);
    EvalCurves c =
        EvalCurves.of(
                "validation",
                List.of(note("a", "a", 0.9), note("b", "c", 0.6)),
                LABELS,
                null,
                List.of(3.0, 2.5, 2.25))
            .withGate(gate);

    EvalCurves read = EvalCurves.fromJson(c.toJson());

    assertThat(read).isEqualTo(c);
    assertThat(read.gate()).isEqualTo(new EvalCurves.Point(0.41, 0.98, 0.95));
    assertThat(EvalCurves.lossOnly(List.of(1.0)).toJson()).doesNotContain("review_gate");
  }

  @Test
  void aCellOutsideTheLabels_isRefused() {
    String json = "{\"split\":\"test\",\"examples\":1,\"labels\":[\"a\"],\"confusion\":[[0,3,1]]}";

    assertThatThrownBy(() -> EvalCurves.fromJson(json))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("outside the labels");
    assertThatThrownBy(() -> EvalCurves.fromJson("[1]")).isInstanceOf(IOException.class);
  }
}
