package dev.protorad.bench;

import dev.protorad.engine.model.BatchRow;
import dev.protorad.engine.model.DequantCache;
import dev.protorad.engine.model.EngineSettings;
import dev.protorad.engine.model.LlamaModel;
import dev.protorad.engine.model.LlamaTokenizer;
import dev.protorad.engine.model.Padding;
import dev.protorad.engine.model.TextGenerator;
import java.util.ArrayList;
import java.util.List;

/**
 * Forward passes of one small model three ways: NF4 dequantized on every call, NF4 with the
 * dequantized-weight cache, and FP32 (the original, unquantized weights). Per token: greedy
 * decoding with the KV cache; per batch: a prefill of 8 × 64 tokens. The three run interleaved.
 */
public final class EngineForwardBench implements Benchmark {

  private static final int BATCH = 8;
  private static final int PREFILL = 64;
  private static final int NEW_TOKENS = 32;
  private static final int RUNS = 5;

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
        LlamaModel cached = LlamaModel.builder(weights).dequantCache(DequantCache.ON).build();
        LlamaModel fp32 = LlamaModel.builder(weights).unquantized(true).build()) {
      double[] tok = perToken(tokenizer, perCall, cached, fp32);
      double[] batch = perBatch(perCall, cached, fp32);
      report.row("params (projections)", params(), "M");
      report.row("NF4 per-call dequant, per token", tok[0], "ms/token");
      report.row("NF4 cached, per token", tok[1], "ms/token");
      report.row("FP32, per token", tok[2], "ms/token");
      report.row("NF4 per-call dequant, 8x64 prefill", batch[0], "ms/batch");
      report.row("NF4 cached, 8x64 prefill", batch[1], "ms/batch");
      report.row("FP32, 8x64 prefill", batch[2], "ms/batch");
      report.row("NF4 held bytes", perCall.memory().quantizedBytes() / 1e6, "MB");
      report.row("dense cache bytes", cached.memory().dequantCacheBytes() / 1e6, "MB");
      report.ratio("per token: FP32 / NF4 per-call throughput", tok[0], tok[2], "");
      report.ratio("per token: FP32 / NF4 cached throughput", tok[1], tok[2], "~1");
      report.ratio("per batch: FP32 / NF4 per-call throughput", batch[0], batch[2], "");
      report.ratio("per batch: FP32 / NF4 cached throughput", batch[1], batch[2], "~1");
      report.ratio(
          "dense / NF4 bytes",
          cached.memory().dequantCacheBytes(),
          perCall.memory().quantizedBytes(),
          "~7.8");
    }
  }

  /** Milliseconds per generated token of each model, prefill excluded, measured interleaved. */
  private static double[] perToken(LlamaTokenizer tokenizer, LlamaModel... models) {
    String prompt = "### Note:\nCT head without contrast, fall, on warfarin\n### Protocol:\n";
    int n = models.length;
    int[] produced = new int[n];
    Runnable[] tasks = new Runnable[2 * n];
    for (int i = 0; i < n; i++) {
      int k = i;
      TextGenerator g = TextGenerator.create(models[i], tokenizer);
      tasks[i] = () -> produced[k] = g.generate(prompt, null, NEW_TOKENS).tokens().length;
      tasks[n + i] = () -> g.generate(prompt, null, 1);
    }
    double[] t = BenchWeights.interleavedMedians(1, RUNS, tasks);
    double[] out = new double[n];
    for (int i = 0; i < n; i++) {
      out[i] = (t[i] - t[n + i]) / Math.max(1, produced[i] - 1);
    }
    return out;
  }

  /** Milliseconds per 8 x 64 prefill of each model, measured interleaved. */
  private static double[] perBatch(LlamaModel... models) {
    List<BatchRow> rows = new ArrayList<>();
    for (int i = 0; i < BATCH; i++) {
      rows.add(BatchRow.of(BenchWeights.tokens(PREFILL, i)));
    }
    Runnable[] tasks = new Runnable[models.length];
    for (int i = 0; i < models.length; i++) {
      LlamaModel m = models[i];
      tasks[i] = () -> m.lastLogits(rows, Padding.RIGHT);
    }
    return BenchWeights.interleavedMedians(1, RUNS, tasks);
  }

  private static double params() {
    var c = BenchWeights.SMALL;
    long perLayer = 0;
    for (var p : dev.protorad.engine.checkpoint.Projection.values()) {
      perLayer += (long) p.inFeatures(c) * p.outFeatures(c);
    }
    return perLayer * c.numHiddenLayers() / 1e6;
  }
}
