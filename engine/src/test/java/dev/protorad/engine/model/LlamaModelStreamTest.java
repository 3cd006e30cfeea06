package dev.protorad.engine.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.protorad.engine.ModelConfig;
import dev.protorad.engine.checkpoint.BaseCheckpoint;
import dev.protorad.engine.checkpoint.BaseStream;
import dev.protorad.engine.checkpoint.LoadOptions;
import dev.protorad.engine.checkpoint.Projection;
import dev.protorad.engine.checkpoint.RandomCheckpoint;
import dev.protorad.engine.nf4.Nf4Tensor;
import java.lang.ref.WeakReference;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A model built while its base streams from disk, one layer at a time. */
class LlamaModelStreamTest {

  private static final ModelConfig CONFIG =
      new ModelConfig(128, 256, 4, 4, 2, 1e-5, 10_000.0, 32_000, 512, false, 1, 2);

  @TempDir static Path dir;

  @BeforeAll
  static void write() throws Exception {
    RandomCheckpoint.builder(CONFIG)
        .seed(9)
        .std(0.08)
        .tokenizer(TinyWeights.TOKENIZER)
        .build()
        .write(dir);
  }

  @Test
  void builder_fromStream_givesTheLoadedCheckpointsLogitsAndFingerprint() throws Exception {
    BaseCheckpoint checkpoint = BaseCheckpoint.load(dir, LoadOptions.defaults());
    int[] tokens = LlamaModelTest.tokens(11, 2);
    try (BaseStream stream = BaseCheckpoint.stream(dir, LoadOptions.defaults());
        LlamaModel loaded = LlamaModel.builder(checkpoint).build();
        LlamaModel streamed = LlamaModel.builder(stream).build()) {
      float[][] a = loaded.forward(List.of(BatchRow.of(tokens)), Padding.RIGHT)[0];
      float[][] b = streamed.forward(List.of(BatchRow.of(tokens)), Padding.RIGHT)[0];

      assertThat(LlamaModelTest.maxAbsDiff(a, b)).isZero();
      assertThat(stream.fingerprint()).isEqualTo(checkpoint.fingerprint());
      assertThat(stream.memoryReport()).isEqualTo(checkpoint.memoryReport());
      assertThat(streamed.memory()).isEqualTo(loaded.memory());
    }
  }

  @Test
  void builder_fromStream_keepsNoJavaArrayOfTheBase() throws Exception {
    try (BaseStream stream = BaseCheckpoint.stream(dir, LoadOptions.defaults())) {
      Recording recording = new Recording(new StreamedWeights(stream));
      try (LlamaModel model = LlamaModel.builder(recording).build()) {
        // Every projection, norm and embedding array handed to the model is now garbage: the
        // model holds the base on the device only, and the stream kept nothing.
        assertThat(recording.handedOut).hasSize(2 + 1 + CONFIG.numHiddenLayers() * (7 * 2 + 2));
        assertThat(recording.reachableAfterGc()).isEmpty();
        float[][] logits =
            model.forward(List.of(BatchRow.of(LlamaModelTest.tokens(5, 1))), Padding.RIGHT)[0];
        for (float v : logits[4]) {
          assertThat(v).isFinite();
        }
      }
    }
  }

  @Test
  void stream_readOutOfOrder_isRefused() throws Exception {
    try (BaseStream stream = BaseCheckpoint.stream(dir, LoadOptions.defaults())) {
      assertThatThrownBy(stream::nextLayer)
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("expected next: embed_tokens");
      stream.embedTokensF16();
      stream.lmHeadF16();
      stream.finalNorm();
      assertThatThrownBy(stream::fingerprint)
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("0 of 4 layers read");
      while (stream.hasNextLayer()) {
        stream.nextLayer();
      }
      assertThat(stream.fingerprint()).hasSize(64);
      assertThatThrownBy(stream::embedTokensF16).isInstanceOf(IllegalStateException.class);
    }
  }

  @Test
  void builder_fromStreamReadTwice_isRefused() throws Exception {
    try (BaseStream stream = BaseCheckpoint.stream(dir, LoadOptions.defaults())) {
      LlamaModel.Builder builder = LlamaModel.builder(stream);
      builder.build().close();

      assertThatThrownBy(builder::build).isInstanceOf(IllegalStateException.class);
    }
  }

  @Test
  void nativeCopy_acrossManyStagingChunks_copiesEveryElement() {
    NativeCopy copy = new NativeCopy(64); // 16 floats, 32 halves or 64 bytes per chunk
    float[] floats = new float[3 * 37];
    short[] halves = new short[3 * 37];
    byte[] bytes = new byte[3 * 37];
    for (int i = 0; i < floats.length; i++) {
      floats[i] = i * 0.5f - 20;
      halves[i] = (short) (0x3c00 + i); // 1.0 and the F16 values just above it
      bytes[i] = (byte) (i * 7);
    }
    try (NDManager manager = NDManager.newBaseManager()) {
      NDArray f = copy.floats(manager, floats, new Shape(3, 37));
      NDArray h = copy.halves(manager, halves, new Shape(3, 37));
      NDArray b = copy.bytes(manager, bytes, new Shape(3 * 37), DataType.UINT8);

      assertThat(f.getShape()).isEqualTo(new Shape(3, 37));
      assertThat(f.toFloatArray()).containsExactly(floats);
      assertThat(h.getDataType()).isEqualTo(DataType.FLOAT16);
      assertThat(h.toType(DataType.FLOAT32, false).toFloatArray())
          .containsExactly(dev.protorad.engine.safetensors.HalfFloats.f16ToFloat(halves));
      assertThat(b.toByteArray()).containsExactly(bytes);
    }
  }

  /** Passes the weights through, remembering each array it hands out by a weak reference. */
  private static final class Recording implements DecoderWeights {
    private final DecoderWeights weights;
    final List<WeakReference<Object>> handedOut = new ArrayList<>();

    Recording(DecoderWeights weights) {
      this.weights = weights;
    }

    private <T> T record(T array) {
      handedOut.add(new WeakReference<>(array));
      return array;
    }

    List<Integer> reachableAfterGc() throws InterruptedException {
      for (int i = 0; i < 20 && !reachable().isEmpty(); i++) {
        System.gc();
        Thread.sleep(20);
      }
      return reachable();
    }

    private List<Integer> reachable() {
      List<Integer> live = new ArrayList<>();
      for (int i = 0; i < handedOut.size(); i++) {
        if (handedOut.get(i).get() != null) {
          live.add(i);
        }
      }
      return live;
    }

    @Override
    public ModelConfig config() {
      return weights.config();
    }

    @Override
    public float[] embedTokens() {
      return record(weights.embedTokens());
    }

    @Override
    public float[] lmHead() {
      return record(weights.lmHead());
    }

    @Override
    public Optional<short[]> embedTokensF16() {
      return weights.embedTokensF16().map(this::record);
    }

    @Override
    public Optional<short[]> lmHeadF16() {
      return weights.lmHeadF16().map(this::record);
    }

    @Override
    public float[] finalNorm() {
      return record(weights.finalNorm());
    }

    @Override
    public float[] inputNorm(int layer) {
      return record(weights.inputNorm(layer));
    }

    @Override
    public float[] postAttentionNorm(int layer) {
      return record(weights.postAttentionNorm(layer));
    }

    @Override
    public Nf4Tensor projection(int layer, Projection p) {
      Nf4Tensor t = weights.projection(layer, p);
      record(t.packed());
      record(t.absmaxCodes());
      return t;
    }
  }
}
