package dev.protorad.bench;

import dev.protorad.server.engine.model.BatchRow;
import dev.protorad.server.engine.model.DequantCache;
import dev.protorad.server.engine.model.EngineSettings;
import dev.protorad.server.engine.model.LlamaModel;
import dev.protorad.server.engine.model.LlamaTokenizer;
import dev.protorad.server.engine.model.Padding;
import dev.protorad.server.engine.model.TextGenerator;
import java.util.ArrayList;
import java.util.List;

/**
 * Forward passes of one small model: NF4 dequantized on every call vs NF4 with the
 * dequantized-weight cache. The cached model holds dense FP32 weights and runs exactly the matmuls
 * of an FP32 model, so it is the FP32 baseline. Per token: greedy decoding with the KV cache; per
 * batch: a prefill of 8 × 64 tokens.
 */
public final class EngineForwardBench implements Benchmark {

  private static final int BATCH = 8;
  private static final int PREFILL = 64;
  private static final int NEW_TOKENS = 32;

  @Override
  public String name() {
    return "engine-forward";
  }

  @Override
  public String description() {
    return "NF4 per-call dequant vs NF4 cached vs FP32, per token (KV cache) and per 8x64 batch";
  }

  @Override
  public void run(BenchReport report) throws Exception {
    EngineSettings.applyDefaults();
    BenchWeights weights = new BenchWeights(BenchWeights.SMALL, 1);
    try (LlamaTokenizer tokenizer = LlamaTokenizer.load(BenchWeights.tokenizer());
        LlamaModel perCall = LlamaModel.builder(weights).dequantCache(DequantCache.OFF).build();
        LlamaModel cached = LlamaModel.builder(weights).dequantCache(DequantCache.ON).build()) {
      double tokPerCall = perToken(perCall, tokenizer);
      double tokCached = perToken(cached, tokenizer);
      double batchPerCall = perBatch(perCall);
      double batchCached = perBatch(cached);
      report.row("params (projections)", params(), "M");
      report.row("NF4 per-call dequant, per token", tokPerCall, "ms/token");
      report.row("NF4 cached = FP32 dense, per token", tokCached, "ms/token");
      report.row("NF4 per-call dequant, 8x64 prefill", batchPerCall, "ms/batch");
      report.row("NF4 cached = FP32 dense, 8x64 prefill", batchCached, "ms/batch");
      report.row("NF4 held bytes", perCall.memory().quantizedBytes() / 1e6, "MB");
      report.row("dense cache bytes", cached.memory().dequantCacheBytes() / 1e6, "MB");
      report.ratio("per token: per-call / cached (time)", tokPerCall, tokCached, "");
      report.ratio("per batch: per-call / cached (time)", batchPerCall, batchCached, "");
      report.ratio(
          "dense / NF4 bytes",
          cached.memory().dequantCacheBytes(),
          perCall.memory().quantizedBytes(),
          "~7.8");
    }
  }

  /** Milliseconds per generated token, prefill excluded. */
  private static double perToken(LlamaModel model, LlamaTokenizer tokenizer) {
    TextGenerator generator = TextGenerator.create(model, tokenizer);
    String prompt = "### Note:\nCT head without contrast, fall, on warfarin\n### Protocol:\n";
    int[] produced = new int[1];
    double full =
        BenchWeights.medianMillis(
            1, 5, () -> produced[0] = generator.generate(prompt, null, NEW_TOKENS).tokens().length);
    double one = BenchWeights.medianMillis(1, 5, () -> generator.generate(prompt, null, 1));
    return (full - one) / Math.max(1, produced[0] - 1);
  }

  private static double perBatch(LlamaModel model) {
    List<BatchRow> rows = new ArrayList<>();
    for (int i = 0; i < BATCH; i++) {
      rows.add(BatchRow.of(BenchWeights.tokens(PREFILL, i)));
    }
    return BenchWeights.medianMillis(1, 5, () -> model.lastLogits(rows, Padding.RIGHT));
  }

  private static double params() {
    var c = BenchWeights.SMALL;
    long perLayer = 0;
    for (var p : dev.protorad.server.engine.checkpoint.Projection.values()) {
      perLayer += (long) p.inFeatures(c) * p.outFeatures(c);
    }
    return perLayer * c.numHiddenLayers() / 1e6;
  }
}
