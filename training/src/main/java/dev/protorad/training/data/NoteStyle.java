package dev.protorad.training.data;

/** The surface style of a synthetic note. */
public enum NoteStyle {
  /** Order-entry fragment: "67M r/o PE, SOB, tachy". */
  TERSE,
  /** One to three full sentences. */
  SENTENCE,
  /** EHR copy-paste: sections with history, medications, allergies, vitals and labs. */
  EHR,
  /** Fragment with heavy abbreviations (h/o, s/p, c/o, r/o, w/, hx). */
  ABBREVIATED,
  /** A few words. */
  MINIMAL,
  /** A long narrative with history, social history, medications and plan. */
  LONG_NARRATIVE,
  /** A question to the radiologist: "?PE", "does she have appendicitis?". */
  QUESTION,
  /** Bulleted list. */
  LIST,
  /** A referral letter. */
  REFERRAL,
  /** Order-entry screening form: reason plus answered safety questions ("Pregnant? N"). */
  ORDER_FORM
}
