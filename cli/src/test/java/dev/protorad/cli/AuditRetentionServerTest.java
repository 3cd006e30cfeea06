package dev.protorad.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.protorad.api.v1.AuditEvent;
import dev.protorad.api.v1.QueryAuditEventsRequest;
import dev.protorad.api.v1.VerifyAuditLogRequest;
import dev.protorad.api.v1.VerifyAuditLogResponse;
import dev.protorad.audit.CheckpointKeys;
import dev.protorad.audit.EventDraft;
import dev.protorad.audit.FileAuditStore;
import dev.protorad.audit.Outcome;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code audit.retention_days} in the real server wiring: events written 40 days ago (by a store on
 * a clock set back) are purged when the server starts with a 30-day retention, yesterday's stay,
 * and the trail verifies through the server and offline.
 */
class AuditRetentionServerTest {

  @TempDir Path dir;
  private DemoServer server;

  @AfterEach
  void stop() throws Exception {
    if (server != null) {
      server.close();
    }
  }

  @Test
  void serverStart_purgesEventsPastRetention_keepsYoungerOnes_andAuditVerifyStaysValid()
      throws Exception {
    Path data = Files.createDirectories(dir.resolve("data"));
    Path audit = data.resolve("audit");
    CheckpointKeys keys = CheckpointKeys.generate(data.resolve("keys/audit-checkpoint.pem"));
    Instant now = Instant.now();
    writeEvents(audit, keys, now.minus(Duration.ofDays(40)), "OLD-", 40);
    writeEvents(audit, keys, now.minus(Duration.ofDays(1)), "YOUNG-", 10);
    long kept = firstSequenceOfSegmentHolding(audit, 41);
    Path config = Files.writeString(dir.resolve("protorad.yaml"), AUDIT_CONFIG);

    server = DemoServer.start(dir, config);
    awaitOldestSegment(audit, kept);
    List<String> orders =
        server
            .as("compliance-officer")
            .queryAuditEvents(QueryAuditEventsRequest.newBuilder().setPageSize(1000).build())
            .getEventsList()
            .stream()
            .map(AuditEvent::getOrderId)
            .filter(id -> !id.isEmpty())
            .toList();
    VerifyAuditLogResponse verified =
        server.as("compliance-officer").verifyAuditLog(VerifyAuditLogRequest.getDefaultInstance());
    int verifyThroughServer =
        new CommandLine(new AuditCommand())
            .execute(
                "verify",
                "--server",
                server.target(),
                "--api-key",
                server.keys.get("compliance-officer"));
    server.close();
    server = null;
    int verifyOffline =
        new CommandLine(new AuditCommand())
            .execute(
                "verify",
                "--dir",
                audit.toString(),
                "--public-key",
                data.resolve("keys/audit-checkpoint.pem.pub").toString());

    assertThat(kept).isGreaterThan(1);
    assertThat(orders.stream().filter(id -> id.startsWith("OLD-"))).hasSize((int) (41 - kept));
    assertThat(orders.stream().filter(id -> id.startsWith("YOUNG-"))).hasSize(10);
    assertThat(verified.getValid()).as(verified.getProblem()).isTrue();
    assertThat(verifyThroughServer).isZero();
    assertThat(verifyOffline).isZero();
  }

  private static final String AUDIT_CONFIG =
      "audit:\n  writer_id: w1\n  retention_days: 30\n  allow_short_retention: true\n";

  /** Appends {@code count} events dated {@code time}, in small segments so old ones can go. */
  private static void writeEvents(
      Path audit, CheckpointKeys keys, Instant time, String orderPrefix, int count)
      throws IOException {
    try (FileAuditStore store =
        FileAuditStore.builder(audit)
            .writerId("w1")
            .checkpointKeys(keys)
            .maxSegmentBytes(4096)
            .clock(Clock.fixed(time, ZoneOffset.UTC))
            .open()) {
      for (int i = 0; i < count; i++) {
        store.append(
            EventDraft.builder("protorad.v1.ProtocolService/AssignProtocol", Outcome.ALLOWED, "OK")
                .principal("svc-intake")
                .roles(List.of("order-intake"))
                .orderId(orderPrefix + i)
                .build());
      }
    }
  }

  private static long firstSequenceOfSegmentHolding(Path audit, long sequence) throws IOException {
    return segmentStarts(audit).stream().filter(first -> first <= sequence).reduce(0L, Math::max);
  }

  /** The first sequence of each segment file, in order. */
  private static List<Long> segmentStarts(Path audit) throws IOException {
    try (Stream<Path> files = Files.list(audit)) {
      return files
          .map(p -> p.getFileName().toString())
          .filter(name -> name.matches("segment-\\d{20}\\.log"))
          .map(name -> Long.parseLong(name.substring(8, 28)))
          .sorted()
          .toList();
    }
  }

  /** Waits until the purge has run to its end (segments go oldest first). */
  private static void awaitOldestSegment(Path audit, long first) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (segmentStarts(audit).get(0) != first && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
  }
}
