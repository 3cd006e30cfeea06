package dev.protorad.training.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.protorad.clinical.catalog.Catalog;
import java.util.List;
import org.junit.jupiter.api.Test;

class MetricsTest {

  private static final Catalog CATALOG = Catalog.loadDefault();
  private static final String A = "ct-chest-w";
  private static final String B = "ct-chest-wo";
  private static final String C = "xr-chest-2v";
  private static final String D = "ct-urogram";

  /**
   * Four predictions: A→A (0.6), A→B (0.7, A second), B→B (0.9), C→A (0.5, C fourth).
   *
   * <p>By hand: accuracy 2/4; top-3 3/4. A: tp 1, fp 1, fn 1 → F1 1/2. B: tp 1, fp 1, fn 0 → P 1/2,
   * R 1, F1 2/3. C: tp 0, fn 1 → F1 0. D is never a top prediction nor gold → not counted. Macro-F1
   * = (1/2 + 2/3 + 0) / 3 = 7/18. ECE: four bins with one prediction each: (|1−0.6| + |0−0.7| +
   * |1−0.9| + |0−0.5|) / 4 = 1.7 / 4 = 0.425. Contrast: A→A right, A→B (with vs without) wrong, B→B
   * right, C→A (none vs with) wrong → 1/2.
   */
  private static final List<EvaluatedNote> FOUR =
      List.of(
          EvaluatedNote.of(A, List.of(s(A, 0.6), s(B, 0.3), s(C, 0.1))),
          EvaluatedNote.of(A, List.of(s(B, 0.7), s(A, 0.2), s(C, 0.1))),
          EvaluatedNote.of(B, List.of(s(B, 0.9), s(A, 0.1))),
          EvaluatedNote.of(C, List.of(s(A, 0.5), s(B, 0.3), s(D, 0.15), s(C, 0.05))));

  @Test
  void compute_handComputedExample_matches() {
    EvalMetrics m = Metrics.compute(CATALOG, FOUR);

    assertThat(m.count()).isEqualTo(4);
    assertThat(m.accuracy()).isEqualTo(0.5);
    assertThat(m.top3Accuracy()).isEqualTo(0.75);
    assertThat(m.macroF1()).isCloseTo(7.0 / 18.0, within(1e-12));
    assertThat(m.ece()).isCloseTo(0.425, within(1e-12));
    assertThat(m.contrastAccuracy()).isEqualTo(0.5);
    assertThat(m.topConfusions())
        .containsExactly(new ConfusionPair(A, B, 1), new ConfusionPair(C, A, 1));
  }

  @Test
  void ece_sharedBin_usesBinAccuracyAndMeanConfidence() {
    // Bin 8 holds 0.81 (right) and 0.89 (wrong): |1/2 − 0.85| = 0.35, weight 2/3.
    // Bin 9 holds 1.0 (right): |1 − 1.0| = 0, weight 1/3. ECE = 0.35 × 2/3.
    List<EvaluatedNote> p =
        List.of(
            new EvaluatedNote(A, List.of(s(A, 0.81)), 0.81),
            new EvaluatedNote(A, List.of(s(B, 0.89)), 0.89),
            new EvaluatedNote(B, List.of(s(B, 1.0)), 1.0));

    assertThat(Metrics.ece(p)).isCloseTo(0.35 * 2 / 3, within(1e-12));
  }

  @Test
  void macroF1_perfectPredictions_isOne() {
    List<EvaluatedNote> p =
        List.of(EvaluatedNote.of(A, List.of(s(A, 1))), EvaluatedNote.of(B, List.of(s(B, 1))));

    assertThat(Metrics.macroF1(p)).isEqualTo(1.0);
  }

  @Test
  void contrastAccuracy_wrongLabelSameDecision_countsAsRight() {
    List<EvaluatedNote> p =
        List.of(
            EvaluatedNote.of("ct-abdomen-pelvis-w", List.of(s("ct-chest-w", 0.9))),
            EvaluatedNote.of("mri-brain-wo", List.of(s("ct-head-wo", 0.9))),
            EvaluatedNote.of("us-pelvis", List.of(s("ct-abdomen-pelvis-wo", 0.9))),
            EvaluatedNote.of(D, List.of(s(D, 0.9))));

    assertThat(Metrics.compute(CATALOG, p).contrastAccuracy()).isEqualTo(0.75);
  }

  @Test
  void contrastDecision_mapsCatalogContrastByModality() {
    assertThat(ContrastDecision.of(CATALOG.get("ct-chest-w"))).isEqualTo(ContrastDecision.WITH);
    assertThat(ContrastDecision.of(CATALOG.get("ct-chest-wo"))).isEqualTo(ContrastDecision.WITHOUT);
    assertThat(ContrastDecision.of(CATALOG.get("mra-head-wo"))).isEqualTo(ContrastDecision.WITHOUT);
    assertThat(ContrastDecision.of(CATALOG.get("ct-urogram")))
        .isEqualTo(ContrastDecision.WITH_AND_WITHOUT);
    assertThat(ContrastDecision.of(CATALOG.get("us-pelvis"))).isEqualTo(ContrastDecision.NONE);
    assertThat(ContrastDecision.of(CATALOG.get("nm-lung-vq"))).isEqualTo(ContrastDecision.NONE);
    assertThat(ContrastDecision.of(CATALOG.get("pet-ct-psma"))).isEqualTo(ContrastDecision.NONE);
  }

  @Test
  void compute_noPredictions_namesTheParameter() {
    assertThatThrownBy(() -> Metrics.compute(CATALOG, List.of()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("predictions: empty (expected: at least one)");
  }

  @Test
  void evalReport_rendersOneColumnPerSystem() {
    EvalMetrics m = Metrics.compute(CATALOG, FOUR);

    String table =
        EvalReport.builder("test split")
            .column("adapter", m)
            .column("baseline", m)
            .build()
            .render();

    assertThat(table)
        .contains("test split")
        .containsPattern("metric\\s+adapter\\s+baseline")
        .containsPattern("exact-match accuracy\\s+0\\.5000\\s+0\\.5000")
        .containsPattern("macro-F1\\s+0\\.3889\\s+0\\.3889")
        .containsPattern("ECE \\(10 bins\\)\\s+0\\.4250")
        .contains("ct-chest-w -> ct-chest-wo (1)");
  }

  private static LabelProbability s(String id, double p) {
    return new LabelProbability(id, p);
  }
}
