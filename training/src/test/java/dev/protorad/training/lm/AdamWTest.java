package dev.protorad.training.lm;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import java.util.List;
import org.junit.jupiter.api.Test;

class AdamWTest {

  @Test
  void nonFiniteStep_isSkipped_andTheNextStepStillApplies() {
    GradMode.off();
    try (NDManager manager = NDManager.newBaseManager()) {
      NDArray w = manager.create(new float[] {1f, 2f, 3f});
      w.setRequiresGradient(true);
      try (AdamW adamW = AdamW.of(List.of(new TrainableLlama.Param("w", w, false)), 0, manager)) {
        backward(w, Float.NaN);
        assertThat(adamW.step(0.1, 1.0)).isNaN();
        assertThat(w.toFloatArray()).containsExactly(1f, 2f, 3f);
        assertThat(w.getGradient().toFloatArray()).containsExactly(0f, 0f, 0f);

        backward(w, 1f);
        assertThat(adamW.step(0.1, 0)).isFinite();

        assertThat(adamW.skipped()).isEqualTo(1);
        assertThat(adamW.steps()).isEqualTo(1);
        // Adam's first step moves each weight by the learning rate against the gradient's sign.
        float[] after = w.toFloatArray();
        assertThat(after[0]).isCloseTo(0.9f, org.assertj.core.data.Offset.offset(1e-5f));
        assertThat(after[2]).isCloseTo(2.9f, org.assertj.core.data.Offset.offset(1e-5f));
      }
    }
  }

  /** Accumulates the gradient of {@code sum(w * factor)}, i.e. {@code factor} everywhere. */
  private static void backward(NDArray w, float factor) {
    try (NDManager scope = w.getManager().newSubManager();
        GradientCollector collector = Engine.getInstance().newGradientCollector()) {
      NDArray loss = w.mul(scope.create(factor)).sum();
      collector.backward(loss);
    }
  }
}
