package dev.protorad.cli;

import dev.protorad.client.ProtoradChannels;
import dev.protorad.client.ProtoradClient;
import dev.protorad.client.ProtoradException;
import io.grpc.ManagedChannel;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;

/**
 * Where the server is, how the connection is secured and who is asking: the options every command
 * that talks to a running server shares ({@code adapters}, {@code audit}, {@code train}).
 */
final class ClientConnection {

  @Option(
      names = "--server",
      paramLabel = "HOST:PORT",
      defaultValue = "127.0.0.1:50051",
      description = "Server address (default ${DEFAULT-VALUE}).")
  String server = "127.0.0.1:50051";

  @Option(
      names = "--api-key",
      paramLabel = "KEY",
      defaultValue = "${env:PROTORAD_API_KEY}",
      description = "API key of the calling principal (env PROTORAD_API_KEY).")
  @Nullable String apiKey;

  @Option(
      names = "--tls",
      description =
          "Connect over TLS, verifying the server against --ca (else the JVM's trusted roots).")
  boolean tls;

  @Option(
      names = "--ca",
      paramLabel = "FILE",
      description = "PEM certificates the server's certificate must chain to (implies --tls).")
  @Nullable Path ca;

  @Option(
      names = "--cert",
      paramLabel = "FILE",
      description = "PEM client certificate for mutual TLS, with --key (implies --tls).")
  @Nullable Path cert;

  @Option(names = "--key", paramLabel = "FILE", description = "PEM PKCS#8 private key of --cert.")
  @Nullable Path key;

  /**
   * This connection, once it names who is asking: an API key, or a client certificate (mutual TLS);
   * for commands no anonymous caller may run.
   *
   * @throws UsageError when it names neither
   */
  ClientConnection identified() {
    if ((apiKey == null || apiKey.isBlank()) && cert == null) {
      throw new UsageError(
          "--api-key: missing (expected: a key, PROTORAD_API_KEY, or --cert and --key)");
    }
    return this;
  }

  /** Opens the channel, runs {@code call} with a client for it, and closes the channel. */
  <T> T call(ClientCall<T> call) throws Exception {
    ManagedChannel channel = ProtoradChannels.open(server, tls());
    try {
      ProtoradClient.Builder b = ProtoradClient.builder(channel);
      if (apiKey != null && !apiKey.isBlank()) {
        b.apiKey(apiKey);
      }
      return call.run(b.build());
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  /** Runs a subcommand's call; a failed RPC prints one line and gives exit status 1. */
  int run(CommandSpec spec, ClientCall<Integer> call) throws Exception {
    try {
      return call(call);
    } catch (ProtoradException e) {
      return AdaptersCommand.fail(spec, e);
    }
  }

  private ProtoradChannels.Tls tls() {
    if ((cert == null) != (key == null)) {
      throw new UsageError("--cert and --key: one without the other (expected: both or neither)");
    }
    if (!tls && ca == null && cert == null) {
      return ProtoradChannels.Tls.plaintext();
    }
    ProtoradChannels.Tls secured =
        ca == null ? ProtoradChannels.Tls.systemRoots() : ProtoradChannels.Tls.verifying(ca);
    return cert == null || key == null ? secured : secured.withClientCertificate(cert, key);
  }

  /** A call made with a client of the connection. */
  interface ClientCall<T> {
    T run(ProtoradClient client) throws Exception;
  }
}
