package dev.protorad.training.data;

import static java.util.Objects.requireNonNull;

import java.util.List;

/**
 * The result of validation: the report and the records that may be used.
 *
 * @param report the problems found
 * @param records the usable records: all valid lines when skipping invalid ones; otherwise every
 *     line when there are no errors and none at all when there are
 */
public record ValidatedDataset(ValidationReport report, List<DatasetRecord> records) {

  /** Copies the records. */
  public ValidatedDataset {
    requireNonNull(report, "report");
    records = List.copyOf(requireNonNull(records, "records"));
  }

  /** The records' examples. */
  public List<Example> examples() {
    return records.stream().map(DatasetRecord::example).toList();
  }
}
