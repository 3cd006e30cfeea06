package dev.protorad.bench;

import dev.protorad.engine.checkpoint.BaseCheckpoint;
import dev.protorad.engine.checkpoint.LoadOptions;
import dev.protorad.engine.model.DequantCache;
import dev.protorad.engine.model.EngineSettings;
import dev.protorad.engine.peft.LoraConfig;
import dev.protorad.engine.peft.TargetModules;
import dev.protorad.training.lm.TrainableLlama;
import dev.protorad.training.lm.TrainingStepProbe;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Peak resident memory of one QLoRA step (batch 1, sequence 128, LoRA r=16 on every projection)
 * over a Llama-2-7B-shaped base held NF4 on the device, dequantized per use, with per-layer
 * recompute in the backward pass. Reads the random checkpoint that {@code llama-7b-shape} writes to
 * {@code PROTORAD_BENCH_7B_DIR} (default {@code /tmp/protorad-7b}); run that first. The whole base
 * is loaded and quantized in the Java heap before it is copied to the device (that copy is then
 * dropped and collected, as a fine-tuning run does): run with {@code PROTORAD_JAVA_OPTS=-Xmx8g}.
 */
public final class TrainingMemory7bBench implements Benchmark {

  private static final int SEQUENCE = 128;

  @Override
  public String name() {
    return "training-memory-7b";
  }

  @Override
  public String description() {
    return "peak RSS of one QLoRA step (seq "
        + SEQUENCE
        + ", NF4 on the device, per-layer recompute), Llama-2-7B shape";
  }

  @Override
  public void run(BenchReport report) throws Exception {
    EngineSettings.applyDefaults();
    Path dir = Path.of(System.getenv().getOrDefault("PROTORAD_BENCH_7B_DIR", "/tmp/protorad-7b"));
    if (!Files.exists(dir.resolve("config.json"))) {
      throw new IllegalStateException(dir + " holds no checkpoint: run llama-7b-shape first");
    }
    long[] held = new long[1];
    double[] loadSeconds = new double[1];
    double[] loaded = new double[1];
    LoraConfig lora = LoraConfig.of(16, 32, TargetModules.allLinear());
    TrainableLlama.MemoryOptions memory = TrainableLlama.MemoryOptions.of(DequantCache.OFF, true);
    long start = System.nanoTime();
    // The probe drops the loader's Java copy once the base is on the device, as fine-tuning does.
    TrainingStepProbe.Result r =
        TrainingStepProbe.run(
            () -> {
              try {
                BaseCheckpoint base = BaseCheckpoint.load(dir, LoadOptions.defaults());
                loadSeconds[0] = seconds(start);
                held[0] = base.memoryReport().totalBytes();
                loaded[0] = TrainingMemoryBench.kib("VmRSS") / 1024.0 / 1024.0;
                return base;
              } catch (IOException e) {
                throw new UncheckedIOException(e);
              }
            },
            lora,
            memory,
            1,
            SEQUENCE,
            1);
    report.row("load + NF4 quantize", loadSeconds[0], "s");
    report.row("copy to the device + one step", seconds(start) - loadSeconds[0], "s");
    double peak = TrainingMemoryBench.kib("VmHWM") / 1024.0 / 1024.0;
    report.row("base held after load (NF4 + FP16 embeddings)", held[0] / 1e9, "GB");
    report.row("trainable (LoRA) parameters", r.trainableParameters() / 1e6, "M");
    report.row("parameters (base + LoRA)", r.totalParameters() / 1e9, "B");
    report.row("trainable share", 100 * r.trainableShare(), "%");
    report.row("RSS after loading the base", loaded[0], "GiB");
    report.row("peak RSS (VmHWM)", peak, "GiB");
    report.row("one step (forward + recompute + backward + AdamW)", r.millisPerStep() / 1e3, "s");
    report.ratio("peak RSS / held base", peak * (1L << 30), (double) held[0], "");
  }

  private static double seconds(long start) {
    return (System.nanoTime() - start) / 1e9;
  }
}
