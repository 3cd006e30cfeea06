package dev.protorad.clinical.gate;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The review gate of one adapter version with the lexical model fitted beside it, as read from the
 * version's directory.
 *
 * @param gate the fitted parameters ({@code metadata.json}, {@link ReviewGate#METADATA_KEY})
 * @param lexical the lexical model ({@link LexicalModel#FILE})
 */
public record VersionGate(ReviewGate gate, LexicalModel lexical) {

  private static final ObjectMapper JSON = new ObjectMapper();

  public VersionGate {
    requireNonNull(gate, "gate");
    requireNonNull(lexical, "lexical");
  }

  /**
   * The gate of the version in {@code dir}; empty when its {@code metadata.json} records none (or
   * there is no metadata), so the caller falls back to the server's threshold.
   *
   * @throws IOException when the metadata records a gate but its lexical model cannot be read
   */
  public static Optional<VersionGate> load(Path dir, String metadataFile) throws IOException {
    requireNonNull(dir, "dir");
    Path metadata = dir.resolve(metadataFile);
    return Files.isRegularFile(metadata) ? read(dir, Files.readString(metadata)) : Optional.empty();
  }

  /**
   * The gate that {@code metadataJson} records, with its lexical model from {@code dir}; empty when
   * it records none.
   *
   * @throws IOException when the metadata records a gate but its lexical model cannot be read
   */
  public static Optional<VersionGate> read(Path dir, String metadataJson) throws IOException {
    requireNonNull(dir, "dir");
    Optional<ReviewGate> gate = ReviewGate.readFrom(JSON.readTree(metadataJson));
    return gate.isEmpty() ? Optional.empty() : Optional.of(withLexicalModel(gate.get(), dir));
  }

  private static VersionGate withLexicalModel(ReviewGate gate, Path dir) throws IOException {
    return new VersionGate(gate, LexicalModel.read(dir.resolve(LexicalModel.FILE)));
  }
}
