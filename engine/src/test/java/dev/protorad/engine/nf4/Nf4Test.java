package dev.protorad.engine.nf4;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

class Nf4Test {

  @Test
  void quantize_handWorkedBlock_packsHighNibbleFirst() {
    float[] w = new float[64];
    float[] head = {1.0f, -1.0f, 0.5f, -0.5f, 0.0f, 0.1f};
    System.arraycopy(head, 0, w, 0, head.length);

    Nf4Tensor t = Nf4.quantize(w, 1, 64);

    // absmax 1.0: 1.0 -> 15, -1.0 -> 0, 0.5 -> 12 (0.4407 is nearer than 0.5626),
    // -0.5 -> 2 (-0.5251), 0.0 -> 7, 0.1 -> 8 (0.0796); the zero tail -> 7.
    byte[] expected = new byte[32];
    Arrays.fill(expected, (byte) 0x77);
    expected[0] = (byte) 0xF0;
    expected[1] = (byte) 0xC2;
    expected[2] = (byte) 0x78;
    assertThat(t.packed()).containsExactly(expected);
    assertThat(t.absmax(0)).isEqualTo(1.0f);
  }

  @Test
  void quantize_oddLength_padsLastLowNibbleWithZeroCode() {
    Nf4Tensor t = Nf4.quantize(new float[] {0.25f, -0.75f, 1.0f}, 1, 3);

    // 0.25 -> 10 (0.2461), -0.75 -> 1 (-0.6962), 1.0 -> 15, padding 0.0 -> 7.
    assertThat(t.packed()).containsExactly((byte) 0xA1, (byte) 0xF7);
  }

  @Test
  void quantize_secondBlock_scalesByItsOwnAbsmax() {
    float[] w = new float[128];
    w[0] = 1.0f;
    w[64] = 2.0f;
    w[65] = -1.0f;

    Nf4Tensor t = Nf4.quantize(w, 2, 64);

    assertThat(t.packed()[32]).isEqualTo((byte) 0xF2); // 2.0/2 -> 15, -1.0/2 -> 2
    float[] back = t.dequantize();
    assertThat(back[64]).isCloseTo(2.0f, within(0.02f));
    assertThat(back[65]).isCloseTo(-0.5250730514526367f * 2.0f, within(0.02f));
  }

  @Test
  void nf4Code_picksNearestValue() {
    float[] book = Nf4.codebook();
    Random r = new Random(7);
    for (int i = 0; i < 10_000; i++) {
      float x = r.nextFloat() * 2 - 1;
      int code = Nf4.nf4Code(x);
      for (float v : book) {
        assertThat(Math.abs(book[code] - x)).isLessThanOrEqualTo(Math.abs(v - x) + 1e-6f);
      }
    }
  }

  @Test
  void fastCode_equalsDecisionTree() {
    Random r = new Random(11);
    for (int i = 0; i < 100_000; i++) {
      float x = r.nextFloat() * 2.2f - 1.1f;
      assertThat(Nf4.fastCode(x)).isEqualTo(Nf4.nf4Code(x));
    }
    float[] edges = {
      -0.8480964004993439f, 0.03979014977812767f, 0.8614784181118011f, -1f, 1f, 0f, -0f, Float.NaN
    };
    for (float x : edges) {
      assertThat(Nf4.fastCode(x)).as("x=%s", x).isEqualTo(Nf4.nf4Code(x));
      assertThat(Nf4.fastCode(Math.nextUp(x))).isEqualTo(Nf4.nf4Code(Math.nextUp(x)));
    }
  }

  @Test
  void dynamicMap_isBitsandbytesSignedMap() {
    float[] map = DynamicMap.signed();

    assertThat(map).hasSize(256);
    assertThat(map[127]).isEqualTo(0.0f);
    assertThat(map[255]).isEqualTo(1.0f);
    assertThat(map[0]).isCloseTo(-0.99297f, within(1e-4f));
    assertThat(map[128]).isCloseTo(5.5e-7f, within(1e-9f));
    for (int i = 1; i < 256; i++) {
      assertThat(map[i]).isGreaterThan(map[i - 1]);
    }
  }

  @Test
  void dynamicCode_picksNearestEntry() {
    float[] map = DynamicMap.signed();
    Random r = new Random(3);
    for (int i = 0; i < 10_000; i++) {
      float x = r.nextFloat() * 2 - 1;
      int code = Nf4.dynamicCode(map, x);
      for (float v : map) {
        assertThat(Math.abs(map[code] - x)).isLessThanOrEqualTo(Math.abs(v - x) + 1e-7f);
      }
    }
  }

  @Test
  void quantize_gaussian4096Square_matchesBitsandbytesError() {
    int n = 4096;
    float[] w = new float[n * n];
    Random r = new Random(42);
    for (int i = 0; i < w.length; i++) {
      w[i] = (float) r.nextGaussian();
    }

    Nf4Tensor t = Nf4.quantize(w, n, n);
    float[] back = Nf4.dequantize(t);

    double err = 0;
    double norm = 0;
    for (int i = 0; i < w.length; i++) {
      double d = w[i] - back[i];
      err += d * d;
      norm += (double) w[i] * w[i];
    }
    double relative = Math.sqrt(err / norm);
    assertThat(relative).isBetween(0.085, 0.100);
    assertThat(t.bitsPerParameter()).isCloseTo(4.127, within(0.01));
  }

  @Test
  void quantize_doubleQuantization_keepsAbsmaxClose() {
    float[] w = new float[64 * 600];
    Random r = new Random(1);
    float[] exact = new float[600];
    for (int b = 0; b < 600; b++) {
      for (int i = 0; i < 64; i++) {
        w[b * 64 + i] = (float) r.nextGaussian();
        exact[b] = Math.max(exact[b], Math.abs(w[b * 64 + i]));
      }
    }

    Nf4Tensor t = Nf4.quantize(w, 600, 64);

    assertThat(t.nestedAbsmax()).hasSize(3);
    for (int b = 0; b < 600; b++) {
      assertThat(t.absmax(b)).isCloseTo(exact[b], within(exact[b] * 0.02f));
    }
  }

  @Test
  void quantize_nan_isRefusedWithIndex() {
    float[] w = new float[128];
    w[77] = Float.NaN;

    assertThatThrownBy(() -> Nf4.quantize(w, 2, 64))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("element 77");
  }

  @Test
  void quantize_shapeMismatch_namesParameter() {
    assertThatThrownBy(() -> Nf4.quantize(new float[10], 3, 4))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("shape: [3, 4]");
  }
}
