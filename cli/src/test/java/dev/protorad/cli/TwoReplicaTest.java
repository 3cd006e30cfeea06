package dev.protorad.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.protorad.api.v1.AssignProtocolRequest;
import dev.protorad.api.v1.GetPredictionRequest;
import dev.protorad.api.v1.QueryAuditEventsRequest;
import dev.protorad.api.v1.QueryAuditEventsResponse;
import dev.protorad.api.v1.SetAdapterAliasRequest;
import dev.protorad.api.v1.VerifyAuditLogRequest;
import dev.protorad.api.v1.VerifyAuditLogResponse;
import dev.protorad.client.ProtoradClient;
import dev.protorad.client.ProtoradException;
import dev.protorad.testing.Postgres;
import dev.protorad.testing.TinyCheckpoint;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two real server processes over one embedded PostgreSQL (audit, predictions and the adapter
 * registry) and one shared data directory (adapter files, keys, policy), as two replicas on one
 * volume: an alias moved on one is what the other serves next; SIGKILL one under load and the other
 * keeps answering; no answered prediction or audit event is lost, and every writer's chain verifies
 * from either replica.
 */
class TwoReplicaTest {

  private static final String NOTE = "45F LLQ pain, fever, r/o diverticulitis. Cr 0.9";

  @TempDir Path dir;
  private final List<Process> processes = new ArrayList<>();
  private final List<ManagedChannel> channels = new ArrayList<>();

  @AfterEach
  void stop() throws Exception {
    for (ManagedChannel c : channels) {
      c.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    for (Process p : processes) {
      p.destroy();
      p.waitFor(30, TimeUnit.SECONDS);
    }
  }

  @Test
  void twoReplicas_shareAliasesAnswersAndAudit_andOneSurvivesTheOthersSigkill() throws Exception {
    Path data = dir.resolve("data");
    Map<String, String> keys = DemoSetup.prepare(data);
    Path model = TinyCheckpoint.write(Files.createDirectories(dir.resolve("model")));
    String db = Postgres.newSchemaUrl();
    Path config =
        Files.writeString(
            dir.resolve("protorad.yaml"),
            "audit:\n  store: postgres\n  jdbc_url: \""
                + db
                + "\"\n  jdbc_user: postgres\npredictions:\n  jdbc_url: \""
                + db
                + "\"\n  jdbc_user: postgres\nadapters:\n  registry: database\n");
    Process trainer = launch(data, model, config, "replica-a", "all");
    ProtoradClient.Builder a = client(awaitReady(trainer));
    Process server = launch(data, model, config, "replica-b", "serve");
    ProtoradClient.Builder b = client(awaitReady(server));

    // Two versions trained on replica a; its alias moves are what replica b serves.
    TinyTraining.train(a.apiKey(keys.get("ml-engineer")).build());
    TinyTraining.train(a.apiKey(keys.get("ml-engineer")).build());
    // Recorded in the database; on the volume only content-addressed files: the two runs train
    // the same examples from the same seed, so their two versions share one set of files.
    assertThat(data.resolve("adapters").resolve("tiny")).doesNotExist();
    try (var blobs = Files.list(data.resolve("adapters").resolve("blobs"))) {
      assertThat(blobs.map(p -> p.getFileName().toString()).filter(n -> n.matches("[0-9a-f]{64}")))
          .hasSize(1);
    }
    ProtoradClient lead = a.apiKey(keys.get("ml-lead")).build();
    ProtoradClient clinicianOnB = b.apiKey(keys.get("clinician")).build();
    for (int version : new int[] {1, 2, 1}) {
      lead.setAdapterAlias(
          SetAdapterAliasRequest.newBuilder()
              .setName("tiny")
              .setAlias("production")
              .setVersion(version)
              .build());
      long moved = System.nanoTime();
      String served = "";
      while (!served.equals("tiny@" + version)
          && System.nanoTime() - moved < TimeUnit.SECONDS.toNanos(5)) {
        served = clinicianOnB.assignProtocol(assign("ALIAS-" + version)).getAdapterVersion();
      }
      assertThat(served)
          .as("replica b within 5 s of the move to " + version)
          .isEqualTo("tiny@" + version);
    }

    // Load on both; replica b is killed in the middle of it.
    ProtoradClient clinicianOnA = a.apiKey(keys.get("clinician")).build();
    Map<String, String> answered = new ConcurrentHashMap<>();
    AtomicBoolean killed = new AtomicBoolean();
    AtomicInteger answeredByAAfterKill = new AtomicInteger();
    List<String> failuresOnA = java.util.Collections.synchronizedList(new ArrayList<>());
    ExecutorService callers = Executors.newFixedThreadPool(6);
    AtomicBoolean stop = new AtomicBoolean();
    for (int t = 0; t < 6; t++) {
      boolean onA = t % 2 == 0;
      ProtoradClient c = onA ? clinicianOnA : clinicianOnB;
      int thread = t;
      callers.execute(
          () -> {
            for (int i = 0; !stop.get(); i++) {
              try {
                var r = c.assignProtocol(assign("LOAD-" + thread + "-" + i));
                answered.put(r.getPredictionId(), r.getAuditEventId());
                if (onA && killed.get()) {
                  answeredByAAfterKill.incrementAndGet();
                }
              } catch (ProtoradException e) {
                if (onA) {
                  failuresOnA.add(e.code().name());
                } else if (!killed.get()) {
                  failuresOnA.add("b before the kill: " + e.code().name());
                }
                if (!onA) {
                  return;
                }
              }
            }
          });
    }
    while (answered.size() < 30) {
      Thread.sleep(20);
    }
    killed.set(true);
    ServerChild.sigkill(server);
    while (answeredByAAfterKill.get() < 10) {
      Thread.sleep(20);
    }
    stop.set(true);
    callers.shutdown();
    assertThat(callers.awaitTermination(60, TimeUnit.SECONDS)).isTrue();
    assertThat(failuresOnA).as("calls that failed on the replica left standing").isEmpty();

    // Nothing answered is lost, seen from replica a and from replica b restarted.
    Process restarted = launch(data, model, config, "replica-b", "serve");
    ProtoradClient.Builder b2 = client(awaitReady(restarted));
    for (ProtoradClient.Builder replica : List.of(a, b2)) {
      ProtoradClient compliance = replica.apiKey(keys.get("compliance-officer")).build();
      VerifyAuditLogResponse verify =
          compliance.verifyAuditLog(VerifyAuditLogRequest.getDefaultInstance());
      assertThat(verify.getValid()).as(verify.getProblem()).isTrue();
      assertThat(allEventIds(compliance)).containsAll(answered.values());
      ProtoradClient clinician = replica.apiKey(keys.get("clinician")).build();
      for (String predictionId : answered.keySet()) {
        assertThat(
                clinician
                    .getPrediction(
                        GetPredictionRequest.newBuilder().setPredictionId(predictionId).build())
                    .getPrediction()
                    .getPredictionId())
            .isEqualTo(predictionId);
      }
    }
    Set<String> writers = new HashSet<>();
    answered.values().forEach(id -> writers.add(id.substring(0, id.indexOf(':'))));
    assertThat(writers).containsExactlyInAnyOrder("replica-a", "replica-b");
  }

  private static AssignProtocolRequest assign(String orderId) {
    return AssignProtocolRequest.newBuilder()
        .setOrderId(orderId)
        .setNote(NOTE)
        .setAdapter("tiny@production")
        .build();
  }

  private ProtoradClient.Builder client(int port) {
    ManagedChannel channel =
        ManagedChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
    channels.add(channel);
    return ProtoradClient.builder(channel).maxAttempts(1);
  }

  private static Set<String> allEventIds(ProtoradClient compliance) {
    Set<String> ids = new HashSet<>();
    String token = "";
    do {
      QueryAuditEventsResponse page =
          compliance.queryAuditEvents(
              QueryAuditEventsRequest.newBuilder().setPageSize(1000).setPageToken(token).build());
      page.getEventsList().forEach(e -> ids.add(e.getEventId()));
      token = page.getNextPageToken();
    } while (!token.isEmpty());
    return ids;
  }

  private Process launch(Path data, Path model, Path config, String writer, String role)
      throws Exception {
    Process p =
        ServerChild.launch(
            Map.of("PROTORAD_AUDIT_WRITER_ID", writer, "PROTORAD_SERVER_ROLE", role),
            "--port",
            "0",
            "--config",
            config.toString(),
            "--data-dir",
            data.toString(),
            "--model",
            model.toString());
    processes.add(p);
    return p;
  }

  private static int awaitReady(Process process) throws Exception {
    return ServerChild.awaitReady(process);
  }
}
