package dev.protorad.training.eval;

import static java.util.Objects.requireNonNull;

import java.util.List;

/**
 * Metrics over a set of predictions; every rate is in [0, 1].
 *
 * @param count number of predictions
 * @param accuracy exact-match accuracy of the top label
 * @param top3Accuracy share of predictions with the gold label among the first three
 * @param macroF1 unweighted mean of per-label F1 over every label that is gold or predicted
 * @param contrastAccuracy share whose top label makes the gold label's {@link ContrastDecision}
 * @param ece expected calibration error of the confidence over ten equal-width bins
 * @param topConfusions most frequent (gold, predicted) errors, most frequent first
 */
public record EvalMetrics(
    int count,
    double accuracy,
    double top3Accuracy,
    double macroF1,
    double contrastAccuracy,
    double ece,
    List<ConfusionPair> topConfusions) {

  /** Copies the confusion list. */
  public EvalMetrics {
    topConfusions = List.copyOf(requireNonNull(topConfusions, "topConfusions"));
  }
}
