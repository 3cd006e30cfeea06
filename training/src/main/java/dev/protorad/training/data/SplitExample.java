package dev.protorad.training.data;

import static java.util.Objects.requireNonNull;

/**
 * An example assigned to a split.
 *
 * @param example the note and its label
 * @param split the split it belongs to
 */
public record SplitExample(Example example, Split split) {

  /** Validates the fields. */
  public SplitExample {
    requireNonNull(example, "example");
    requireNonNull(split, "split");
  }
}
