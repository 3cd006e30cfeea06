package dev.protorad.training.eval;

import static java.util.Objects.requireNonNull;

/**
 * How often one gold label was predicted as another.
 *
 * @param gold the correct catalog id
 * @param predicted the wrongly predicted catalog id
 * @param count number of predictions
 */
public record ConfusionPair(String gold, String predicted, int count) {

  /** Validates the fields. */
  public ConfusionPair {
    requireNonNull(gold, "gold");
    requireNonNull(predicted, "predicted");
    if (count < 1) {
      throw new IllegalArgumentException("count: " + count + " (expected: >= 1)");
    }
  }
}
