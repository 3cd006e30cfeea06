package dev.protorad.training.data;

import static java.util.Objects.requireNonNull;

/**
 * A synthetic note with its split and how it was made.
 *
 * @param example the note and its label
 * @param split the split it was assigned to
 * @param style the surface style it was written in
 * @param scenario the indication or rule scenario it was built from
 * @param sourceId the protocol whose indication the note paraphrases (differs from the label when a
 *     rule changed the answer)
 */
public record GeneratedNote(
    Example example, Split split, NoteStyle style, Scenario scenario, String sourceId) {

  /** Validates the fields. */
  public GeneratedNote {
    requireNonNull(example, "example");
    requireNonNull(split, "split");
    requireNonNull(style, "style");
    requireNonNull(scenario, "scenario");
    requireNonNull(sourceId, "sourceId");
  }
}
