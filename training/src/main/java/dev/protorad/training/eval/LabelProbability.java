package dev.protorad.training.eval;

import static java.util.Objects.requireNonNull;

/**
 * A label with its predicted probability.
 *
 * @param id catalog protocol id
 * @param probability in [0, 1]
 */
public record LabelProbability(String id, double probability) {

  /** Validates the fields. */
  public LabelProbability {
    requireNonNull(id, "id");
    if (!(probability >= 0 && probability <= 1)) {
      throw new IllegalArgumentException("probability: " + probability + " (expected: [0, 1])");
    }
  }
}
