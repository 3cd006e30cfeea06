package dev.protorad.clinical.gate;

/** Why a prediction is sent to a radiologist: the values of {@code review_reasons}. */
public final class ReviewReason {

  /** Confidence below the threshold fitted for the adapter version (or the server's default). */
  public static final String LOW_CONFIDENCE = "low-confidence";

  /** The note is made of words unlike the notes the adapter version was trained on. */
  public static final String UNFAMILIAR_NOTE = "unfamiliar-note";

  /** The adapter and the lexical model fitted beside it chose different labels. */
  public static final String MODELS_DISAGREE = "models-disagree";

  /** A catalog rule fired (contrast allergy, kidney function, pregnancy, device, ...). */
  public static final String RULE_FLAG = "rule-flag";

  /** The note was longer than the model's context; its head and tail were read. */
  public static final String NOTE_TRUNCATED = "note-truncated";

  private ReviewReason() {}
}
