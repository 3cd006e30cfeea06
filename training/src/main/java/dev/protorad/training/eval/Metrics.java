package dev.protorad.training.eval;

import static java.util.Objects.requireNonNull;

import dev.protorad.clinical.catalog.Catalog;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Computes {@link EvalMetrics} (DESIGN §7).
 *
 * <p>Conventions: a label's precision (recall) is 0 when it was never predicted (never gold), and
 * its F1 is 0 when precision + recall is 0. ECE puts a confidence c in bin min(⌊10c⌋, 9) and sums
 * |accuracy − mean confidence| per bin weighted by the bin's share of predictions. A prediction
 * whose label is not in the catalog has no contrast decision and counts as a contrast error.
 */
public final class Metrics {

  /** Number of ECE bins. */
  public static final int ECE_BINS = 10;

  /** Number of confusion pairs reported. */
  public static final int TOP_CONFUSIONS = 10;

  private Metrics() {}

  /**
   * Computes the metrics.
   *
   * @param catalog maps ids to contrast decisions
   * @param predictions at least one prediction
   */
  public static EvalMetrics compute(Catalog catalog, List<EvaluatedNote> predictions) {
    requireNonNull(catalog, "catalog");
    requireNonNull(predictions, "predictions");
    if (predictions.isEmpty()) {
      throw new IllegalArgumentException("predictions: empty (expected: at least one)");
    }
    int n = predictions.size();
    return new EvalMetrics(
        n,
        share(predictions, p -> p.predicted().equals(p.gold())),
        share(predictions, p -> p.inTop(3)),
        macroF1(predictions),
        share(predictions, p -> sameContrast(catalog, p)),
        ece(predictions),
        confusions(predictions, TOP_CONFUSIONS));
  }

  /** Macro-averaged F1 over every label that appears as gold or as the top prediction. */
  public static double macroF1(List<EvaluatedNote> predictions) {
    Map<String, int[]> counts = new HashMap<>(); // tp, fp, fn
    for (EvaluatedNote p : predictions) {
      if (p.predicted().equals(p.gold())) {
        counts.computeIfAbsent(p.gold(), k -> new int[3])[0]++;
      } else {
        counts.computeIfAbsent(p.predicted(), k -> new int[3])[1]++;
        counts.computeIfAbsent(p.gold(), k -> new int[3])[2]++;
      }
    }
    double sum = 0;
    for (int[] c : counts.values()) {
      double precision = c[0] + c[1] == 0 ? 0 : (double) c[0] / (c[0] + c[1]);
      double recall = c[0] + c[2] == 0 ? 0 : (double) c[0] / (c[0] + c[2]);
      sum += precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall);
    }
    return counts.isEmpty() ? 0 : sum / counts.size();
  }

  /** Expected calibration error over {@link #ECE_BINS} equal-width bins. */
  public static double ece(List<EvaluatedNote> predictions) {
    int[] count = new int[ECE_BINS];
    double[] confidence = new double[ECE_BINS];
    int[] correct = new int[ECE_BINS];
    for (EvaluatedNote p : predictions) {
      int bin = Math.min((int) Math.floor(p.confidence() * ECE_BINS), ECE_BINS - 1);
      count[bin]++;
      confidence[bin] += p.confidence();
      if (p.predicted().equals(p.gold())) {
        correct[bin]++;
      }
    }
    double ece = 0;
    for (int b = 0; b < ECE_BINS; b++) {
      if (count[b] > 0) {
        double gap = Math.abs((double) correct[b] / count[b] - confidence[b] / count[b]);
        ece += (double) count[b] / predictions.size() * gap;
      }
    }
    return ece;
  }

  /** The {@code limit} most frequent errors; ties broken by gold id, then predicted id. */
  public static List<ConfusionPair> confusions(List<EvaluatedNote> predictions, int limit) {
    Map<String, Map<String, Integer>> pairs = new HashMap<>();
    for (EvaluatedNote p : predictions) {
      if (!p.predicted().equals(p.gold())) {
        pairs.computeIfAbsent(p.gold(), k -> new HashMap<>()).merge(p.predicted(), 1, Integer::sum);
      }
    }
    List<ConfusionPair> out = new ArrayList<>();
    for (Map.Entry<String, Map<String, Integer>> e : new TreeMap<>(pairs).entrySet()) {
      e.getValue().forEach((pred, c) -> out.add(new ConfusionPair(e.getKey(), pred, c)));
    }
    out.sort(
        Comparator.comparingInt(ConfusionPair::count)
            .reversed()
            .thenComparing(ConfusionPair::gold)
            .thenComparing(ConfusionPair::predicted));
    return List.copyOf(out.subList(0, Math.min(limit, out.size())));
  }

  private static boolean sameContrast(Catalog catalog, EvaluatedNote p) {
    Optional<ContrastDecision> gold = catalog.find(p.gold()).map(ContrastDecision::of);
    Optional<ContrastDecision> predicted = catalog.find(p.predicted()).map(ContrastDecision::of);
    return gold.isPresent() && gold.equals(predicted);
  }

  private static double share(
      List<EvaluatedNote> predictions, java.util.function.Predicate<EvaluatedNote> test) {
    return (double) predictions.stream().filter(test).count() / predictions.size();
  }
}
