package dev.protorad.server.governance;

import dev.protorad.audit.AuditStore;
import dev.protorad.audit.CheckpointKeys;
import dev.protorad.audit.FileAuditStore;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;

/** Audit retention over the file store, whose purge removes whole segments. */
class FileAuditRetentionTest extends AuditRetentionContractTest {

  @TempDir Path dir;

  @Override
  AuditStore open(Clock clock) {
    try {
      return FileAuditStore.builder(dir)
          .writerId("w1")
          .checkpointKeys(CheckpointKeys.generateInMemory())
          .checkpointInterval(10)
          .maxSegmentBytes(4096)
          .retention(RETENTION)
          .clock(clock)
          .open();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The first sequence of the segment holding {@code firstYoung}. */
  @Override
  long firstKept(long firstYoung) {
    try (Stream<Path> files = Files.list(dir)) {
      return files
          .map(p -> p.getFileName().toString())
          .filter(name -> name.matches("segment-\\d{20}\\.log"))
          .mapToLong(name -> Long.parseLong(name.substring(8, 28)))
          .filter(first -> first <= firstYoung)
          .max()
          .orElseThrow();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
