package dev.protorad.bench;

import dev.protorad.engine.model.AdapterHandle;
import dev.protorad.engine.model.BatchRow;
import dev.protorad.engine.model.EngineSettings;
import dev.protorad.engine.model.LlamaModel;
import dev.protorad.engine.model.LoraStrategy;
import dev.protorad.engine.model.Padding;
import java.util.ArrayList;
import java.util.List;

/**
 * 8 rows with 8 different adapters in one batch (gather + batched matmul, and grouping) vs 8 rows
 * with one adapter vs 8 sequential single-row calls, at prefill lengths 64 and 128. Ratios are
 * throughputs: mixed / single should reach 0.8, mixed / sequential 3.
 */
public final class MixedAdapterBench implements Benchmark {

  private static final int ROWS = 8;
  private static final int RANK = 16;
  private static final int RUNS = 7;

  @Override
  public String name() {
    return "mixed-adapters";
  }

  @Override
  public String description() {
    return "8 rows x 8 adapters vs 8 rows x 1 adapter vs 8 sequential calls (prefill 64, 128)";
  }

  @Override
  public void run(BenchReport report) throws Exception {
    EngineSettings.applyDefaults();
    BenchWeights weights = new BenchWeights(BenchWeights.SMALL, 1);
    try (LlamaModel gather = LlamaModel.builder(weights).loraStrategy(LoraStrategy.GATHER).build();
        LlamaModel grouped =
            LlamaModel.builder(weights).loraStrategy(LoraStrategy.GROUPED).build()) {
      report.device(gather.deviceName());
      List<AdapterHandle> onGather = adapters(gather);
      List<AdapterHandle> onGrouped = adapters(grouped);
      for (int length : new int[] {64, 128}) {
        measure(report, length, gather, onGather, grouped, onGrouped);
      }
      for (int length : new int[] {1, 4, 16}) {
        shortInputs(report, length, gather, onGather, grouped, onGrouped);
      }
      twoAdapters(report, 64, gather, onGather, grouped, onGrouped);
      onGather.forEach(AdapterHandle::close);
      onGrouped.forEach(AdapterHandle::close);
    }
  }

  private static void measure(
      BenchReport report,
      int length,
      LlamaModel gather,
      List<AdapterHandle> onGather,
      LlamaModel grouped,
      List<AdapterHandle> onGrouped) {
    List<BatchRow> mixed = rows(length, onGather);
    List<BatchRow> mixedGrouped = rows(length, onGrouped);
    List<BatchRow> single = rows(length, List.of(onGather.get(0)));
    double[] t =
        BenchWeights.interleavedMedians(
            1,
            RUNS,
            () -> gather.lastLogits(mixed, Padding.RIGHT),
            () -> grouped.lastLogits(mixedGrouped, Padding.RIGHT),
            () -> gather.lastLogits(single, Padding.RIGHT),
            () -> {
              for (BatchRow r : mixed) {
                gather.lastLogits(List.of(r), Padding.RIGHT);
              }
            });
    double tGather = t[0];
    double tGrouped = t[1];
    double tSingle = t[2];
    double tSequential = t[3];
    String at = " @" + length;
    report.row("8 rows x 8 adapters, gather" + at, tGather, "ms");
    report.row("8 rows x 8 adapters, grouped" + at, tGrouped, "ms");
    report.row("8 rows x 1 adapter" + at, tSingle, "ms");
    report.row("8 sequential single-row calls" + at, tSequential, "ms");
    double best = Math.min(tGather, tGrouped);
    // Throughput ratios: time of the baseline over time of the mixed batch.
    report.ratio("mixed(best)/single throughput" + at, tSingle, best, ">= 0.8");
    report.ratio("mixed(best)/sequential throughput" + at, tSequential, best, ">= 3");
    report.ratio("gather/grouped throughput" + at, tGrouped, tGather, "");
  }

  /** Short inputs: where grouping may beat gathering (LoraStrategy.AUTO's threshold). */
  private static void shortInputs(
      BenchReport report,
      int length,
      LlamaModel gather,
      List<AdapterHandle> onGather,
      LlamaModel grouped,
      List<AdapterHandle> onGrouped) {
    List<BatchRow> mixed = rows(length, onGather);
    List<BatchRow> mixedGrouped = rows(length, onGrouped);
    double[] t =
        BenchWeights.interleavedMedians(
            1,
            RUNS,
            () -> gather.lastLogits(mixed, Padding.RIGHT),
            () -> grouped.lastLogits(mixedGrouped, Padding.RIGHT));
    double tGather = t[0];
    double tGrouped = t[1];
    report.row("8 rows x 8 adapters, gather @" + length, tGather, "ms");
    report.row("8 rows x 8 adapters, grouped @" + length, tGrouped, "ms");
    report.ratio("gather/grouped throughput @" + length, tGrouped, tGather, "");
  }

  /** 8 rows over only 2 adapters: grouping runs 2 pairs of matmuls, gathering still stacks 8. */
  private static void twoAdapters(
      BenchReport report,
      int length,
      LlamaModel gather,
      List<AdapterHandle> onGather,
      LlamaModel grouped,
      List<AdapterHandle> onGrouped) {
    List<BatchRow> rows = rows(length, onGather.subList(0, 2));
    List<BatchRow> rowsGrouped = rows(length, onGrouped.subList(0, 2));
    double[] t =
        BenchWeights.interleavedMedians(
            1,
            RUNS,
            () -> gather.lastLogits(rows, Padding.RIGHT),
            () -> grouped.lastLogits(rowsGrouped, Padding.RIGHT));
    double tGather = t[0];
    double tGrouped = t[1];
    report.row("8 rows x 2 adapters, gather @" + length, tGather, "ms");
    report.row("8 rows x 2 adapters, grouped @" + length, tGrouped, "ms");
    report.ratio("2 adapters: gather/grouped throughput @" + length, tGrouped, tGather, "");
  }

  private static List<AdapterHandle> adapters(LlamaModel model) {
    List<AdapterHandle> out = new ArrayList<>();
    for (int i = 0; i < ROWS; i++) {
      out.add(model.loadAdapter("bench-" + i + "@1", BenchWeights.lora(model.config(), i, RANK)));
    }
    return out;
  }

  private static List<BatchRow> rows(int length, List<AdapterHandle> adapters) {
    List<BatchRow> rows = new ArrayList<>();
    for (int i = 0; i < ROWS; i++) {
      rows.add(
          BatchRow.of(BenchWeights.tokens(length, 100 + i), adapters.get(i % adapters.size())));
    }
    return rows;
  }
}
