package dev.protorad.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code protorad} command line. */
@Command(
    name = "protorad",
    mixinStandardHelpOptions = true,
    versionProvider = VersionProvider.class,
    description = "Governed gRPC model server for radiology protocol assignment.",
    subcommands = {
      ServeCommand.class,
      HealthCommand.class,
      DemoCommand.class,
      DatasetCommand.class,
      CheckpointCommand.class,
      QuantizeCommand.class,
      InspectCommand.class,
      ScoreCommand.class,
      EvaluateCommand.class,
      CalibrateCommand.class,
      TrainCommand.class,
      AdaptersCommand.class,
      PretrainCommand.class,
      AuditCommand.class,
      PredictionsCommand.class,
      ExampleCommand.class,
      CommandLine.HelpCommand.class
    })
public final class Main implements Runnable {

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  public static void main(String[] args) {
    System.exit(run(args));
  }

  /** Runs the CLI and returns its exit code; 2 for usage and configuration errors. */
  public static int run(String... args) {
    return commandLine().execute(args);
  }

  /** The whole command tree, with the one-line error handlers {@link #run} uses. */
  static CommandLine commandLine() {
    return new CommandLine(new Main())
        .setExecutionExceptionHandler(new OneLineErrors())
        .setParameterExceptionHandler(new OneLineErrors());
  }

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }
}
