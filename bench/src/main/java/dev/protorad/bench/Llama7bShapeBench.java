package dev.protorad.bench;

import dev.protorad.engine.checkpoint.BaseCheckpoint;
import dev.protorad.engine.checkpoint.BaseStream;
import dev.protorad.engine.checkpoint.LoadOptions;
import dev.protorad.engine.checkpoint.MemoryReport;
import dev.protorad.engine.checkpoint.RandomCheckpoint;
import dev.protorad.engine.model.BatchRow;
import dev.protorad.engine.model.DequantCache;
import dev.protorad.engine.model.EngineSettings;
import dev.protorad.engine.model.LlamaModel;
import dev.protorad.engine.model.ModelMemory;
import dev.protorad.engine.model.Padding;
import dev.protorad.engine.safetensors.DType;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/**
 * The production shape on this machine: a random Llama-2-7B checkpoint (F16, 3 shards, 13.5 GB)
 * streamed into the model layer by layer (read, NF4-quantized, copied to the device, dropped) with
 * the dequantized-weight cache off, then one 128-token prefill. Reports load time, bytes held by
 * the quantized base against the F16 source, and the process's peak RSS with its breakdown
 * (anonymous and file-backed pages, Java heap, direct and mapped buffers) after each phase. Slow
 * (minutes) and needs ~14 GB of disk: the checkpoint is kept in {@code PROTORAD_BENCH_7B_DIR}
 * (default {@code /tmp/protorad-7b}) and reused by later runs.
 */
public final class Llama7bShapeBench implements Benchmark {

  @Override
  public String name() {
    return "llama-7b-shape";
  }

  @Override
  public String description() {
    return "Llama-2-7B-shaped random checkpoint: NF4 load, bytes held, peak RSS, 128-token prefill";
  }

  @Override
  public void run(BenchReport report) throws Exception {
    EngineSettings.applyDefaults();
    Path dir = Path.of(System.getenv().getOrDefault("PROTORAD_BENCH_7B_DIR", "/tmp/protorad-7b"));
    if (!Files.exists(dir.resolve("config.json"))) {
      long start = System.nanoTime();
      RandomCheckpoint.builder(RandomCheckpoint.Preset.LLAMA_2_7B)
          .dtype(DType.F16)
          .shards(3)
          .seed(1)
          .build()
          .write(dir);
      report.row("write random F16 checkpoint", seconds(start), "s");
    }
    long sourceBytes = safetensorsBytes(dir);
    ProcessMemory process = ProcessMemory.start(report);
    process.phase("start", "streamed load");
    long start = System.nanoTime();
    MemoryReport memory;
    try (BaseStream stream = BaseCheckpoint.stream(dir, LoadOptions.defaults());
        LlamaModel model = LlamaModel.builder(stream).dequantCache(DequantCache.OFF).build()) {
      report.row("load + NF4 quantize + copy to the device, layer by layer", seconds(start), "s");
      process.phase("load and model build", "prefill");
      memory = stream.memoryReport();
      ModelMemory device = model.memory();
      report.row("F16 source (safetensors)", sourceBytes / 1e9, "GB");
      report.row("held after load (NF4 + FP16 embeddings)", memory.totalBytes() / 1e9, "GB");
      report.row("NF4 bits per parameter", memory.nf4BitsPerParameter(), "bits");
      report.row(
          "on the device (NF4 + FP32 embeddings and head + norms)",
          (device.quantizedBytes() + device.embeddingBytes() + device.otherBytes()) / 1e9,
          "GB");
      int[] tokens = new int[128];
      for (int i = 0; i < tokens.length; i++) {
        tokens[i] = 1 + (i * 7919) % 31_999;
      }
      start = System.nanoTime();
      float[][] logits = model.lastLogits(List.of(BatchRow.of(tokens)), Padding.RIGHT);
      report.row("one 128-token prefill (dequant per layer)", seconds(start), "s");
      report.row("logits finite", Float.isFinite(logits[0][0]) ? 1 : 0, "(1 = yes)");
      process.phase("prefill", "close");
    }
    process.close();
    long peakRss = ProcessMemory.status("VmHWM");
    long peakAnonymous = process.peakAnonymous();
    report.row("sampled peak RssFile", process.peakFile() / 1e9, "GB");
    report.row("sampled peak RSS reached during: " + process.peakPhase(), 1, "");
    report.row("peak RSS, file-backed mmap pages included", peakRss / 1e9, "GB");
    report.row("peak anonymous RSS (heap + native), sampled", peakAnonymous / 1e9, "GB");
    report.ratio("held / F16 source bytes", memory.totalBytes(), sourceBytes, "<= 4.0 GB held");
    report.ratio(
        "peak anonymous RSS / F16 source bytes", peakAnonymous, sourceBytes, "<= 6 GB RSS");
  }

  private static double seconds(long startNanos) {
    return (System.nanoTime() - startNanos) / 1e9;
  }

  private static long safetensorsBytes(Path dir) throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      return files
          .filter(p -> p.toString().endsWith(".safetensors"))
          .mapToLong(p -> p.toFile().length())
          .sum();
    }
  }
}
