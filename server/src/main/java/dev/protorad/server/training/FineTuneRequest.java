package dev.protorad.server.training;

import static java.util.Objects.requireNonNull;

/**
 * A fine-tuning job to run.
 *
 * @param adapterName the adapter the result registers under
 * @param jsonl the dataset as JSONL ({@code {"note": …, "label": <catalog id>, "split": …}})
 * @param hyperParameters training settings
 * @param skipInvalid leave invalid lines out (reported) instead of refusing the dataset
 * @param createdBy the principal starting the job
 */
public record FineTuneRequest(
    String adapterName,
    byte[] jsonl,
    HyperParameters hyperParameters,
    boolean skipInvalid,
    String createdBy) {

  /** Checks the fields. */
  public FineTuneRequest {
    requireNonNull(adapterName, "adapterName");
    if (!adapterName.matches("[a-z0-9][a-z0-9._-]{0,63}")) {
      throw new IllegalArgumentException(
          "adapter_name: not a valid adapter name (expected: [a-z0-9][a-z0-9._-]{0,63})");
    }
    requireNonNull(jsonl, "jsonl");
    requireNonNull(hyperParameters, "hyperParameters");
    requireNonNull(createdBy, "createdBy");
  }
}
