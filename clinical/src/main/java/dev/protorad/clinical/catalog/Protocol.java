package dev.protorad.clinical.catalog;

import static java.util.Objects.requireNonNull;

import java.util.List;

/**
 * One catalog protocol: the label the server predicts.
 *
 * @param id stable catalog id, e.g. {@code ct-abdomen-w}
 * @param name display name, e.g. {@code CT Abdomen W Contrast}
 * @param modality imaging modality
 * @param region body region from the catalog's region vocabulary
 * @param contrast contrast use
 * @param indications the catalog's indication phrases, in catalog order
 */
public record Protocol(
    String id,
    String name,
    Modality modality,
    String region,
    Contrast contrast,
    List<String> indications) {

  /** Validates and copies the fields. */
  public Protocol {
    requireNonNull(id, "id");
    requireNonNull(name, "name");
    requireNonNull(modality, "modality");
    requireNonNull(region, "region");
    requireNonNull(contrast, "contrast");
    indications = List.copyOf(requireNonNull(indications, "indications"));
    if (id.isBlank()) {
      throw new IllegalArgumentException("id: blank (expected a non-empty catalog id)");
    }
    if (name.isBlank()) {
      throw new IllegalArgumentException("name: blank for " + id + " (expected a label name)");
    }
  }

  /** Whether the protocol gives iodinated contrast (CT or CTA with contrast). */
  public boolean usesIodinatedContrast() {
    return (modality == Modality.CT || modality == Modality.CTA) && contrast.isGiven();
  }

  /** Whether the protocol gives a gadolinium-based agent (MRI or MRA with contrast). */
  public boolean usesGadolinium() {
    return modality.isMagneticResonance() && contrast.isGiven();
  }
}
