package dev.protorad.clinical.gate;

import static java.util.Objects.requireNonNull;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Fits a {@link ReviewGate} on a calibration split: notes the adapter and the lexical model were
 * not trained on, with their gold labels.
 *
 * <p>Steps: the mixture weights minimize the negative log-likelihood of the gold labels over a
 * grid; the unfamiliar-note share is the 99th percentile of the calibration notes' own unknown-word
 * shares (at least {@link #MIN_UNFAMILIAR_SHARE}); the threshold is the lowest confidence at which
 * the one-sided 95% Wilson lower bound of the precision of the answers kept (those at or above it,
 * not unfamiliar, and not flagged by a rule for the mixture's answer, as serving flags it) still
 * reaches the target. The lower bound rather than the observed precision, so that a few hundred
 * calibration notes do not promise more than they show. Disagreement between the models is made a
 * review reason only when that answers more notes at the target.
 */
public final class GateFitter {

  /** Unknown-word share a note may always have without counting as unfamiliar. */
  public static final double MIN_UNFAMILIAR_SHARE = 0.34;

  private static final double Z = 1.645;
  private static final double[] WEIGHTS = {
    0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.2, 1.4, 1.6, 1.8, 2.0, 2.5, 3.0, 4.0
  };

  private GateFitter() {}

  /**
   * One calibration note: both models' distributions (same label order), its gold label index, its
   * unknown-word share and, per label, whether a catalog rule would fire if that label were the
   * answer. Per label, because the answer the gate judges is the mixture's, and the mixture is only
   * chosen during the fit: a note is left out of the threshold's count exactly when serving would
   * send it to review for a rule.
   */
  public record Point(
      double[] adapter, double[] lexical, int gold, double unknownShare, boolean[] ruleFlags) {
    public Point {
      requireNonNull(adapter, "adapter");
      requireNonNull(lexical, "lexical");
      requireNonNull(ruleFlags, "ruleFlags");
      if (adapter.length != lexical.length || ruleFlags.length != adapter.length) {
        throw new IllegalArgumentException(
            "adapter, lexical and ruleFlags: different label counts");
      }
      if (gold < 0 || gold >= adapter.length) {
        throw new IllegalArgumentException("gold: " + gold + " (expected: a label index)");
      }
    }

    /** Whether a catalog rule fires when {@code label} is the answer. */
    public boolean ruleFlagged(int label) {
      return ruleFlags[label];
    }
  }

  /**
   * Fits the gate.
   *
   * @param points at least one calibration note
   * @param targetPrecision precision the unreviewed answers must reach, between 0 and 1
   */
  public static ReviewGate fit(List<Point> points, double targetPrecision) {
    requireNonNull(points, "points");
    if (points.isEmpty()) {
      throw new IllegalArgumentException("points: empty (expected: calibration notes)");
    }
    if (!(targetPrecision > 0 && targetPrecision < 1)) {
      throw new IllegalArgumentException(
          "targetPrecision: " + targetPrecision + " (expected: between 0 and 1)");
    }
    double[] ab = weights(points);
    double unfamiliar = Math.max(MIN_UNFAMILIAR_SHARE, percentile(points, 0.99));
    Choice plain = choose(points, ab, unfamiliar, false, targetPrecision);
    Choice strict = choose(points, ab, unfamiliar, true, targetPrecision);
    boolean strictWins = strict.answered > plain.answered;
    Choice best = strictWins ? strict : plain;
    return new ReviewGate(
        ab[0],
        ab[1],
        best.threshold,
        targetPrecision,
        unfamiliar,
        strictWins,
        points.size(),
        (double) best.answered / points.size(),
        best.answered == 0 ? 0 : (double) best.correct / best.answered);
  }

  /** The one-sided 95% Wilson lower bound of a proportion {@code k / n}. */
  static double wilsonLower(int k, int n) {
    if (n == 0) {
      return 0;
    }
    double p = (double) k / n;
    double z2 = Z * Z;
    double centre = p + z2 / (2.0 * n);
    double spread = Z * Math.sqrt(p * (1 - p) / n + z2 / (4.0 * n * n));
    return (centre - spread) / (1 + z2 / n);
  }

  private static double[] weights(List<Point> points) {
    double bestLoss = Double.POSITIVE_INFINITY;
    double[] best = {1, 0};
    for (double a : WEIGHTS) {
      if (a == 0) {
        continue;
      }
      for (double b : WEIGHTS) {
        double loss = 0;
        for (Point p : points) {
          double[] mix = ReviewGate.mix(p.adapter(), p.lexical(), a, b);
          loss -= Math.log(Math.max(mix[p.gold()], 1e-30));
        }
        if (loss < bestLoss) {
          bestLoss = loss;
          best = new double[] {a, b};
        }
      }
    }
    return best;
  }

  private static double percentile(List<Point> points, double q) {
    double[] shares = points.stream().mapToDouble(Point::unknownShare).sorted().toArray();
    int at = (int) Math.ceil(q * shares.length) - 1;
    return shares[Math.max(0, Math.min(shares.length - 1, at))];
  }

  private record Choice(double threshold, int answered, int correct) {}

  private record Scored(double confidence, boolean correct) {}

  private static Choice choose(
      List<Point> points,
      double[] ab,
      double unfamiliar,
      boolean reviewDisagreement,
      double target) {
    List<Scored> candidates = new ArrayList<>();
    for (Point p : points) {
      double[] mix = ReviewGate.mix(p.adapter(), p.lexical(), ab[0], ab[1]);
      int best = ReviewGate.argmax(mix);
      if (p.ruleFlagged(best) || p.unknownShare() > unfamiliar) {
        continue;
      }
      if (reviewDisagreement && ReviewGate.argmax(p.adapter()) != ReviewGate.argmax(p.lexical())) {
        continue;
      }
      candidates.add(new Scored(mix[best], best == p.gold()));
    }
    candidates.sort(Comparator.comparingDouble(Scored::confidence).reversed());
    Choice choice = new Choice(1.000001, 0, 0);
    int correct = 0;
    for (int k = 0; k < candidates.size(); k++) {
      if (candidates.get(k).correct()) {
        correct++;
      }
      boolean boundary =
          k + 1 == candidates.size()
              || candidates.get(k + 1).confidence() < candidates.get(k).confidence();
      if (boundary && wilsonLower(correct, k + 1) >= target) {
        choice = new Choice(candidates.get(k).confidence(), k + 1, correct);
      }
    }
    return choice;
  }
}
