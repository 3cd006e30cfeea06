package dev.protorad.cli;

import dev.protorad.client.examples.ComplianceExample;
import dev.protorad.client.examples.GatewayExample;
import dev.protorad.client.examples.InternalServiceExample;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Unmatched;

/**
 * {@code protorad example}: runs the client SDK's example programs ({@code
 * dev.protorad.client.examples}) with their own arguments, as {@code java -cp} would.
 */
@Command(
    name = "example",
    mixinStandardHelpOptions = true,
    description = {
      "Run a client SDK example (dev.protorad.client.examples) against a running server:"
          + " protorad example NAME HOST:PORT [ARGS]. Everything after NAME goes to the example;"
          + " NAME --help shows its arguments."
    },
    subcommands = {
      ExampleCommand.InternalService.class,
      ExampleCommand.Gateway.class,
      ExampleCommand.Compliance.class
    })
final class ExampleCommand implements Callable<Integer> {

  @Spec private CommandSpec spec;

  @Override
  public Integer call() {
    spec.commandLine()
        .getErr()
        .println("example: missing name (expected: internal-service, gateway or compliance)");
    return ExitCodes.USAGE;
  }

  /** Hands every argument to the example unparsed. */
  private abstract static class Forward implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Unmatched List<String> args = new ArrayList<>();

    String[] args() {
      return args.toArray(String[]::new);
    }
  }

  @Command(name = "internal-service", description = "Submit a note with a service's API key.")
  static final class InternalService extends Forward {
    @Override
    public Integer call() {
      return InternalServiceExample.run(
          args(), System.getenv(), spec.commandLine().getOut(), spec.commandLine().getErr());
    }
  }

  @Command(name = "gateway", description = "Submit a note on behalf of an end user (JWT).")
  static final class Gateway extends Forward {
    @Override
    public Integer call() {
      return GatewayExample.run(
          args(), System.getenv(), spec.commandLine().getOut(), spec.commandLine().getErr());
    }
  }

  @Command(name = "compliance", description = "List and verify the audit trail.")
  static final class Compliance extends Forward {
    @Override
    public Integer call() {
      return ComplianceExample.run(
          args(), System.getenv(), spec.commandLine().getOut(), spec.commandLine().getErr());
    }
  }
}
