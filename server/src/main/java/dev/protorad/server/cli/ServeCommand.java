package dev.protorad.server.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code protorad serve}: runs the server until SIGTERM/SIGINT. */
@Command(
    name = "serve",
    mixinStandardHelpOptions = true,
    description = {
      "Start the gRPC server (health, reflection and the protorad.v1 services).",
      "Stops on SIGTERM or SIGINT: no new calls, calls in flight drain within the grace period,"
          + " exit 0."
    })
final class ServeCommand implements Callable<Integer> {

  @Mixin ServerOptions options = new ServerOptions();

  @Override
  public Integer call() throws Exception {
    ServerProcess process = new ServerProcess(options.resolve(System.getenv()), System.out);
    process.start();
    process.serveUntilSignalled();
    return 0;
  }
}
