package dev.protorad.policy;

import static java.util.Objects.requireNonNull;

/**
 * One problem found in a policy file. Messages never contain credential material.
 *
 * @param source the file name, for example {@code policy.yaml}
 * @param line the 1-based line, or 0 when the problem concerns the whole file
 * @param message what is wrong
 */
public record PolicyError(String source, int line, String message) {

  /** Validates the fields. */
  public PolicyError {
    requireNonNull(source, "source");
    requireNonNull(message, "message");
    if (line < 0) {
      throw new IllegalArgumentException("line: " + line + " (expected: >= 0)");
    }
  }

  /** {@code source:line: message}, or {@code source: message} for whole-file problems. */
  @Override
  public String toString() {
    return line == 0 ? source + ": " + message : source + ":" + line + ": " + message;
  }
}
