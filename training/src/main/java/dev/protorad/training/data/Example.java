package dev.protorad.training.data;

import static java.util.Objects.requireNonNull;

/**
 * One labeled training example.
 *
 * @param note the order's free-text clinical note
 * @param label the catalog protocol id
 */
public record Example(String note, String label) {

  /** Validates the fields. */
  public Example {
    requireNonNull(note, "note");
    requireNonNull(label, "label");
  }

  /** Hides the note (PHI) from logs and error messages. */
  @Override
  public String toString() {
    return "Example[label=" + label + ", noteChars=" + note.length() + "]";
  }
}
