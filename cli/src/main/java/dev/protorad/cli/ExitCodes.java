package dev.protorad.cli;

/** The exit status of every {@code protorad} command, in one place. */
final class ExitCodes {

  /**
   * The command ran and failed: a dataset with errors, a server that refused, a store that could
   * not be reached.
   */
  static final int FAILURE = 1;

  /** Bad arguments or bad input: nothing was done; the message says what to change. */
  static final int USAGE = 2;

  private ExitCodes() {}
}
