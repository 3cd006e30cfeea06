package dev.protorad.client.examples;

import dev.protorad.client.ProtoradException;
import io.grpc.ManagedChannel;
import java.io.PrintWriter;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * Runs one example: parses its arguments, opens and closes the channel, and turns failures into a
 * one-line message and an exit status (1 for a failed call, 2 for bad arguments).
 */
final class ExampleRunner {

  static final int FAILED = 1;
  static final int USAGE = 2;

  /** What an example does once connected; returns its exit status. */
  interface Body {
    int run(ExampleArgs args, ManagedChannel channel) throws ExampleArgs.UsageException;
  }

  private ExampleRunner() {}

  static int run(
      String name,
      String usage,
      List<String> valueOptions,
      String[] args,
      Map<String, String> env,
      PrintWriter out,
      PrintWriter err,
      Body body) {
    if (ExampleArgs.wantsHelp(args)) {
      out.println(usage);
      out.flush();
      return 0;
    }
    ManagedChannel channel = null;
    try {
      ExampleArgs parsed = ExampleArgs.parse(args, valueOptions, env);
      channel = parsed.channel();
      return body.run(parsed, channel);
    } catch (ExampleArgs.UsageException e) {
      err.println(name + ": " + e.getMessage());
      err.println("usage: " + usage.lines().findFirst().orElse(""));
      return USAGE;
    } catch (ProtoradException e) {
      err.println(name + ": call failed: " + e.getMessage());
      return FAILED;
    } catch (IllegalArgumentException e) {
      err.println(name + ": " + e.getMessage());
      return USAGE;
    } finally {
      out.flush();
      err.flush();
      close(channel);
    }
  }

  private static void close(@Nullable ManagedChannel channel) {
    if (channel == null) {
      return;
    }
    try {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
