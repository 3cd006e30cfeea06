package dev.protorad.training.data;

import static java.util.Objects.requireNonNull;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

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

  /**
   * The examples by split, every split present: a record's own split, else one drawn from a hash of
   * its normalized note, so that the same note always lands in the same split.
   */
  public Map<Split, List<Example>> bySplit() {
    Map<Split, List<Example>> out = new EnumMap<>(Split.class);
    for (Split s : Split.values()) {
      out.put(s, new ArrayList<>());
    }
    Map<String, Split> assigned = new HashMap<>();
    for (DatasetRecord r : records) {
      Split s =
          r.split()
              .orElseGet(
                  () ->
                      assigned.computeIfAbsent(
                          NearDuplicates.normalize(r.example().note()), Split::byHash));
      out.computeIfAbsent(s, k -> new ArrayList<>()).add(r.example());
    }
    return out;
  }
}
