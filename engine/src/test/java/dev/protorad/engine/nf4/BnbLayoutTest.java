package dev.protorad.engine.nf4;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.protorad.engine.safetensors.DType;
import dev.protorad.engine.safetensors.SafetensorsException;
import dev.protorad.engine.safetensors.SafetensorsFile;
import dev.protorad.engine.safetensors.SafetensorsWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BnbLayoutTest {
  private static final String NAME = "model.layers.0.self_attn.q_proj.weight";

  @TempDir Path dir;

  @Test
  void writeThenRead_givesIdenticalTensorAndBytes() throws Exception {
    Nf4Tensor t = Nf4.quantize(gaussian(96 * 160, 5), 96, 160);
    Path first = dir.resolve("a.safetensors");
    SafetensorsWriter w = SafetensorsWriter.create();
    BnbLayout.write(w, NAME, t, "float16");
    w.write(first);

    SafetensorsFile file = SafetensorsFile.open(first);
    Nf4Tensor back = BnbLayout.read(file, NAME);
    Path second = dir.resolve("b.safetensors");
    SafetensorsWriter w2 = SafetensorsWriter.create();
    BnbLayout.write(w2, NAME, back, BnbLayout.dtype(file, NAME));
    w2.write(second);

    assertThat(back).isEqualTo(t);
    assertThat(back.packed()).isEqualTo(t.packed());
    assertThat(back.absmaxCodes()).isEqualTo(t.absmaxCodes());
    assertThat(Files.readAllBytes(second)).isEqualTo(Files.readAllBytes(first));
    assertThat(file.info(NAME).shape()).containsExactly(96 * 160 / 2, 1);
    assertThat(file.info(NAME + ".absmax").dtype()).isEqualTo(DType.U8);
  }

  @Test
  void quantState_isBitsandbytesJson() {
    Nf4Tensor t = Nf4.quantize(gaussian(128, 1), 2, 64);

    String json = BnbLayout.quantState(t, "bfloat16");

    assertThat(json)
        .startsWith(
            "{\"quant_type\": \"nf4\", \"blocksize\": 64, \"dtype\": \"bfloat16\","
                + " \"shape\": [2, 64], \"nested_blocksize\": 256, \"nested_dtype\": \"float32\","
                + " \"nested_offset\": ");
  }

  @Test
  void read_usesStoredMaps_notRecomputedOnes() throws Exception {
    Nf4Tensor t = Nf4.quantize(gaussian(256, 2), 4, 64);
    float[] nestedMap = t.nestedQuantMap().clone();
    nestedMap[200] = Math.nextUp(nestedMap[200]); // as another build's map might differ
    Nf4Tensor altered =
        new Nf4Tensor(
            4,
            64,
            t.packed(),
            t.absmaxCodes(),
            t.nestedAbsmax(),
            nestedMap,
            t.absmaxOffset(),
            t.quantMap());
    Path file = dir.resolve("m.safetensors");
    SafetensorsWriter w = SafetensorsWriter.create();
    BnbLayout.write(w, NAME, altered, "float16");
    w.write(file);

    assertThat(BnbLayout.read(SafetensorsFile.open(file), NAME).nestedQuantMap())
        .isEqualTo(nestedMap);
  }

  @Test
  void read_fp4_isRefused() throws Exception {
    Path file = dir.resolve("fp4.safetensors");
    byte[] state = "{\"quant_type\": \"fp4\"}".getBytes(StandardCharsets.UTF_8);
    SafetensorsWriter.create()
        .addBytes(NAME, DType.U8, new long[] {2, 1}, new byte[2])
        .addBytes(NAME + BnbLayout.QUANT_STATE_FP4, DType.U8, new long[] {state.length}, state)
        .write(file);

    assertThatThrownBy(() -> BnbLayout.read(SafetensorsFile.open(file), NAME))
        .isInstanceOf(SafetensorsException.class)
        .hasMessageContaining("FP4");
  }

  @Test
  void read_absmaxOfWrongLength_namesTensor() throws Exception {
    Nf4Tensor t = Nf4.quantize(gaussian(256, 2), 4, 64);
    Path file = dir.resolve("bad.safetensors");
    SafetensorsWriter w = SafetensorsWriter.create();
    byte[] state = BnbLayout.quantState(t, "float16").getBytes(StandardCharsets.UTF_8);
    w.addBytes(NAME, DType.U8, new long[] {128, 1}, t.packed());
    w.addBytes(NAME + ".absmax", DType.U8, new long[] {3}, new byte[3]);
    w.addBytes(NAME + BnbLayout.QUANT_STATE_NF4, DType.U8, new long[] {state.length}, state);
    w.write(file);

    assertThatThrownBy(() -> BnbLayout.read(SafetensorsFile.open(file), NAME))
        .isInstanceOf(SafetensorsException.class)
        .hasMessageContaining(NAME + ".absmax")
        .hasMessageContaining("expected: 4");
  }

  static float[] gaussian(int n, long seed) {
    Random r = new Random(seed);
    float[] w = new float[n];
    for (int i = 0; i < n; i++) {
      w[i] = (float) r.nextGaussian();
    }
    return w;
  }
}
