package dev.protorad.engine.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.protorad.engine.checkpoint.BaseCheckpoint;
import dev.protorad.engine.checkpoint.LoadOptions;
import dev.protorad.engine.checkpoint.RandomCheckpoint;
import dev.protorad.engine.peft.LoraAdapter;
import dev.protorad.engine.peft.LoraConfig;
import dev.protorad.engine.peft.TargetModules;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The decoder over a base checkpoint as loaded from disk, with a PEFT adapter. */
class LlamaModelCheckpointTest {

  @TempDir static Path dir;
  private static BaseCheckpoint checkpoint;

  @BeforeAll
  static void write() throws Exception {
    RandomCheckpoint.builder(TinyWeights.CONFIG)
        .seed(5)
        .std(0.08)
        .tokenizer(TinyWeights.TOKENIZER)
        .build()
        .write(dir);
    checkpoint = BaseCheckpoint.load(dir, LoadOptions.defaults());
  }

  @Test
  void baseModel_streamsTheSameWeights_asTheWholeCheckpoint_withItsFingerprintAndTokenizer()
      throws Exception {
    int[] tokens = LlamaModelTest.tokens(9, 6);
    try (BaseModel base = BaseModel.load(dir);
        LlamaModel whole = LlamaModel.builder(checkpoint).build()) {
      float[][] streamed = base.model().forward(List.of(BatchRow.of(tokens)), Padding.RIGHT)[0];
      float[][] loaded = whole.forward(List.of(BatchRow.of(tokens)), Padding.RIGHT)[0];

      assertThat(LlamaModelTest.maxAbsDiff(streamed, loaded)).isZero();
      assertThat(base.fingerprint()).isEqualTo(checkpoint.fingerprint());
      assertThat(base.config()).isEqualTo(checkpoint.config());
      assertThat(base.tokenizer().encode("chest pain")).isNotEmpty();
      assertThat(base.loadCheckpoint().fingerprint()).isEqualTo(checkpoint.fingerprint());
    }
  }

  @Test
  void baseModel_refusesADirectoryWithoutACheckpoint_namingWhatIsMissing(@TempDir Path empty) {
    assertThatThrownBy(() -> BaseModel.load(empty))
        .isInstanceOf(java.io.IOException.class)
        .hasMessageContaining("config.json");
  }

  @Test
  void fp16Embeddings_giveTheSameLogitsAsFp32() {
    int[] tokens = LlamaModelTest.tokens(9, 3);
    try (LlamaModel fp32 = LlamaModel.builder(checkpoint).build();
        LlamaModel fp16 =
            LlamaModel.builder(checkpoint).embeddingPrecision(Precision.FP16).build()) {
      float[][] a = fp32.forward(List.of(BatchRow.of(tokens)), Padding.RIGHT)[0];
      float[][] b = fp16.forward(List.of(BatchRow.of(tokens)), Padding.RIGHT)[0];

      // The checkpoint's embeddings are F16: widening them is exact.
      assertThat(LlamaModelTest.maxAbsDiff(a, b)).isLessThan(1e-5);
      assertThat(fp16.memory().embeddingBytes()).isEqualTo(fp32.memory().embeddingBytes() / 2);
    }
  }

  @Test
  void fp16DequantizedWeights_stayCloseToFp32() {
    int[] tokens = LlamaModelTest.tokens(9, 4);
    try (LlamaModel fp32 = LlamaModel.builder(checkpoint).build();
        LlamaModel fp16 = LlamaModel.builder(checkpoint).dequantPrecision(Precision.FP16).build()) {
      float[][] a = fp32.forward(List.of(BatchRow.of(tokens)), Padding.RIGHT)[0];
      float[][] b = fp16.forward(List.of(BatchRow.of(tokens)), Padding.RIGHT)[0];

      assertThat(LlamaModelTest.maxAbsDiff(a, b)).isLessThan(5e-2);
    }
  }

  @Test
  void freshPeftAdapter_leavesScoresUnchanged() throws Exception {
    LoraAdapter fresh =
        LoraAdapter.create(checkpoint.config(), LoraConfig.of(8, 16, TargetModules.allLinear()), 1);
    try (LlamaModel model = LlamaModel.builder(checkpoint).build();
        LlamaTokenizer tokenizer = LlamaTokenizer.load(checkpoint.tokenizerJson());
        AdapterHandle handle = model.loadAdapter("fresh@1", fresh)) {
      LabelScorer scorer = LabelScorer.create(model, tokenizer, PromptTemplate.DEFAULT);
      List<String> labels = List.of("CT Head WO Contrast", "MRI Brain W WO Contrast");

      LabelScores base = scorer.score("headache", labels, null, 2);
      LabelScores adapted = scorer.score("headache", labels, handle, 2);

      for (int i = 0; i < labels.size(); i++) {
        assertThat(adapted.labels().get(i).logLikelihood())
            .isCloseTo(base.labels().get(i).logLikelihood(), within(1e-9));
      }
      assertThat(handle.deviceBytes()).isEqualTo(fresh.tensorBytes());
    }
  }
}
