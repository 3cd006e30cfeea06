package dev.protorad.server.cli;

import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthGrpc;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code protorad demo}: starts the server on the embedded defaults and shows what it is doing. */
@Command(
    name = "demo",
    mixinStandardHelpOptions = true,
    description = {
      "Start the server on the embedded defaults, check it from a client, and keep serving.",
      "With --no-serve, stop after the checks (exit 0)."
    })
final class DemoCommand implements Callable<Integer> {

  @Mixin ServerOptions options = new ServerOptions();

  @Option(names = "--no-serve", description = "Stop after the tour instead of serving.")
  boolean noServe;

  @Override
  public Integer call() throws Exception {
    if (options.dataDir == null) {
      options.dataDir = Path.of("data", "demo");
    }
    ServerProcess process = new ServerProcess(options.resolve(System.getenv()), System.out);
    step("Starting the server (no model is loaded yet: the engine is not built in this version)");
    int port = process.start().port();
    step("Checking health from a gRPC client over loopback");
    System.out.println("  health: " + checkHealth(port));
    if (noServe) {
      process.stop();
      return 0;
    }
    step("Serving. Try:  grpcurl -plaintext 127.0.0.1:" + port + " list   (Ctrl-C to stop)");
    process.serveUntilSignalled();
    return 0;
  }

  private static String checkHealth(int port) throws InterruptedException {
    ManagedChannel channel =
        ManagedChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
    try {
      return HealthGrpc.newBlockingStub(channel)
          .withDeadlineAfter(5, TimeUnit.SECONDS)
          .check(HealthCheckRequest.getDefaultInstance())
          .getStatus()
          .name();
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  private static void step(String text) {
    System.out.println("==> " + text);
    System.out.flush();
  }
}
