package dev.protorad.server.jobs;

import static java.util.Objects.requireNonNull;

import dev.protorad.server.adapters.AdapterRef;
import dev.protorad.training.HyperParameters;
import org.jspecify.annotations.Nullable;

/**
 * A fine-tuning job to run.
 *
 * @param adapterName the adapter the result registers under
 * @param jsonl the dataset as JSONL ({@code {"note": …, "label": <catalog id>, "split": …}})
 * @param hyperParameters training settings
 * @param skipInvalid leave invalid lines out (reported) instead of refusing the dataset
 * @param createdBy the principal starting the job
 * @param startFrom the adapter version to continue training from ({@code name@N} or {@code
 *     name@alias}), or null to start from fresh LoRA factors
 */
public record FineTuneRequest(
    String adapterName,
    byte[] jsonl,
    HyperParameters hyperParameters,
    boolean skipInvalid,
    String createdBy,
    @Nullable AdapterRef startFrom) {

  /** A job starting from fresh LoRA factors. */
  public FineTuneRequest(
      String adapterName,
      byte[] jsonl,
      HyperParameters hyperParameters,
      boolean skipInvalid,
      String createdBy) {
    this(adapterName, jsonl, hyperParameters, skipInvalid, createdBy, null);
  }

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
