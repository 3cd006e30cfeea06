package dev.protorad.server.serving;

import static java.util.Objects.requireNonNull;

import dev.protorad.clinical.catalog.Protocol;
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
 * @param needsReview whether a radiologist should review it: {@code reviewReasons} is not empty
 * @param reviewReasons why ({@link dev.protorad.clinical.gate.ReviewReason}), in a fixed order
 */
public record ProtocolAnswer(
    Protocol label,
    double confidence,
    List<Alternative> alternatives,
    String adapterVersion,
    String baseFingerprint,
    List<String> flags,
    boolean needsReview,
    List<String> reviewReasons) {

  public ProtocolAnswer {
    requireNonNull(label, "label");
    alternatives = List.copyOf(alternatives);
    requireNonNull(adapterVersion, "adapterVersion");
    requireNonNull(baseFingerprint, "baseFingerprint");
    flags = List.copyOf(flags);
    reviewReasons = List.copyOf(reviewReasons);
    if (needsReview == reviewReasons.isEmpty()) {
      throw new IllegalArgumentException("needsReview: expected exactly when there are reasons");
    }
  }

  /** A protocol with its probability. */
  public record Alternative(Protocol protocol, double probability) {}
}
