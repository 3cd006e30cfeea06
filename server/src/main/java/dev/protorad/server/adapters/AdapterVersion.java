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
 * @param dir its directory
 * @param sizeBytes bytes of its PEFT files
 */
public record AdapterVersion(
    AdapterMetadata metadata, List<String> aliases, boolean archived, Path dir, long sizeBytes) {

  /** Checks and copies the fields. */
  public AdapterVersion {
    requireNonNull(metadata, "metadata");
    aliases = List.copyOf(requireNonNull(aliases, "aliases"));
    requireNonNull(dir, "dir");
  }

  /** {@code name@version}. */
  public String ref() {
    return metadata.ref();
  }
}
