package dev.protorad.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assumptions.assumeThat;

import dev.protorad.api.v1.AssignProtocolRequest;
import dev.protorad.api.v1.QueryAuditEventsRequest;
import dev.protorad.api.v1.VerifyAuditLogRequest;
import dev.protorad.client.ProtoradException;
import dev.protorad.server.governance.AuditSealing;
import io.grpc.Status;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real server with its audit segments on a size-limited tmpfs: when the disk fills, calls fail
 * closed and health turns NOT_SERVING; once space returns the server serves again by itself, with
 * the recovery recorded and the trail verifying. Needs permission to mount (root); skipped where
 * mounting is refused.
 */
class DiskFullServerTest {

  @TempDir Path dir;
  private Path mount;
  private boolean mounted;

  @AfterEach
  void unmount() throws Exception {
    if (mounted) {
      new ProcessBuilder("umount", "-l", mount.toString()).start().waitFor(30, TimeUnit.SECONDS);
    }
  }

  private static AssignProtocolRequest order(String id) {
    return AssignProtocolRequest.newBuilder()
        .setOrderId(id)
        .setNote("RLQ pain, fever, ?appendicitis")
        .build();
  }

  @Test
  void fullDisk_turnsHealthNotServing_andTheServerRecoversWhenSpaceReturns() throws Exception {
    mount = Files.createDirectories(dir.resolve("small"));
    Process p =
        new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", mount.toString())
            .redirectErrorStream(true)
            .start();
    mounted = p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
    assumeThat(mounted).as("permission to mount a tmpfs").isTrue();
    Path config =
        Files.writeString(
            dir.resolve("protorad.yaml"), "audit:\n  dir: " + mount.resolve("audit") + "\n");
    Path filler = mount.resolve("filler");

    try (DemoServer server = DemoServer.start(dir, config)) {
      var clinician = server.as("clinician");
      clinician.assignProtocol(order("D-1"));
      fill(filler);

      assertThatThrownBy(
              () -> {
                for (int i = 0; i < 200; i++) {
                  clinician.assignProtocol(order("D-full-" + i));
                }
              })
          .isInstanceOfSatisfying(
              ProtoradException.class,
              e -> assertThat(e.code()).isEqualTo(Status.Code.UNAVAILABLE));
      assertThat(clinician.health()).isEqualTo(ServingStatus.NOT_SERVING);

      Files.delete(filler);
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(40);
      while (clinician.health() != ServingStatus.SERVING && System.nanoTime() < deadline) {
        Thread.sleep(200);
      }

      assertThat(clinician.health()).isEqualTo(ServingStatus.SERVING);
      assertThat(clinician.assignProtocol(order("D-2")).getAuditEventId()).isNotEmpty();
      var compliance = server.as("compliance-officer");
      var verify = compliance.verifyAuditLog(VerifyAuditLogRequest.getDefaultInstance());
      assertThat(verify.getValid()).as(verify.getProblem()).isTrue();
      assertThat(
              compliance
                  .queryAuditEvents(
                      QueryAuditEventsRequest.newBuilder()
                          .setAction(AuditSealing.AVAILABLE_AGAIN)
                          .build())
                  .getEventsList())
          .hasSize(1);
    }
  }

  /** Writes zeros to {@code file} until the filesystem is full. */
  private static void fill(Path file) {
    try (FileChannel ch =
        FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
      ByteBuffer block = ByteBuffer.allocate(1024);
      while (true) {
        block.clear();
        ch.write(block);
      }
    } catch (IOException full) {
      // the disk is full now
    }
  }
}
