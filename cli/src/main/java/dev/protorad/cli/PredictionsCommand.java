package dev.protorad.cli;

import dev.protorad.server.serving.PredictionSchema;
import dev.protorad.server.serving.PredictionStore.PredictionStoreException;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code protorad predictions}: the prediction database. */
@Command(
    name = "predictions",
    mixinStandardHelpOptions = true,
    description = "The prediction database.",
    subcommands = {PredictionsCommand.Migrate.class})
final class PredictionsCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Override
  public Integer call() {
    spec.commandLine().usage(spec.commandLine().getOut());
    return 0;
  }

  /** {@code protorad predictions migrate}: the PostgreSQL schema, as its owner. */
  @Command(
      name = "migrate",
      mixinStandardHelpOptions = true,
      description = {
        "Apply the prediction store's schema migrations (Flyway) as the role that owns the schema,"
            + " and grant the server's role SELECT, INSERT and UPDATE on predictions and SELECT,"
            + " INSERT and DELETE on the kept notes; nothing else.",
        "Then run the server as that role with predictions.manage_schema: false."
      })
  static final class Migrate implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Mixin OwnerLogin login;

    @Override
    public Integer call() {
      Optional<String> urlProblem = login.urlProblem();
      return urlProblem.isPresent() ? ExitCodes.usage(spec, urlProblem.get()) : migrate();
    }

    private int migrate() {
      try {
        PredictionSchema.Result r =
            PredictionSchema.migrate(login.dataSource(), login.serverRole());
        spec.commandLine()
            .getOut()
            .printf(
                "prediction schema at version %s (%d migrations applied)%s%n",
                r.version(),
                r.migrationsApplied(),
                login.serverRole().map(role -> "; granted to " + role).orElse(""));
        return 0;
      } catch (IllegalArgumentException | PredictionStoreException e) {
        spec.commandLine().getErr().println("protorad predictions migrate: " + e.getMessage());
        return ExitCodes.FAILURE;
      }
    }
  }
}
