package dev.protorad.audit;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A writer process killed with SIGKILL mid-burst loses no acknowledged event. */
class FileAuditStoreCrashTest {

  private static final int ACKS_BEFORE_KILL = 400;

  @TempDir Path dir;

  @Test
  void open_afterSigkillDuringBurst_verifiesAndHoldsEveryAcknowledgedEvent() throws Exception {
    Path key = dir.resolve("checkpoint.key");
    CheckpointKeys keys = CheckpointKeys.generate(key);
    Path log = dir.resolve("audit");
    Set<Long> acknowledged = runAndKill(log, key);

    try (FileAuditStore store =
        FileAuditStore.builder(log)
            .writerId("crash")
            .checkpointKeys(keys)
            .checkpointInterval(50)
            .open()) {
      VerifyResult result = store.verify();
      assertThat(result.valid()).as(result.problem()).isTrue();
      assertThat(result.unsealedEvents()).isZero();
      assertThat(allSequences(store)).containsAll(acknowledged);
      assertThat(store.append(TestDrafts.prediction(1)).sequence())
          .isEqualTo(result.eventsChecked() + 1);
    }
  }

  private Set<Long> runAndKill(Path log, Path key) throws Exception {
    String classpath =
        System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
    Process child =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp",
                classpath,
                CrashingWriter.class.getName(),
                log.toString(),
                key.toString())
            .redirectError(ProcessBuilder.Redirect.DISCARD)
            .start();
    Set<Long> acknowledged = new HashSet<>();
    try (BufferedReader out =
        new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      while (acknowledged.size() < ACKS_BEFORE_KILL && (line = out.readLine()) != null) {
        if (line.startsWith("ACK ")) {
          acknowledged.add(Long.parseLong(line.substring(4)));
        }
      }
      child.destroyForcibly(); // SIGKILL: no shutdown hooks, no final checkpoint
      assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
    }
    assertThat(acknowledged).hasSize(ACKS_BEFORE_KILL);
    return acknowledged;
  }

  private static Set<Long> allSequences(AuditStore store) {
    Set<Long> sequences = new HashSet<>();
    AuditQuery query = AuditQuery.builder().pageSize(AuditQuery.MAX_PAGE_SIZE).build();
    while (true) {
      AuditPage page = store.query(query);
      List<AuditEvent> events = page.events();
      events.forEach(e -> sequences.add(e.sequence()));
      if (page.nextPageToken().isEmpty()) {
        return sequences;
      }
      query = query.toBuilder().pageToken(page.nextPageToken()).build();
    }
  }
}
