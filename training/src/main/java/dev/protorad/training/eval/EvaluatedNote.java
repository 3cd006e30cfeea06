package dev.protorad.training.eval;

import static java.util.Objects.requireNonNull;

import java.util.Comparator;
import java.util.List;

/**
 * One evaluated prediction.
 *
 * @param gold the correct catalog id
 * @param ranked predicted labels, highest probability first (sorted on construction), at least one
 * @param confidence the confidence reported for the top label, in [0, 1]
 */
public record EvaluatedNote(String gold, List<LabelProbability> ranked, double confidence) {

  /** Validates the fields and sorts {@code ranked} by descending probability. */
  public EvaluatedNote {
    requireNonNull(gold, "gold");
    requireNonNull(ranked, "ranked");
    if (ranked.isEmpty()) {
      throw new IllegalArgumentException("ranked: empty (expected: at least one label)");
    }
    ranked =
        ranked.stream()
            .sorted(Comparator.comparingDouble(LabelProbability::probability).reversed())
            .toList();
    if (!(confidence >= 0 && confidence <= 1)) {
      throw new IllegalArgumentException("confidence: " + confidence + " (expected: [0, 1])");
    }
  }

  /** A prediction whose confidence is the top label's probability. */
  public static EvaluatedNote of(String gold, List<LabelProbability> ranked) {
    requireNonNull(ranked, "ranked");
    double top = ranked.stream().mapToDouble(LabelProbability::probability).max().orElse(0);
    return new EvaluatedNote(gold, ranked, top);
  }

  /** The top label's id. */
  public String predicted() {
    return ranked.get(0).id();
  }

  /** Whether {@code gold} is among the first {@code k} labels. */
  public boolean inTop(int k) {
    return ranked.stream().limit(k).anyMatch(s -> s.id().equals(gold));
  }
}
