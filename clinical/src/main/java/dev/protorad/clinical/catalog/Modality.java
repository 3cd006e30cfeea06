package dev.protorad.clinical.catalog;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/** Imaging modalities used by the catalog. */
public enum Modality {
  CT,
  CTA,
  MRI,
  MRA,
  US,
  XR,
  NM,
  PET;

  /** Whether the modality uses ionizing radiation. */
  public boolean isIonizing() {
    return this == CT || this == CTA || this == XR || this == NM || this == PET;
  }

  /** Whether the modality is magnetic resonance (MRI or MRA). */
  public boolean isMagneticResonance() {
    return this == MRI || this == MRA;
  }

  /** Whether a contrast agent is a protocol choice for this modality (CT, CTA, MRI, MRA). */
  public boolean hasContrastChoice() {
    return this == CT || this == CTA || this == MRI || this == MRA;
  }

  /**
   * Parses a catalog value.
   *
   * @throws IllegalArgumentException naming the allowed values when {@code value} is not one
   */
  public static Modality fromYaml(String value) {
    String v = value == null ? "" : value.trim().toUpperCase(Locale.ROOT);
    for (Modality m : values()) {
      if (m.name().equals(v)) {
        return m;
      }
    }
    throw new IllegalArgumentException(
        "modality: "
            + value
            + " (expected one of: "
            + Arrays.stream(values()).map(Enum::name).collect(Collectors.joining(", "))
            + ")");
  }
}
