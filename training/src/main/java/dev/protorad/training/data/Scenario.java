package dev.protorad.training.data;

/** What a synthetic note is built from: an indication alone or with a rule-relevant finding. */
public enum Scenario {
  /** The protocol's own indication, with optional negated safety findings. */
  INDICATION,
  /** eGFR below 30 or AKI, not on dialysis, for an iodinated-contrast protocol. */
  RENAL_IODINATED,
  /** eGFR below 30 for a gadolinium protocol. */
  RENAL_GADOLINIUM,
  /** Maintenance dialysis with an iodinated-contrast protocol: the label does not change. */
  DIALYSIS_UNCHANGED,
  /** Prior moderate or severe reaction to iodinated contrast. */
  ALLERGY_IODINATED,
  /** Prior mild reaction, or shellfish/iodine allergy only: the label does not change. */
  ALLERGY_UNCHANGED,
  /** Prior moderate or severe reaction to gadolinium. */
  ALLERGY_GADOLINIUM,
  /** Pregnancy. */
  PREGNANCY,
  /** An MRI-unsafe implant with an MRI or MRA indication. */
  MRI_UNSAFE_DEVICE,
  /** An MR-conditional implant: the label does not change. */
  MRI_CONDITIONAL_DEVICE
}
