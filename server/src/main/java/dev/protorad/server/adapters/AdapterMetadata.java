package dev.protorad.server.adapters;

import static java.util.Objects.requireNonNull;

import java.time.Instant;
import java.util.Map;
import java.util.TreeMap;

/**
 * The lineage of one adapter version, stored as {@code metadata.json} beside its PEFT files. Never
 * holds note text.
 *
 * @param name adapter name
 * @param version version number, from 1
 * @param contentHash SHA-256 over the PEFT files (names and bytes, in name order)
 * @param baseFingerprint fingerprint of the base the adapter was trained on
 * @param datasetHash SHA-256 of the training data, or {@code imported}
 * @param hyperParameters the training settings, as text
 * @param promptTemplateVersion the prompt template's version
 * @param promptTemplate the prompt template text
 * @param labelSuffix what every label ends with
 * @param metrics evaluation figures, e.g. {@code test.accuracy}
 * @param createdBy the principal that trained or imported it
 * @param createdAt when it was registered
 * @param jobId the training job, or empty
 * @param parent the version training continued from ({@code name@N}), or empty
 */
public record AdapterMetadata(
    String name,
    int version,
    String contentHash,
    String baseFingerprint,
    String datasetHash,
    Map<String, String> hyperParameters,
    String promptTemplateVersion,
    String promptTemplate,
    String labelSuffix,
    Map<String, Double> metrics,
    String createdBy,
    Instant createdAt,
    String jobId,
    String parent) {

  /** Checks and copies the fields (maps sorted by key). */
  public AdapterMetadata {
    AdapterRef.requireName(name);
    if (version < 1) {
      throw new IllegalArgumentException("version: " + version + " (expected: >= 1)");
    }
    requireNonNull(contentHash, "contentHash");
    requireNonNull(baseFingerprint, "baseFingerprint");
    requireNonNull(datasetHash, "datasetHash");
    hyperParameters = Map.copyOf(new TreeMap<>(requireNonNull(hyperParameters, "hyperParameters")));
    requireNonNull(promptTemplateVersion, "promptTemplateVersion");
    requireNonNull(promptTemplate, "promptTemplate");
    requireNonNull(labelSuffix, "labelSuffix");
    metrics = Map.copyOf(new TreeMap<>(requireNonNull(metrics, "metrics")));
    requireNonNull(createdBy, "createdBy");
    requireNonNull(createdAt, "createdAt");
    requireNonNull(jobId, "jobId");
    requireNonNull(parent, "parent");
  }

  /** {@code name@version}. */
  public String ref() {
    return name + "@" + version;
  }
}
