package dev.protorad.server.engine.model;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDManager;
import dev.protorad.server.engine.nf4.Nf4;
import dev.protorad.server.engine.nf4.Nf4Tensor;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class Nf4DequantizerTest {

  @ParameterizedTest(name = "[{0} x {1}]")
  @CsvSource({
    "256, 512", // 2048 blocks: 8 full nested blocks
    "3, 33", // odd element count, one partial block
    "300, 100" // 469 blocks: a partial nested block
  })
  void dequantize_matchesJavaDequantizationBitForBit(int rows, int cols) {
    Random random = new Random(rows * 31L + cols);
    float[] w = new float[rows * cols];
    for (int i = 0; i < w.length; i++) {
      w[i] = (float) random.nextGaussian();
    }
    Nf4Tensor t = Nf4.quantize(w, rows, cols);
    EngineSettings.applyDefaults();
    try (NDManager weights = NDManager.newBaseManager();
        NDManager scratch = weights.newSubManager()) {
      Nf4Dequantizer d = Nf4Dequantizer.upload(t, weights);
      int live = weights.getManagedArrays().size();

      float[] actual = d.dequantize(scratch).toFloatArray();

      assertThat(actual).containsExactly(Nf4.dequantize(t));
      scratch.close();
      assertThat(weights.getManagedArrays()).hasSize(live);
    }
  }
}
