package dev.protorad.clinical.catalog;

/** A catalog-rule concern raised for a (note, predicted protocol) pair. Ids are stable. */
public enum RuleFlag {
  /** Prior reaction to iodinated contrast and an iodinated-contrast protocol. */
  CONTRAST_ALLERGY("contrast-allergy"),
  /** Prior reaction to gadolinium and a gadolinium protocol. */
  GADOLINIUM_ALLERGY("gadolinium-allergy"),
  /** eGFR below 30 (or CKD stage 4-5 / ESRD) and a contrast protocol. */
  EGFR_BELOW_30("egfr-below-30"),
  /** Serum creatinine of 2.0 mg/dL (177 umol/L) or more and a contrast protocol. */
  CREATININE_ELEVATED("creatinine-elevated"),
  /** Acute kidney injury and a contrast protocol. */
  AKI("aki"),
  /** Maintenance dialysis and a gadolinium protocol. */
  DIALYSIS("dialysis"),
  /** Pregnancy and an ionizing (CT, CTA, NM, PET) or gadolinium protocol. */
  PREGNANCY("pregnancy"),
  /** An MRI-unsafe or non-conditional implant and an MRI or MRA protocol. */
  MRI_UNSAFE_DEVICE("mri-unsafe-device"),
  /** Metformin and an iodinated-contrast protocol. */
  METFORMIN("metformin");

  private final String id;

  RuleFlag(String id) {
    this.id = id;
  }

  /** The stable flag id, e.g. {@code contrast-allergy}. */
  public String id() {
    return id;
  }
}
