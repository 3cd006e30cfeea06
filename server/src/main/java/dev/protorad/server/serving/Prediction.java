package dev.protorad.server.serving;

import static java.util.Objects.requireNonNull;

import dev.protorad.server.catalog.Protocol;
import java.util.List;

/**
 * The model's answer for one note, before it is stored or shown.
 *
 * @param label the most probable protocol
 * @param confidence its probability among all catalog labels
 * @param alternatives the top-k protocols, most probable first
 * @param adapterVersion {@code name@version}, or empty for the bare base
 * @param baseFingerprint fingerprint of the base model
 * @param flags catalog rule flag ids for this note and label
 * @param needsReview low confidence or any flag
 */
public record Prediction(
    Protocol label,
    double confidence,
    List<Alternative> alternatives,
    String adapterVersion,
    String baseFingerprint,
    List<String> flags,
    boolean needsReview) {

  public Prediction {
    requireNonNull(label, "label");
    alternatives = List.copyOf(alternatives);
    requireNonNull(adapterVersion, "adapterVersion");
    requireNonNull(baseFingerprint, "baseFingerprint");
    flags = List.copyOf(flags);
  }

  /** A protocol with its probability. */
  public record Alternative(Protocol protocol, double probability) {}
}
