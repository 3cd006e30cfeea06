package dev.protorad.cli;

import dev.protorad.client.ProtoradClient;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * {@code protorad health}: asks a running server's {@code grpc.health.v1.Health} service, prints
 * its status and exits 0 only when it is SERVING (for scripts, image smoke checks and exec probes).
 */
@Command(
    name = "health",
    mixinStandardHelpOptions = true,
    description =
        "Ask a running server whether it is SERVING (exit 0), or not yet or no longer (exit 1).")
final class HealthCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Mixin ClientConnection connection = new ClientConnection();

  @Override
  public Integer call() throws Exception {
    return connection.run(spec, this::health);
  }

  private int health(ProtoradClient client) {
    ServingStatus status = client.health();
    spec.commandLine().getOut().println(status.name());
    spec.commandLine().getOut().flush();
    return status == ServingStatus.SERVING ? 0 : ExitCodes.FAILURE;
  }
}
