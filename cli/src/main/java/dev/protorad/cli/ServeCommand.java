package dev.protorad.cli;

import dev.protorad.server.app.ServerProcess;
import dev.protorad.server.config.ServerConfig;
import java.util.Map;
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

  @Option(
      names = "--console-port",
      paramLabel = "PORT",
      description =
          "Serve the web console on this HTTP port (0: any free port); --demo turns it on at"
              + " 8088 unless given (config console.enabled, console.port).")
  Integer consolePort;

  @Override
  public Integer call() throws Exception {
    Map<String, String> demoKeys = Map.of();
    if (demo) {
      options.applyDemoDefaults();
      demoKeys = DemoSetup.prepare(options.dataDir);
    }
    ServerConfig config = options.resolve(System.getenv());
    if (consolePort != null || demo) {
      config =
          config.withConsole(
              config
                  .console()
                  .enabledOn(consolePort != null ? consolePort : config.console().port()));
    }
    ServerProcess process = new ServerProcess(config, System.out);
    int port = process.start().port();
    ConsoleLauncher console = ConsoleLauncher.startIfEnabled(config, port, demoKeys);
    if (console != null) {
      System.out.println("protorad: console on " + console.url());
    }
    try {
      process.serveUntilSignalled();
    } finally {
      if (console != null) {
        console.close();
      }
    }
    return 0;
  }
}
