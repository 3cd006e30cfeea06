package dev.protorad.server.adapters;

import static java.util.Objects.requireNonNull;

import dev.protorad.engine.model.PromptTemplate;
import java.util.Map;

/**
 * What the caller of {@link AdapterStore#register} knows about a new version; the store adds the
 * name, version, content hash, base fingerprint and time.
 *
 * @param datasetHash SHA-256 of the training data, or {@code imported}
 * @param hyperParameters training settings as text
 * @param template the prompt template the adapter expects
 * @param metrics evaluation figures
 * @param createdBy the principal
 * @param jobId the training job, or empty
 * @param parent the version whose factors training continued from ({@code name@N}), or empty
 */
public record Lineage(
    String datasetHash,
    Map<String, String> hyperParameters,
    PromptTemplate template,
    Map<String, Double> metrics,
    String createdBy,
    String jobId,
    String parent) {

  /** Lineage of a version trained from fresh factors. */
  public Lineage(
      String datasetHash,
      Map<String, String> hyperParameters,
      PromptTemplate template,
      Map<String, Double> metrics,
      String createdBy,
      String jobId) {
    this(datasetHash, hyperParameters, template, metrics, createdBy, jobId, "");
  }

  /** Checks and copies the fields. */
  public Lineage {
    requireNonNull(datasetHash, "datasetHash");
    hyperParameters = Map.copyOf(requireNonNull(hyperParameters, "hyperParameters"));
    requireNonNull(template, "template");
    metrics = Map.copyOf(requireNonNull(metrics, "metrics"));
    requireNonNull(createdBy, "createdBy");
    requireNonNull(jobId, "jobId");
    requireNonNull(parent, "parent");
  }

  /** Lineage of an imported adapter. */
  public static Lineage imported(PromptTemplate template, String createdBy) {
    return new Lineage("imported", Map.of(), template, Map.of(), createdBy, "");
  }
}
