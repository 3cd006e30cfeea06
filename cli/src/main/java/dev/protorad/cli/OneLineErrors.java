package dev.protorad.cli;

import dev.protorad.server.config.ConfigException;
import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.IExecutionExceptionHandler;
import picocli.CommandLine.IParameterExceptionHandler;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;

/**
 * Turns usage and configuration errors into one line on stderr and exit status 2, without a stack
 * trace. Other failures print one line and exit 1.
 */
final class OneLineErrors implements IExecutionExceptionHandler, IParameterExceptionHandler {

  @Override
  public int handleParseException(ParameterException e, String[] args) {
    PrintWriter err = e.getCommandLine().getErr();
    err.println("protorad: " + e.getMessage());
    err.println("Try '" + e.getCommandLine().getCommandSpec().qualifiedName() + " --help'.");
    return ExitCodes.USAGE;
  }

  @Override
  public int handleExecutionException(Exception e, CommandLine cmd, ParseResult parseResult) {
    PrintWriter err = cmd.getErr();
    if (e instanceof ConfigException) {
      err.println("protorad: config error: " + e.getMessage());
      return ExitCodes.USAGE;
    }
    if (e instanceof UsageError) {
      err.println("protorad: " + e.getMessage());
      return ExitCodes.USAGE;
    }
    err.println("protorad: " + e.getClass().getSimpleName() + ": " + e.getMessage());
    return ExitCodes.FAILURE;
  }
}
