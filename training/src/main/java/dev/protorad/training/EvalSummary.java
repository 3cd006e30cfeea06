package dev.protorad.training;

import static java.util.Objects.requireNonNull;

import dev.protorad.training.eval.EvalMetrics;
import org.jspecify.annotations.Nullable;

/**
 * The adapter's metrics on one split, beside the TF-IDF + logistic regression baseline's.
 *
 * @param split {@code validation} or {@code test}
 * @param adapter the adapter's metrics
 * @param baseline the baseline's on the same examples, when computed
 */
public record EvalSummary(String split, EvalMetrics adapter, @Nullable EvalMetrics baseline) {

  /** Checks the fields. */
  public EvalSummary {
    requireNonNull(split, "split");
    requireNonNull(adapter, "adapter");
  }
}
