package dev.protorad.spark;

import dev.protorad.api.v1.AuditEvent;
import dev.protorad.api.v1.QueryAuditEventsRequest;
import dev.protorad.api.v1.QueryAuditEventsResponse;
import dev.protorad.client.ProtoradClient;
import dev.protorad.policy.ApiKeys;
import dev.protorad.server.app.ServerProcess;
import dev.protorad.server.config.ConfigLoader;
import dev.protorad.server.config.ServerConfig;
import dev.protorad.testing.TinyCheckpoint;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A governed server in this JVM for the bulk tests: the tiny test model, the default roles, one
 * bulk principal ({@code order-intake}) and one compliance officer, each with its own API key.
 */
final class BulkServer implements AutoCloseable {

  final String intakeKey;
  final String officerKey;
  final int port;
  private final ServerProcess process;
  private final ManagedChannel channel;

  private BulkServer(String intakeKey, String officerKey, ServerProcess process, int port) {
    this.intakeKey = intakeKey;
    this.officerKey = officerKey;
    this.process = process;
    this.port = port;
    this.channel = ManagedChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
  }

  static BulkServer start(Path dir) throws Exception {
    Path data = Files.createDirectories(dir.resolve("data"));
    SecureRandom random = new SecureRandom();
    String intake = ApiKeys.generate(random).key();
    String officer = ApiKeys.generate(random).key();
    Files.writeString(
        data.resolve("policy.yaml"),
        "version: 1\nprincipals:\n"
            + principal("bulk-intake", "order-intake", intake)
            + principal("bulk-officer", "compliance-officer", officer));
    Path model = TinyCheckpoint.write(Files.createDirectories(dir.resolve("model")));
    ServerConfig config =
        ConfigLoader.withEnvironment(Map.of()).load(null).withPort(0).withDataDir(data);
    config = config.withServing(config.serving().withModelDir(model));
    ServerProcess process =
        new ServerProcess(config, new PrintStream(OutputStream.nullOutputStream(), true));
    return new BulkServer(intake, officer, process, process.start().port());
  }

  private static String principal(String id, String role, String key) {
    return "  - id: "
        + id
        + "\n    kind: service\n    roles: ["
        + role
        + "]\n    apiKeyHashes: ["
        + ApiKeys.hash(key)
        + "]\n";
  }

  String target() {
    return "127.0.0.1:" + port;
  }

  /** Every audit event, as the compliance officer reads them. */
  List<AuditEvent> auditEvents() {
    ProtoradClient officer = ProtoradClient.builder(channel).apiKey(officerKey).build();
    List<AuditEvent> all = new ArrayList<>();
    String token = "";
    do {
      QueryAuditEventsResponse page =
          officer.queryAuditEvents(
              QueryAuditEventsRequest.newBuilder().setPageSize(1000).setPageToken(token).build());
      all.addAll(page.getEventsList());
      token = page.getNextPageToken();
    } while (!token.isEmpty());
    return all;
  }

  @Override
  public void close() throws Exception {
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    process.stop();
  }
}
