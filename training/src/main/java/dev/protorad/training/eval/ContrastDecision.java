package dev.protorad.training.eval;

import static java.util.Objects.requireNonNull;

import dev.protorad.clinical.catalog.Protocol;

/**
 * The contrast decision a protocol encodes, for contrast-decision accuracy.
 *
 * <p>Mapping from the catalog's {@code contrast} field: {@code iv}, {@code oral} and {@code both}
 * map to {@link #WITH}; {@code with-and-without} to {@link #WITH_AND_WITHOUT}; {@code none} to
 * {@link #WITHOUT} for CT, CTA, MRI and MRA (where contrast is a choice the label makes) and to
 * {@link #NONE} for XR, US, NM and PET (where no contrast decision exists; NM and PET tracers are
 * not contrast agents).
 */
public enum ContrastDecision {
  WITH,
  WITHOUT,
  WITH_AND_WITHOUT,
  NONE;

  /** The decision {@code protocol} encodes. */
  public static ContrastDecision of(Protocol protocol) {
    requireNonNull(protocol, "protocol");
    return switch (protocol.contrast()) {
      case IV, ORAL, BOTH -> WITH;
      case WITH_AND_WITHOUT -> WITH_AND_WITHOUT;
      case NONE -> protocol.modality().hasContrastChoice() ? WITHOUT : NONE;
    };
  }
}
