package dev.protorad.training.data;

import static java.util.Objects.requireNonNull;

import java.util.Optional;

/**
 * A valid dataset line.
 *
 * @param line 1-based line number
 * @param example the trimmed note and its label
 * @param split the split the line names, if any
 */
public record DatasetRecord(int line, Example example, Optional<Split> split) {

  /** Validates the fields. */
  public DatasetRecord {
    requireNonNull(example, "example");
    requireNonNull(split, "split");
  }
}
