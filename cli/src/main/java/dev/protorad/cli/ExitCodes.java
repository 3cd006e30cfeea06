package dev.protorad.cli;

import java.io.PrintWriter;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Model.CommandSpec;

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

  /**
   * Prints {@code protorad COMMAND: MESSAGE} to the command's error stream and returns {@link
   * #USAGE}: how a command refuses bad arguments or input.
   */
  static int usage(CommandSpec spec, @Nullable String message) {
    PrintWriter err = spec.commandLine().getErr();
    String name = spec.qualifiedName();
    // a command run on its own (not under the protorad root) is still a protorad command
    err.println((name.startsWith("protorad") ? name : "protorad " + name) + ": " + message);
    err.flush();
    return USAGE;
  }
}
