package dev.protorad.clinical.gate;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The review gate of one adapter version, fitted on its calibration split ({@link GateFitter}).
 *
 * <p>The answer's distribution is the log-linear mixture {@code p ∝ pAdapter^a · pLexical^b}
 * ({@code a} also acts as a temperature, so the mixture is calibrated on the calibration split). A
 * prediction goes to review when its confidence is below {@code threshold} (chosen so that the
 * answers not sent to review reach {@code targetPrecision} on the calibration split), when the
 * note's share of words no training note used exceeds {@code unfamiliarShare}, when the two models
 * disagree and {@code disagreementReviewed}, and always when a catalog rule fires or the note was
 * truncated.
 *
 * @param adapterWeight {@code a}, the adapter's exponent, > 0
 * @param lexicalWeight {@code b}, the lexical model's exponent, >= 0
 * @param threshold lowest confidence answered without review; above 1 when none is
 * @param targetPrecision the precision the threshold was chosen for
 * @param unfamiliarShare unknown-word share above which a note is unfamiliar
 * @param disagreementReviewed whether disagreement between the two models sends to review
 * @param calibrationExamples notes the gate was fitted on
 * @param calibrationCoverage share of those notes answered without review
 * @param calibrationPrecision precision of those answered without review
 */
public record ReviewGate(
    double adapterWeight,
    double lexicalWeight,
    double threshold,
    double targetPrecision,
    double unfamiliarShare,
    boolean disagreementReviewed,
    int calibrationExamples,
    double calibrationCoverage,
    double calibrationPrecision) {

  /** Key of the gate in a version's {@code metadata.json}. */
  public static final String METADATA_KEY = "review_gate";

  /** Default precision the unreviewed answers must reach. */
  public static final double DEFAULT_TARGET_PRECISION = 0.97;

  /** Checks the parameters. */
  public ReviewGate {
    if (!(adapterWeight > 0 && adapterWeight <= 100)) {
      throw new IllegalArgumentException("adapterWeight: " + adapterWeight + " (expected: 0..100)");
    }
    if (!(lexicalWeight >= 0 && lexicalWeight <= 100)) {
      throw new IllegalArgumentException("lexicalWeight: " + lexicalWeight + " (expected: 0..100)");
    }
    if (!(threshold >= 0 && threshold <= 2)) {
      throw new IllegalArgumentException("threshold: " + threshold + " (expected: 0..2)");
    }
    if (!(targetPrecision > 0 && targetPrecision < 1)) {
      throw new IllegalArgumentException(
          "targetPrecision: " + targetPrecision + " (expected: between 0 and 1)");
    }
    if (!(unfamiliarShare >= 0 && unfamiliarShare <= 1)) {
      throw new IllegalArgumentException(
          "unfamiliarShare: " + unfamiliarShare + " (expected: 0..1)");
    }
  }

  /**
   * One note as the gate sees it, computed once per note ({@link #assess}).
   *
   * @param adapter the adapter's probability per label
   * @param lexical the lexical model's probability per label (same order)
   * @param mixed the mixture the server answers with
   * @param unknownShare the share of the note's words no training note used
   */
  public record Assessment(
      double[] adapter, double[] lexical, double[] mixed, double unknownShare) {
    public Assessment {
      requireNonNull(adapter, "adapter");
      requireNonNull(lexical, "lexical");
      requireNonNull(mixed, "mixed");
    }

    /** The index of the mixture's most probable label. */
    public int answer() {
      return argmax(mixed);
    }
  }

  /**
   * Scores a note with the lexical model and mixes the two distributions.
   *
   * @param adapter the adapter's probability per label, in the lexical model's label order
   * @param lexical the lexical model fitted with this gate
   * @param note the note as submitted (only its words are looked up; nothing is kept)
   */
  public Assessment assess(double[] adapter, LexicalModel lexical, String note) {
    requireNonNull(adapter, "adapter");
    requireNonNull(lexical, "lexical");
    requireNonNull(note, "note");
    double[] lex = lexical.probabilities(note);
    return new Assessment(adapter, lex, mix(adapter, lex), lexical.unknownWordShare(note));
  }

  /**
   * Why the assessed note goes to review, in {@link ReviewReason}'s order; empty when it does not.
   *
   * @param ruleFlagged whether a catalog rule fired for the answer
   * @param truncated whether the note was cut to fit the context
   */
  public List<String> reasons(Assessment a, boolean ruleFlagged, boolean truncated) {
    requireNonNull(a, "a");
    List<String> reasons = new ArrayList<>();
    if (a.mixed()[a.answer()] < threshold) {
      reasons.add(ReviewReason.LOW_CONFIDENCE);
    }
    if (a.unknownShare() > unfamiliarShare) {
      reasons.add(ReviewReason.UNFAMILIAR_NOTE);
    }
    if (disagreementReviewed && argmax(a.adapter()) != argmax(a.lexical())) {
      reasons.add(ReviewReason.MODELS_DISAGREE);
    }
    if (ruleFlagged) {
      reasons.add(ReviewReason.RULE_FLAG);
    }
    if (truncated) {
      reasons.add(ReviewReason.NOTE_TRUNCATED);
    }
    return List.copyOf(reasons);
  }

  /** The log-linear mixture of two distributions over the same labels. */
  public double[] mix(double[] adapter, double[] lexical) {
    return mix(adapter, lexical, adapterWeight, lexicalWeight);
  }

  static double[] mix(double[] adapter, double[] lexical, double a, double b) {
    if (adapter.length != lexical.length) {
      throw new IllegalArgumentException(
          "adapter: " + adapter.length + " labels (expected: " + lexical.length + ")");
    }
    double[] z = new double[adapter.length];
    for (int i = 0; i < z.length; i++) {
      z[i] = a * Math.log(Math.max(adapter[i], 1e-30)) + b * Math.log(Math.max(lexical[i], 1e-30));
    }
    return LexicalModel.softmax(z);
  }

  static int argmax(double[] p) {
    int best = 0;
    for (int i = 1; i < p.length; i++) {
      if (p[i] > p[best]) {
        best = i;
      }
    }
    return best;
  }

  /** Writes the gate into {@code metadata}, under {@link #METADATA_KEY}. */
  public void writeTo(ObjectNode metadata) {
    requireNonNull(metadata, "metadata");
    ObjectNode g = metadata.putObject(METADATA_KEY);
    g.put("adapter_weight", adapterWeight);
    g.put("lexical_weight", lexicalWeight);
    g.put("threshold", threshold);
    g.put("target_precision", targetPrecision);
    g.put("unfamiliar_share", unfamiliarShare);
    g.put("disagreement_reviewed", disagreementReviewed);
    g.put("lexical_model", LexicalModel.FILE);
    g.put("calibration_examples", calibrationExamples);
    g.put("calibration_coverage", calibrationCoverage);
    g.put("calibration_precision", calibrationPrecision);
  }

  /** The gate a version's {@code metadata.json} records, if any. */
  public static Optional<ReviewGate> readFrom(JsonNode metadata) {
    requireNonNull(metadata, "metadata");
    JsonNode g = metadata.get(METADATA_KEY);
    if (g == null || !g.isObject()) {
      return Optional.empty();
    }
    return Optional.of(
        new ReviewGate(
            g.path("adapter_weight").asDouble(),
            g.path("lexical_weight").asDouble(),
            g.path("threshold").asDouble(),
            g.path("target_precision").asDouble(),
            g.path("unfamiliar_share").asDouble(),
            g.path("disagreement_reviewed").asBoolean(),
            g.path("calibration_examples").asInt(),
            g.path("calibration_coverage").asDouble(),
            g.path("calibration_precision").asDouble()));
  }
}
