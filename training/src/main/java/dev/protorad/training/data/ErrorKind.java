package dev.protorad.training.data;

/** The kinds of dataset problems {@link DatasetValidator} reports. */
public enum ErrorKind {
  /** The line is not valid UTF-8. */
  INVALID_UTF8,
  /** The line is not a JSON object. */
  BAD_JSON,
  /** {@code note} or {@code label} is missing or null. */
  MISSING_FIELD,
  /** {@code note}, {@code label} or {@code split} is not a string. */
  WRONG_TYPE,
  /** {@code label} is not a catalog protocol id. */
  UNKNOWN_LABEL,
  /** {@code split} is not train, validation or test. */
  INVALID_SPLIT,
  /** The note is empty after trimming. */
  EMPTY_NOTE,
  /** The note is longer than the limit after trimming. */
  OVERSIZED_NOTE,
  /** The same normalized note with the same label appeared on an earlier line. */
  DUPLICATE,
  /** The same normalized note appears with different labels. */
  CONFLICTING_LABEL
}
