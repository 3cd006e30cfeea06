package dev.protorad.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real full disk: the log lives on a size-limited tmpfs. Appends fail while it is full, nothing
 * acknowledged is lost, and appends go on once space returns. Needs permission to mount (root);
 * skipped where mounting is refused.
 */
class FileAuditStoreDiskFullTest {

  private static final CheckpointKeys KEYS = CheckpointKeys.generateInMemory();

  @TempDir Path dir;
  private Path mount;
  private boolean mounted;

  @BeforeEach
  void mountSmallFilesystem() throws Exception {
    mount = Files.createDirectories(dir.resolve("small"));
    Process p =
        new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", mount.toString())
            .redirectErrorStream(true)
            .start();
    mounted = p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
    assumeThat(mounted).as("permission to mount a tmpfs").isTrue();
  }

  @AfterEach
  void unmount() throws Exception {
    if (mounted) {
      new ProcessBuilder("umount", mount.toString()).start().waitFor(30, TimeUnit.SECONDS);
    }
  }

  @Test
  void fullDisk_failsAppends_losesNothingAcknowledged_andAppendsResumeWhenSpaceReturns()
      throws IOException {
    Path filler = mount.resolve("filler");
    List<AuditEvent> acknowledged = new ArrayList<>();
    int failures = 0;
    try (FileAuditStore store =
        FileAuditStore.builder(mount.resolve("audit"))
            .writerId("w1")
            .checkpointKeys(KEYS)
            .checkpointInterval(7)
            .open()) {
      fill(filler);
      for (int i = 0; i < 400 && failures < 5; i++) {
        try {
          acknowledged.add(store.append(TestDrafts.prediction(i)));
        } catch (AuditUnavailableException e) {
          failures++;
        }
      }
      assertThat(failures).as("appends refused while the disk is full").isEqualTo(5);
      assertThat(acknowledged).as("appends acknowledged before the disk filled").isNotEmpty();

      Files.delete(filler);
      for (int i = 0; i < 20; i++) {
        acknowledged.add(store.append(TestDrafts.prediction(1000 + i)));
      }

      VerifyResult result = store.verify();
      assertThat(result.valid()).as(result.problem()).isTrue();
      List<Long> stored =
          store.query(AuditQuery.builder().pageSize(1000).build()).events().stream()
              .map(AuditEvent::sequence)
              .toList();
      assertThat(stored)
          .containsExactlyElementsOf(acknowledged.stream().map(AuditEvent::sequence).toList());
      assertThat(stored.get(stored.size() - 1)).isEqualTo(stored.size());
    }
  }

  /** Writes zeros to {@code file} until the filesystem is full, then frees a few kilobytes. */
  private static void fill(Path file) throws IOException {
    fillUp(file);
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
      ch.truncate(Math.max(0, ch.size() - 12 * 1024));
    }
  }

  private static void fillUp(Path file) {
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
