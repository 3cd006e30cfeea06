package dev.protorad.cli;

import dev.protorad.server.app.ServerProcess;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

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

  @Option(
      names = "--demo",
      description =
          "Serve the demo setup (demo policy and credentials in the data directory, default"
              + " data/demo; the embedded base models/demo-base unless --model names one)"
              + " without the tour.")
  boolean demo;

  @Override
  public Integer call() throws Exception {
    if (demo) {
      options.applyDemoDefaults();
      DemoSetup.prepare(options.dataDir);
    }
    ServerProcess process = new ServerProcess(options.resolve(System.getenv()), System.out);
    process.start();
    process.serveUntilSignalled();
    return 0;
  }
}
