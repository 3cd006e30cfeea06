package dev.protorad.audit;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AuditExporterTest {

  @TempDir Path dir;

  @Test
  void exportJsonl_writesEveryMatchAcrossPagesAsCanonicalLines() throws IOException {
    try (FileAuditStore store =
        FileAuditStore.builder(dir).checkpointKeys(CheckpointKeys.generateInMemory()).open()) {
      for (int i = 0; i < 7; i++) {
        store.append(i % 2 == 0 ? TestDrafts.prediction(i) : TestDrafts.denied("eve"));
      }
      StringWriter out = new StringWriter();

      long written =
          AuditExporter.exportJsonl(
              store, AuditQuery.builder().outcome(Outcome.ALLOWED).pageSize(2).build(), out);

      List<String> lines = out.toString().lines().toList();
      assertThat(written).isEqualTo(4);
      assertThat(lines).hasSize(4);
      assertThat(lines.stream().map(EventCodec::parse).map(AuditEvent::sequence))
          .containsExactly(1L, 3L, 5L, 7L);
    }
  }
}
