package dev.protorad.training.data;

import static java.util.Objects.requireNonNull;

/**
 * One dataset problem. The message never contains note text.
 *
 * @param line 1-based line number in the JSONL file
 * @param kind what is wrong
 * @param message what is wrong and what was expected
 */
public record ValidationError(int line, ErrorKind kind, String message) {

  /** Validates the fields. */
  public ValidationError {
    if (line < 1) {
      throw new IllegalArgumentException("line: " + line + " (expected: >= 1)");
    }
    requireNonNull(kind, "kind");
    requireNonNull(message, "message");
  }
}
