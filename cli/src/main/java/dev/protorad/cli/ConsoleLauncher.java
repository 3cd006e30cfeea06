package dev.protorad.cli;

import dev.protorad.client.ProtoradChannels;
import dev.protorad.console.ConsoleServer;
import dev.protorad.console.ConsoleSettings;
import dev.protorad.server.config.ConsoleConfig;
import dev.protorad.server.config.ServerConfig;
import io.grpc.ManagedChannel;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * Starts the web console beside a running server when {@code console.enabled}: it reaches the API
 * over the server's own port, as any SDK client does (with TLS when the server speaks it).
 */
final class ConsoleLauncher implements AutoCloseable {

  private final ConsoleServer console;
  private final ManagedChannel channel;

  private ConsoleLauncher(ConsoleServer console, ManagedChannel channel) {
    this.console = console;
    this.channel = channel;
  }

  /**
   * The console for {@code config}, reaching the server on {@code grpcPort}, or null when it is
   * off. {@code demoKeys} (role to API key) turns on the demo role picker.
   */
  static @Nullable ConsoleLauncher startIfEnabled(
      ServerConfig config, int grpcPort, Map<String, String> demoKeys) throws IOException {
    ConsoleConfig c = config.console();
    if (!c.enabled()) {
      return null;
    }
    Optional<ConsoleSettings.Gateway> gateway = gateway(c);
    Map<String, String> roles = new LinkedHashMap<>(demoKeys);
    roles.remove("gateway");
    ManagedChannel channel = ProtoradChannels.open("localhost:" + grpcPort, tls(config));
    try {
      ConsoleServer console =
          ConsoleServer.start(
              new ConsoleSettings(c.host(), c.port(), roles, gateway, config.tls().enabled()),
              channel);
      return new ConsoleLauncher(console, channel);
    } catch (RuntimeException e) {
      channel.shutdownNow();
      throw new UsageError(
          "console: cannot listen on " + c.host() + ":" + c.port() + " (" + e.getMessage() + ")");
    }
  }

  /** The gateway's key and user header, when {@code console.gateway_key_env} names one. */
  private static Optional<ConsoleSettings.Gateway> gateway(ConsoleConfig c) {
    if (c.gatewayKeyEnv().isEmpty()) {
      return Optional.empty();
    }
    String key = System.getenv(c.gatewayKeyEnv());
    if (key == null || key.isBlank()) {
      throw new UsageError(
          "console.gateway_key_env names " + c.gatewayKeyEnv() + ", which is not set");
    }
    return Optional.of(new ConsoleSettings.Gateway(key.trim(), c.userHeader()));
  }

  /** How the console reaches the server's own port: over TLS when the server serves TLS. */
  private static ProtoradChannels.Tls tls(ServerConfig config) {
    return config.tls().enabled()
        ? ProtoradChannels.Tls.verifying(config.tls().certFile().orElseThrow())
        : ProtoradChannels.Tls.plaintext();
  }

  String url() {
    return console.url();
  }

  @Override
  public void close() throws InterruptedException {
    console.close();
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
  }
}
