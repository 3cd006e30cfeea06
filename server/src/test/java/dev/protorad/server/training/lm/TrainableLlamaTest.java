package dev.protorad.server.training.lm;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDManager;
import dev.protorad.server.engine.checkpoint.BaseCheckpoint;
import dev.protorad.server.engine.checkpoint.Projection;
import dev.protorad.server.engine.model.AdapterHandle;
import dev.protorad.server.engine.model.BatchRow;
import dev.protorad.server.engine.model.LlamaModel;
import dev.protorad.server.engine.model.Padding;
import dev.protorad.server.engine.peft.LoraAdapter;
import dev.protorad.server.engine.peft.LoraConfig;
import dev.protorad.server.engine.peft.LoraPair;
import dev.protorad.server.engine.peft.TargetModules;
import dev.protorad.server.training.TinyBase;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class TrainableLlamaTest {

  @Test
  void forward_matchesServingDecoder_withAdapter() {
    BaseCheckpoint base = TinyBase.create(11);
    LoraConfig config = LoraConfig.of(4, 8, TargetModules.allLinear());
    LoraAdapter adapter = randomAdapter(base, config);
    int[] tokens = {1, 835, 3940, 29901, 13, 5731, 411, 2343, 13, 2277, 29937, 1019};
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
