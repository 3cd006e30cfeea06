package dev.protorad.training.lm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.offset;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import dev.protorad.engine.checkpoint.BaseCheckpoint;
import dev.protorad.engine.checkpoint.Projection;
import dev.protorad.engine.model.AdapterHandle;
import dev.protorad.engine.model.BatchRow;
import dev.protorad.engine.model.DequantCache;
import dev.protorad.engine.model.EngineSettings;
import dev.protorad.engine.model.LlamaModel;
import dev.protorad.engine.model.Padding;
import dev.protorad.engine.peft.LoraAdapter;
import dev.protorad.engine.peft.LoraConfig;
import dev.protorad.engine.peft.LoraPair;
import dev.protorad.engine.peft.TargetModules;
import dev.protorad.testing.TinyBase;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class TrainableLlamaTest {

  @Test
  void forward_matchesServingDecoder_withAdapter() {
    assertMatchesServing(TinyBase.create(11));
  }

  @Test
  void forward_untiedBase_usesItsOwnHead_likeTheServingDecoder() {
    assertMatchesServing(TinyBase.untied(12));
  }

  private static void assertMatchesServing(BaseCheckpoint base) {
    LoraConfig config = LoraConfig.of(4, 8, TargetModules.allLinear());
    LoraAdapter adapter = randomAdapter(base, config);
    int[] tokens = {1, 835, 3940, 29901, 13, 5731, 411, 2343, 13, 2277, 29937, 1019};
    EngineSettings.applyDefaults();
    try (NDManager manager = NDManager.newBaseManager();
        TrainableLlama trainable = TrainableLlama.qlora(base, adapter, manager);
        LlamaModel serving = LlamaModel.builder(base).preferGpu(false).build();
        AdapterHandle handle = serving.loadAdapter("x@1", adapter)) {
      GradMode.off();
      float[][] ours = trainable.logits(tokens);
      float[][] theirs = serving.forward(List.of(BatchRow.of(tokens, handle)), Padding.RIGHT)[0];

      for (int t = 0; t < tokens.length; t++) {
        for (int v = 0; v < 32_000; v += 97) {
          assertThat(ours[t][v])
              .as("t=%d v=%d", t, v)
              .isCloseTo(theirs[t][v], org.assertj.core.data.Offset.offset(2e-3f));
        }
      }
    }
  }

  @Test
  void forward_nf4OnDevice_matchesServingDecoder() {
    BaseCheckpoint base = TinyBase.create(11);
    LoraAdapter adapter = randomAdapter(base, LoraConfig.of(4, 8, TargetModules.allLinear()));
    int[] tokens = {1, 835, 3940, 29901, 13, 5731};
    EngineSettings.applyDefaults();
    try (NDManager manager = NDManager.newBaseManager();
        TrainableLlama trainable =
            TrainableLlama.qlora(base, adapter, memory(false, false), manager);
        LlamaModel serving = LlamaModel.builder(base).preferGpu(false).build();
        AdapterHandle handle = serving.loadAdapter("x@1", adapter)) {
      GradMode.off();
      assertThat(trainable.quantizedOnDevice()).isTrue();
      float[][] ours = trainable.logits(tokens);
      float[][] theirs = serving.forward(List.of(BatchRow.of(tokens, handle)), Padding.RIGHT)[0];

      for (int t = 0; t < tokens.length; t++) {
        for (int v = 0; v < 32_000; v += 97) {
          assertThat(ours[t][v]).as("t=%d v=%d", t, v).isCloseTo(theirs[t][v], offset(2e-3f));
        }
      }
    }
  }

  @Test
  void backward_nf4OnDevice_matchesDequantizeOnce() {
    BaseCheckpoint base = TinyBase.create(11, 2);
    LoraAdapter adapter = randomAdapter(base, LoraConfig.of(4, 8, TargetModules.allLinear()));

    Step once = step(base, adapter, memory(true, false), 0);
    Step nf4 = step(base, adapter, memory(false, false), 0);

    assertThat(nf4.loss()).isCloseTo(once.loss(), offset(1e-5f));
    assertThat(maxAbsDifference(nf4, once)).isLessThan(1e-5);
  }

  @Test
  void backward_recompute_matchesFullGraph() {
    BaseCheckpoint base = TinyBase.create(11, 3);
    LoraAdapter adapter = randomAdapter(base, LoraConfig.of(4, 8, TargetModules.allLinear()));

    Step full = step(base, adapter, memory(true, false), 0);
    Step recomputed = step(base, adapter, memory(false, true), 0);

    assertThat(recomputed.loss()).isCloseTo(full.loss(), offset(1e-5f));
    assertThat(maxAbsDifference(recomputed, full)).isLessThan(1e-5);
  }

  @Test
  void backward_recomputeWithDropout_replaysTheMasks() {
    BaseCheckpoint base = TinyBase.create(11, 3);
    LoraConfig config = LoraConfig.of(4, 8, TargetModules.allLinear()).withDropout(0.2);
    LoraAdapter adapter = randomAdapter(base, config);

    Step full = step(base, adapter, memory(true, false), 7);
    Step recomputed = step(base, adapter, memory(true, true), 7);
    Step otherMasks = step(base, adapter, memory(true, false), 8);

    assertThat(recomputed.loss()).isCloseTo(full.loss(), offset(1e-5f));
    assertThat(maxAbsDifference(recomputed, full)).isLessThan(1e-5);
    assertThat(maxAbsDifference(otherMasks, full)).isGreaterThan(1e-3);
  }

  /** The loss and the LoRA gradients of one backward pass. */
  private record Step(float loss, Map<String, float[]> gradients) {}

  private static TrainableLlama.MemoryOptions memory(boolean dequantizeOnce, boolean recompute) {
    return TrainableLlama.MemoryOptions.of(
        dequantizeOnce ? DequantCache.ON : DequantCache.OFF, recompute);
  }

  /** One backward pass over two right-padded rows, every position scored. */
  private static Step step(
      BaseCheckpoint base, LoraAdapter adapter, TrainableLlama.MemoryOptions memory, int seed) {
    int[][] batch = {
      {1, 835, 3940, 29901, 13, 5731, 411, 2343}, {1, 2277, 29937, 1019, 13, 0, 0, 0}
    };
    int[] lengths = {8, 5};
    List<Long> positions = new ArrayList<>();
    List<Long> targets = new ArrayList<>();
    for (int row = 0; row < batch.length; row++) {
      for (int t = 0; t + 1 < lengths[row]; t++) {
        positions.add((long) row * batch[0].length + t);
        targets.add((long) batch[row][t + 1]);
      }
    }
    EngineSettings.applyDefaults();
    GradMode.off();
    Engine.getInstance().setRandomSeed(seed);
    try (NDManager manager = NDManager.newBaseManager();
        TrainableLlama model = TrainableLlama.qlora(base, adapter, memory, manager);
        NDManager scope = manager.newSubManager();
        NDScope arrays = new NDScope()) {
      arrays.suppressNotUsedWarning();
      float loss =
          model.backward(
              batch,
              positions.stream().mapToLong(Long::longValue).toArray(),
              targets.stream().mapToLong(Long::longValue).toArray(),
              lengths,
              null,
              true,
              0.5f,
              scope);
      Map<String, float[]> gradients = new HashMap<>();
      for (TrainableLlama.Param p : model.trainable()) {
        gradients.put(p.name(), p.value().getGradient().toFloatArray());
      }
      return new Step(loss, gradients);
    }
  }

  private static double maxAbsDifference(Step a, Step b) {
    assertThat(a.gradients().keySet()).isEqualTo(b.gradients().keySet());
    double max = 0;
    double norm = 0;
    for (var e : a.gradients().entrySet()) {
      float[] x = e.getValue();
      float[] y = b.gradients().get(e.getKey());
      for (int i = 0; i < x.length; i++) {
        max = Math.max(max, Math.abs(x[i] - y[i]));
        norm += (double) y[i] * y[i];
      }
    }
    assertThat(norm).as("gradients are not all zero").isGreaterThan(1e-6);
    return max;
  }

  static LoraAdapter randomAdapter(BaseCheckpoint base, LoraConfig config) {
    SplittableRandom r = new SplittableRandom(5);
    Map<String, LoraPair> pairs = new HashMap<>();
    var c = base.config();
    for (int l = 0; l < c.numHiddenLayers(); l++) {
      for (Projection p : Projection.values()) {
        int in = p.inFeatures(c);
        int out = p.outFeatures(c);
        float[] a = new float[4 * in];
        float[] b = new float[out * 4];
        for (int i = 0; i < a.length; i++) a[i] = (float) (r.nextGaussian() * 0.1);
        for (int i = 0; i < b.length; i++) b[i] = (float) (r.nextGaussian() * 0.1);
        pairs.put(p.modulePath(l), new LoraPair(a, b, 4, in, out, (float) config.scaling(l, p)));
      }
    }
    return LoraAdapter.of(c, config, pairs);
  }
}
