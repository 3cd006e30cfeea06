package dev.protorad.cli;

/**
 * A refusal of bad arguments or input, thrown from a command's steps and turned by the command into
 * {@code protorad COMMAND: MESSAGE} and {@link ExitCodes#USAGE} ({@link ExitCodes#usage}). The
 * message names the option and what was expected; it never holds note text.
 */
final class UsageError extends RuntimeException {

  private static final long serialVersionUID = 1L;

  UsageError(String message) {
    super(message, null, false, false);
  }
}
