package dev.protorad.server.adapters;

import static java.util.Objects.requireNonNull;

import java.nio.file.Path;
import java.util.List;

/**
 * One registered version as the store sees it now.
 *
 * @param metadata its immutable lineage
 * @param aliases the aliases pointing at it
 * @param archived whether it is archived (kept, not served)
 * @param dir the directory holding its files
 * @param sizeBytes bytes of its PEFT files
 * @param metadataJson its {@code metadata.json} as registered (the lineage above, and the review
 *     gate's parameters when it has one)
 */
public record AdapterVersion(
    AdapterMetadata metadata,
    List<String> aliases,
    boolean archived,
    Path dir,
    long sizeBytes,
    String metadataJson) {

  /** Checks and copies the fields. */
  public AdapterVersion {
    requireNonNull(metadata, "metadata");
    aliases = List.copyOf(requireNonNull(aliases, "aliases"));
    requireNonNull(dir, "dir");
    requireNonNull(metadataJson, "metadataJson");
  }

  /** {@code name@version}. */
  public String ref() {
    return metadata.ref();
  }
}
