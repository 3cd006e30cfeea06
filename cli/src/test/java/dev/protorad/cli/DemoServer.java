package dev.protorad.cli;

import dev.protorad.client.ProtoradClient;
import dev.protorad.server.app.ServerProcess;
import dev.protorad.server.config.ConfigLoader;
import dev.protorad.server.config.ServerConfig;
import dev.protorad.testing.TinyCheckpoint;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The demo setup served in-process over loopback TCP: the demo policy and credentials written by
 * {@link DemoSetup}, a tiny random model, and the real {@link ServerProcess} wiring (audit files,
 * H2 prediction database, key files under the data directory).
 */
final class DemoServer implements AutoCloseable {

  final Path dataDir;
  final Map<String, String> keys;
  final int port;
  private final ServerProcess process;
  private final ManagedChannel channel;

  private DemoServer(Path dataDir, Map<String, String> keys, ServerProcess process, int port) {
    this.dataDir = dataDir;
    this.keys = keys;
    this.process = process;
    this.port = port;
    this.channel = ManagedChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
  }

  /** Starts on a free port with the configuration in {@code configYaml} (may be null). */
  static DemoServer start(Path dir, Path configYaml) throws Exception {
    Path data = Files.createDirectories(dir.resolve("data"));
    Map<String, String> keys = DemoSetup.prepare(data);
    Path model = TinyCheckpoint.write(Files.createDirectories(dir.resolve("model")));
    ServerConfig config =
        ConfigLoader.withEnvironment(Map.of()).load(configYaml).withPort(0).withDataDir(data);
    config = config.withServing(config.serving().withModelDir(model));
    ServerProcess process =
        new ServerProcess(config, new PrintStream(new ByteArrayOutputStream(), true));
    return new DemoServer(data, keys, process, process.start().port());
  }

  String target() {
    return "127.0.0.1:" + port;
  }

  /** A client holding the API key of the demo principal for {@code role}. */
  ProtoradClient as(String role) {
    return ProtoradClient.builder(channel).apiKey(keys.get(role)).build();
  }

  @Override
  public void close() throws Exception {
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    process.stop();
  }
}
