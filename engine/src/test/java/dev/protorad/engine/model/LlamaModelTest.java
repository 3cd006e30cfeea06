package dev.protorad.engine.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class LlamaModelTest {

  private static TinyWeights weights;
  private static LlamaModel cached;
  private static LlamaModel perCall;

  @BeforeAll
  static void build() {
    weights = TinyWeights.create(7);
    cached = LlamaModel.builder(weights).dequantCache(DequantCache.ON).build();
    perCall = LlamaModel.builder(weights).dequantCache(DequantCache.OFF).build();
  }

  @AfterAll
  static void close() {
    cached.close();
    perCall.close();
  }

  @Test
  void nf4Forward_equalsFp32ReferenceOverDequantizedWeights() {
    int[] tokens = tokens(11, 1);
    float[][] expected = new ReferenceLlama(weights).logits(tokens);

    float[][] fromCache = cached.forward(List.of(BatchRow.of(tokens)), Padding.RIGHT)[0];
    float[][] fromPerCall = perCall.forward(List.of(BatchRow.of(tokens)), Padding.RIGHT)[0];

    assertThat(maxAbsDiff(fromCache, expected)).isLessThan(1e-3);
    assertThat(maxAbsDiff(fromPerCall, expected)).isLessThan(1e-3);
  }

  @Test
  void unquantizedModel_runsTheOriginalWeights_closeToNf4() {
    int[] tokens = tokens(8, 12);
    try (LlamaModel fp32 = LlamaModel.builder(weights).unquantized(true).build()) {
      float[][] original = fp32.forward(List.of(BatchRow.of(tokens)), Padding.RIGHT)[0];
      float[][] nf4 = cached.forward(List.of(BatchRow.of(tokens)), Padding.RIGHT)[0];

      assertThat(fp32.memory().quantizedBytes()).isZero();
      // NF4 error is real (about 10% per weight) but the logits stay in the same range.
      assertThat(maxAbsDiff(original, nf4)).isGreaterThan(1e-3).isLessThan(10);
    }
  }

  @Test
  void dequantCache_autoFollowsThreshold() {
    try (LlamaModel small = LlamaModel.builder(weights).build();
        LlamaModel large = LlamaModel.builder(weights).dequantCacheThresholdBytes(1024).build()) {
      assertThat(small.memory().dequantCacheEnabled()).isTrue();
      assertThat(large.memory().dequantCacheEnabled()).isFalse();
      assertThat(large.memory().quantizedBytes())
          .isLessThan(small.memory().dequantCacheBytes() / 6);
    }
  }

  @Test
  void loraForward_equalsReference() {
    var pairs = TinyWeights.lora(weights.config(), 11, 4, false);
    int[] tokens = tokens(9, 2);
    float[][] expected = new ReferenceLlama(weights, pairs).logits(tokens);
    try (AdapterHandle adapter = cached.loadAdapter("a@1", pairs)) {
      float[][] actual = cached.forward(List.of(BatchRow.of(tokens, adapter)), Padding.RIGHT)[0];
      assertThat(maxAbsDiff(actual, expected)).isLessThan(1e-3);
    }
  }

  @ParameterizedTest
  @EnumSource(Padding.class)
  void paddedBatch_equalsEachRowAlone(Padding padding) {
    List<BatchRow> rows = List.of(BatchRow.of(tokens(5, 3)), BatchRow.of(tokens(12, 4)));

    float[][][] batch = cached.forward(rows, padding);

    for (int r = 0; r < rows.size(); r++) {
      float[][] alone = cached.forward(List.of(rows.get(r)), padding)[0];
      assertThat(maxAbsDiff(batch[r], alone)).as("row %d", r).isLessThan(1e-4);
    }
    float[][] last = cached.lastLogits(rows, padding);
    assertThat(maxAbsDiff(new float[][] {last[0]}, new float[][] {batch[0][4]})).isLessThan(1e-5);
  }

  @ParameterizedTest
  @EnumSource(LoraStrategy.class)
  void mixedBatch_equalsEachRowAlone(LoraStrategy strategy) {
    try (LlamaModel model = LlamaModel.builder(weights).loraStrategy(strategy).build();
        AdapterHandle a =
            model.loadAdapter("a@1", TinyWeights.lora(weights.config(), 1, 4, false));
        AdapterHandle b =
            model.loadAdapter("b@1", TinyWeights.lora(weights.config(), 2, 8, false));
        AdapterHandle c =
            model.loadAdapter("c@1", TinyWeights.lora(weights.config(), 3, 4, false))) {
      List<BatchRow> rows =
          List.of(
              BatchRow.of(tokens(20, 5), a),
              BatchRow.of(tokens(17, 6), b),
              BatchRow.of(tokens(20, 7), null),
              BatchRow.of(tokens(18, 8), a),
              BatchRow.of(tokens(20, 9), c));

      float[][][] mixed = model.forward(rows, Padding.RIGHT);

      for (int r = 0; r < rows.size(); r++) {
        float[][] alone = model.forward(List.of(rows.get(r)), Padding.RIGHT)[0];
        assertThat(maxAbsDiff(mixed[r], alone)).as("row %d", r).isLessThan(1e-4);
      }
    }
  }

  @Test
  void adapterWithZeroB_leavesBaseOutputUnchanged() {
    int[] tokens = tokens(10, 10);
    try (AdapterHandle fresh =
        cached.loadAdapter("fresh@1", TinyWeights.lora(weights.config(), 4, 8, true))) {
      float[][] base = cached.forward(List.of(BatchRow.of(tokens)), Padding.RIGHT)[0];
      float[][] adapted = cached.forward(List.of(BatchRow.of(tokens, fresh)), Padding.RIGHT)[0];
      assertThat(maxAbsDiff(adapted, base)).isEqualTo(0.0);
    }
  }

  @Test
  void kvCacheGeneration_equalsFullRecomputation() throws Exception {
    try (LlamaTokenizer tokenizer = LlamaTokenizer.load(TinyWeights.TOKENIZER)) {
      TextGenerator generator = TextGenerator.create(cached, tokenizer);
      int[] prompt = tokenizer.encode("### Note:\nCT head, rule out bleed\n### Protocol:\n");

      int[] withCache = generator.generateTokens(prompt, null, 12, true);
      int[] recomputed = generator.generateTokens(prompt, null, 12, false);

      assertThat(withCache).isNotEmpty().containsExactly(recomputed);
    }
  }

  @Test
  void kvCacheGeneration_withAdapter_equalsFullRecomputation() throws Exception {
    try (LlamaTokenizer tokenizer = LlamaTokenizer.load(TinyWeights.TOKENIZER);
        AdapterHandle a =
            cached.loadAdapter("a@1", TinyWeights.lora(weights.config(), 5, 4, false))) {
      TextGenerator generator = TextGenerator.create(cached, tokenizer);
      int[] prompt = tokenizer.encode("MRI knee");

      assertThat(generator.generateTokens(prompt, a, 8, true))
          .containsExactly(generator.generateTokens(prompt, a, 8, false));
    }
  }

  @Test
  void forward_rejectsTokenOutsideVocabulary() {
    assertThatThrownBy(
            () -> cached.forward(List.of(BatchRow.of(new int[] {1, 32_000})), Padding.RIGHT))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("token id: 32000");
  }

  @Test
  void loadAdapter_rejectsWrongShape() {
    var wrong = TinyWeights.lora(TinyWeights.CONFIG, 1, 4, false);
    var other =
        new dev.protorad.engine.ModelConfig(
            64, 256, 2, 4, 2, 1e-5, 10_000.0, 32_000, 512, false, 1, 2);
    assertThatThrownBy(() -> cached.loadAdapter("x@1", TinyWeights.lora(other, 1, 4, false)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("expected");
    assertThat(wrong).isNotNull();
  }

  static int[] tokens(int n, long seed) {
    Random random = new Random(seed);
    int[] out = new int[n];
    out[0] = 1;
    for (int i = 1; i < n; i++) {
      out[i] = 3 + random.nextInt(31_990);
    }
    return out;
  }

  static double maxAbsDiff(float[][] a, float[][] b) {
    assertThat(a.length).isEqualTo(b.length);
    double max = 0;
    for (int i = 0; i < a.length; i++) {
      assertThat(a[i].length).isEqualTo(b[i].length);
      for (int j = 0; j < a[i].length; j++) {
        max = Math.max(max, Math.abs(a[i][j] - b[i][j]));
      }
    }
    return max;
  }

  static List<Integer> boxed(int[] a) {
    List<Integer> out = new ArrayList<>();
    Arrays.stream(a).forEach(out::add);
    return out;
  }
}
