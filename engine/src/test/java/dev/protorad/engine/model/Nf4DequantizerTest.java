package dev.protorad.engine.model;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.protorad.engine.nf4.Nf4;
import dev.protorad.engine.nf4.Nf4Tensor;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
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

  @Test
  void dequantizeRows_slicesEqualTheWholeWeightBitForBit() {
    Nf4Tensor t = Nf4.quantize(gaussian(300 * 128, 7), 300, 128);
    EngineSettings.applyDefaults();
    try (NDManager weights = NDManager.newBaseManager();
        NDManager scratch = weights.newSubManager()) {
      Nf4Dequantizer d = Nf4Dequantizer.upload(t, weights);
      float[] whole = d.dequantize(scratch).toFloatArray();
      NDArray absmax = d.absmax(scratch);

      for (int from = 0; from < 300; from += 70) {
        int to = Math.min(300, from + 70);
        NDArray rows = d.dequantizeRows(from, to, absmax, scratch);

        assertThat(rows.getShape()).isEqualTo(new Shape(to - from, 128));
        assertThat(rows.toFloatArray())
            .containsExactly(Arrays.copyOfRange(whole, from * 128, to * 128));
      }
    }
  }

  @Test
  void apply_inRowSlices_matchesOneDenseWeight() {
    Nf4Tensor t = Nf4.quantize(gaussian(300 * 128, 8), 300, 128);
    EngineSettings.applyDefaults();
    try (NDManager weights = NDManager.newBaseManager();
        NDManager scratch = weights.newSubManager()) {
      QuantizedLinear q = new QuantizedLinear(Nf4Dequantizer.upload(t, weights), Precision.FP32);
      int live = weights.getManagedArrays().size();
      NDArray x = scratch.create(gaussian(2 * 3 * 128, 9), new Shape(2, 3, 128));

      float[] whole = q.apply(x, scratch, Integer.MAX_VALUE).toFloatArray();
      NDArray sliced = q.apply(x, scratch, 70 * 128);

      assertThat(sliced.getShape()).isEqualTo(new Shape(2, 3, 300));
      float[] actual = sliced.toFloatArray();
      for (int i = 0; i < whole.length; i++) {
        assertThat(actual[i]).isCloseTo(whole[i], org.assertj.core.api.Assertions.within(1e-4f));
      }
      scratch.close();
      assertThat(weights.getManagedArrays()).hasSize(live);
    }
  }

  private static float[] gaussian(int n, long seed) {
    Random random = new Random(seed);
    float[] w = new float[n];
    for (int i = 0; i < n; i++) {
      w[i] = (float) random.nextGaussian();
    }
    return w;
  }
}
