package dev.protorad.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.protorad.api.v1.AssignProtocolRequest;
import dev.protorad.api.v1.AuditEvent;
import dev.protorad.api.v1.GetPredictionRequest;
import dev.protorad.api.v1.QueryAuditEventsRequest;
import dev.protorad.api.v1.QueryAuditEventsResponse;
import dev.protorad.api.v1.VerifyAuditLogRequest;
import dev.protorad.api.v1.VerifyAuditLogResponse;
import dev.protorad.client.ProtoradClient;
import dev.protorad.client.ProtoradException;
import dev.protorad.testing.TinyCheckpoint;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kills a real server process with SIGKILL in the middle of a burst of predictions, restarts it,
 * and checks that the audit log verifies and holds an event for every prediction a client got, and
 * that the prediction store holds each of them.
 *
 * <p>The burst runs with every core of the machine kept busy on purpose ({@link CpuLoad}): on a
 * loaded machine the last group commit before the kill is followed by a quiet moment, which is when
 * an acknowledged commit that the database's recovery cannot find is lost. Without the load such a
 * loss showed only when the machine happened to be busy.
 */
class CrashRecoveryTest {

  private static final int KILLS = 5;
  private static final int CLIENTS = 8;

  @TempDir Path dir;

  @Test
  void sigkillLoop_underLoad_losesNoAnsweredPredictionOrAuditEvent_andTheLogVerifiesEachTime()
      throws Exception {
    Path data = dir.resolve("data");
    Map<String, String> keys = DemoSetup.prepare(data);
    Path model = TinyCheckpoint.write(Files.createDirectories(dir.resolve("model")));
    Map<String, String> answered = new HashMap<>();

    for (int round = 0; round < KILLS; round++) {
      Process server = launch(data, model);
      try {
        int port = awaitReady(server);
        if (round > 0) {
          checkNothingLost(port, keys, answered);
        }
        Map<String, String> now = burstUntilKilled(port, keys.get("clinician"), server, round);
        assertThat(now).as("predictions answered before kill " + round).isNotEmpty();
        answered.putAll(now);
      } finally {
        // Killed already unless a check failed; a failing run leaves no server behind.
        server.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
      }
    }
    Process last = launch(data, model);
    try {
      checkNothingLost(awaitReady(last), keys, answered);
    } finally {
      last.destroy();
      last.waitFor(30, TimeUnit.SECONDS);
    }
  }

  /** Every answered prediction is in the store, every audit event in the trail, which verifies. */
  private static void checkNothingLost(
      int port, Map<String, String> keys, Map<String, String> answered) throws Exception {
    ManagedChannel channel =
        ManagedChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
    try {
      ProtoradClient compliance =
          ProtoradClient.builder(channel).apiKey(keys.get("compliance-officer")).build();
      VerifyAuditLogResponse verify =
          compliance.verifyAuditLog(VerifyAuditLogRequest.getDefaultInstance());
      assertThat(verify.getValid()).as(verify.getProblem()).isTrue();
      assertThat(allEventIds(compliance)).containsAll(answered.values());
      ProtoradClient clinician =
          ProtoradClient.builder(channel).apiKey(keys.get("clinician")).build();
      List<String> missing = new ArrayList<>();
      for (String predictionId : answered.keySet()) {
        try {
          clinician.getPrediction(
              GetPredictionRequest.newBuilder().setPredictionId(predictionId).build());
        } catch (ProtoradException e) {
          missing.add(predictionId + " " + e.code());
        }
      }
      assertThat(missing).as("answered predictions missing after a restart").isEmpty();
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  /** Calls from {@link #CLIENTS} threads until the server is killed: prediction id to event id. */
  private Map<String, String> burstUntilKilled(int port, String key, Process server, int round)
      throws Exception {
    ManagedChannel channel =
        ManagedChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
    ProtoradClient client = ProtoradClient.builder(channel).apiKey(key).build();
    Map<String, String> answered = new java.util.concurrent.ConcurrentHashMap<>();
    java.util.concurrent.atomic.AtomicBoolean killed =
        new java.util.concurrent.atomic.AtomicBoolean();
    ConcurrentLinkedQueue<String> failuresBeforeKill = new ConcurrentLinkedQueue<>();
    CpuLoad load = CpuLoad.start(Runtime.getRuntime().availableProcessors());
    ExecutorService callers = Executors.newFixedThreadPool(CLIENTS);
    for (int t = 0; t < CLIENTS; t++) {
      int thread = t;
      callers.execute(
          () -> {
            for (int i = 0; ; i++) {
              try {
                var r =
                    client.assignProtocol(
                        AssignProtocolRequest.newBuilder()
                            .setOrderId("O-" + round + "-" + thread + "-" + i)
                            .setNote("45F LLQ pain, fever, r/o diverticulitis. Cr 0.9")
                            .build());
                answered.put(r.getPredictionId(), r.getAuditEventId());
              } catch (ProtoradException e) {
                if (!killed.get()) {
                  failuresBeforeKill.add(e.code().name());
                }
                return;
              }
            }
          });
    }
    while (answered.size() < 20 && failuresBeforeKill.isEmpty()) {
      Thread.sleep(20);
    }
    assertThat(failuresBeforeKill).as("calls failing before the kill").isEmpty();
    killed.set(true);
    ServerChild.sigkill(server);
    load.close();
    callers.shutdown();
    assertThat(callers.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    return new HashMap<>(answered);
  }

  private static Set<String> allEventIds(ProtoradClient compliance) {
    Set<String> ids = new HashSet<>();
    String token = "";
    do {
      QueryAuditEventsResponse page =
          compliance.queryAuditEvents(
              QueryAuditEventsRequest.newBuilder().setPageSize(1000).setPageToken(token).build());
      page.getEventsList().stream().map(AuditEvent::getEventId).forEach(ids::add);
      token = page.getNextPageToken();
    } while (!token.isEmpty());
    return ids;
  }

  /** Threads that keep the cores busy until closed. */
  private static final class CpuLoad implements AutoCloseable {
    private final java.util.concurrent.atomic.AtomicBoolean running =
        new java.util.concurrent.atomic.AtomicBoolean(true);
    private final List<Thread> threads = new ArrayList<>();

    static CpuLoad start(int threads) {
      CpuLoad load = new CpuLoad();
      for (int i = 0; i < threads; i++) {
        Thread t = new Thread(load::spin, "cpu-load-" + i);
        t.setDaemon(true);
        t.start();
        load.threads.add(t);
      }
      return load;
    }

    private void spin() {
      double x = 1;
      while (running.get()) {
        x = Math.sqrt(x + 1);
      }
      if (x < 0) {
        throw new AssertionError("unreachable");
      }
    }

    @Override
    public void close() throws InterruptedException {
      running.set(false);
      for (Thread t : threads) {
        t.join();
      }
    }
  }

  private Process launch(Path data, Path model) throws Exception {
    return ServerChild.launch(
        Map.of(), "--port", "0", "--data-dir", data.toString(), "--model", model.toString());
  }

  private static int awaitReady(Process process) throws Exception {
    return ServerChild.awaitReady(process);
  }
}
