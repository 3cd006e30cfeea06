package dev.protorad.clinical.gate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class GateFitterTest {

  /**
   * A calibration fixture where a note's chance of being right grows with the model's confidence
   * (as with a calibrated model): the adapter and the lexical model agree on the answer, right or
   * wrong.
   */
  private static List<GateFitter.Point> fixture(int n, long seed) {
    SplittableRandom random = new SplittableRandom(seed);
    List<GateFitter.Point> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      double u = random.nextDouble();
      double confidence = 1 - 0.75 * u * u;
      boolean right = random.nextDouble() < confidence;
      int answer = random.nextInt(4);
      int gold = right ? answer : (answer + 1 + random.nextInt(3)) % 4;
      double[] p = new double[4];
      for (int k = 0; k < 4; k++) {
        p[k] = k == answer ? confidence : (1 - confidence) / 3;
      }
      out.add(new GateFitter.Point(p, p.clone(), gold, 0.05, new boolean[4]));
    }
    return out;
  }

  private static double[] answeredPrecision(ReviewGate gate, List<GateFitter.Point> points) {
    int answered = 0;
    int right = 0;
    for (GateFitter.Point p : points) {
      double[] mix = gate.mix(p.adapter(), p.lexical());
      int best = ReviewGate.argmax(mix);
      boolean reviewed =
          mix[best] < gate.threshold()
              || p.ruleFlagged(best)
              || p.unknownShare() > gate.unfamiliarShare()
              || (gate.disagreementReviewed()
                  && ReviewGate.argmax(p.adapter()) != ReviewGate.argmax(p.lexical()));
      if (!reviewed) {
        answered++;
        right += best == p.gold() ? 1 : 0;
      }
    }
    return new double[] {answered, answered == 0 ? 0 : (double) right / answered};
  }

  @Test
  void threshold_meetsItsTargetPrecision_onTheCalibrationFixture() {
    List<GateFitter.Point> points = fixture(4000, 11);

    ReviewGate gate = GateFitter.fit(points, 0.97);

    double[] result = answeredPrecision(gate, points);
    assertThat(result[0]).isGreaterThan(100);
    assertThat(result[1]).isGreaterThanOrEqualTo(0.97);
    assertThat(gate.calibrationPrecision()).isEqualTo(result[1]);
    assertThat(gate.calibrationCoverage()).isEqualTo(result[0] / points.size());
    assertThat(GateFitter.wilsonLower((int) Math.round(result[0] * result[1]), (int) result[0]))
        .isGreaterThanOrEqualTo(0.97);
  }

  @Test
  void threshold_holdsOnNotesFromTheSameDistributionItWasNotFittedOn() {
    ReviewGate gate = GateFitter.fit(fixture(4000, 11), 0.95);

    double[] heldOut = answeredPrecision(gate, fixture(4000, 12));

    assertThat(heldOut[1]).isGreaterThanOrEqualTo(0.94);
  }

  @Test
  void aLowerTarget_answersMoreNotes() {
    List<GateFitter.Point> points = fixture(4000, 11);

    ReviewGate strict = GateFitter.fit(points, 0.97);
    ReviewGate lenient = GateFitter.fit(points, 0.85);

    assertThat(lenient.threshold()).isLessThan(strict.threshold());
    assertThat(lenient.calibrationCoverage()).isGreaterThan(strict.calibrationCoverage());
  }

  @Test
  void aNoteIsLeftOutOfTheCount_onlyWhenARuleFiresForTheAnswerItWouldGet() {
    List<GateFitter.Point> flaggedAnswer = new ArrayList<>();
    List<GateFitter.Point> flaggedOther = new ArrayList<>();
    for (int i = 0; i < 300; i++) {
      double[] p = {0.98, 0.01, 0.01};
      boolean wrong = i % 3 == 0;
      int gold = wrong ? 1 : 0;
      flaggedAnswer.add(new GateFitter.Point(p, p, gold, 0, new boolean[] {wrong, false, false}));
      flaggedOther.add(new GateFitter.Point(p, p, gold, 0, new boolean[] {false, wrong, false}));
    }

    ReviewGate gate = GateFitter.fit(flaggedAnswer, 0.97);
    ReviewGate other = GateFitter.fit(flaggedOther, 0.97);

    assertThat(gate.calibrationCoverage()).isCloseTo(200 / 300.0, within(1e-9));
    assertThat(gate.calibrationPrecision()).isEqualTo(1.0);
    assertThat(other.calibrationCoverage())
        .as("a rule that fires only for a label the note is not answered with sends nothing away")
        .isZero();
  }

  @Test
  void aTargetNothingReaches_sendsEverythingToReview() {
    List<GateFitter.Point> points = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      double[] p = {0.9, 0.05, 0.05};
      points.add(new GateFitter.Point(p, p, i % 2, 0, new boolean[3]));
    }

    ReviewGate gate = GateFitter.fit(points, 0.97);

    assertThat(gate.threshold()).isGreaterThan(1);
    assertThat(gate.calibrationCoverage()).isZero();
  }

  @Test
  void reasons_nameEveryReason() {
    LexicalModel lexical =
        LexicalModel.train(
            List.of(
                new LexicalModel.Labelled("head injury fall", "a"),
                new LexicalModel.Labelled("ankle twisted", "b")),
            List.of("a", "b"),
            1);
    ReviewGate gate = new ReviewGate(1, 0, 0.99, 0.97, 0.34, false, 0, 0, 0);

    List<String> unsure =
        gate.reasons(gate.assess(new double[] {0.6, 0.4}, lexical, "head injury fall"), true, true);
    List<String> unfamiliar =
        gate.reasons(
            gate.assess(new double[] {0.999, 0.001}, lexical, "Schmerzen seit gestern"),
            false,
            false);
    List<String> sure =
        gate.reasons(
            gate.assess(new double[] {0.999, 0.001}, lexical, "head injury fall"), false, false);

    assertThat(unsure)
        .containsExactly(
            ReviewReason.LOW_CONFIDENCE, ReviewReason.RULE_FLAG, ReviewReason.NOTE_TRUNCATED);
    assertThat(unfamiliar).containsExactly(ReviewReason.UNFAMILIAR_NOTE);
    assertThat(sure).isEmpty();
  }
}
