package dev.protorad.server.serving;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.protorad.server.serving.PredictionStore.PredictionStoreException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * The writer's own failure handling, with a sink standing in for the database where the database
 * cannot produce the failure (a JVM error in the writer thread).
 */
class PredictionWriterTest {

  @Test
  void anErrorWhileStoring_failsThatGroupsCallers_andTheWriterGoesOn() {
    AtomicBoolean broken = new AtomicBoolean(true);
    List<String> stored = new ArrayList<>();
    try (PredictionWriter writer =
        new PredictionWriter(
            "test-writer",
            rows -> {
              if (broken.getAndSet(false)) {
                throw new OutOfMemoryError("simulated");
              }
              rows.forEach(r -> stored.add(r.prediction().predictionId()));
            })) {
      assertThatThrownBy(() -> writer.insert(row("p-1")))
          .isInstanceOf(PredictionStoreException.class)
          .hasMessage("cannot store prediction (OutOfMemoryError)");

      writer.insert(row("p-2"));

      assertThat(stored).containsExactly("p-2");
      assertThat(writer.stats().predictions()).isEqualTo(1);
    }
  }

  private static PredictionWriter.Row row(String id) {
    return new PredictionWriter.Row(
        PredictionStoreContractTest.prediction(id, Instant.parse("2026-11-20T09:30:00Z")),
        Optional.empty(),
        Optional.empty());
  }
}
