package dev.protorad.bench;

import dev.protorad.engine.checkpoint.BaseCheckpoint;
import dev.protorad.engine.checkpoint.LoadOptions;
import dev.protorad.engine.model.EngineSettings;
import dev.protorad.engine.peft.LoraConfig;
import dev.protorad.engine.peft.TargetModules;
import dev.protorad.training.lm.TrainingStepProbe;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Peak resident memory and trainable-parameter share of QLoRA fine-tune steps (sequence 128, batch
 * 1, LoRA r=16 on every projection) on the embedded demo base. Peak RSS is the process's high-water
 * mark ({@code VmHWM}); the ratio compares it with the resident size after loading.
 *
 * <p>The Llama-2-7B-shaped case is {@link TrainingMemory7bBench} (NF4 on the device, per-layer
 * recompute); it takes minutes and reads the checkpoint {@code llama-7b-shape} writes.
 */
public final class TrainingMemoryBench implements Benchmark {

  static final Path DEMO_BASE = Path.of("models", "demo-base");
  private static final int SEQUENCE = 128;
  private static final int BATCH = 1;
  private static final int STEPS = 5;

  @Override
  public String name() {
    return "training-memory";
  }

  @Override
  public String description() {
    return "peak RSS and trainable share of QLoRA steps (seq 128, batch 1, r=16 all-linear), demo base";
  }

  @Override
  public void run(BenchReport report) throws Exception {
    EngineSettings.applyDefaults();
    if (!Files.isDirectory(DEMO_BASE)) {
      throw new IllegalStateException("run from the repository root: " + DEMO_BASE + " not found");
    }
    BaseCheckpoint base = BaseCheckpoint.load(DEMO_BASE, LoadOptions.defaults());
    double loaded = kib("VmRSS") / 1024.0;
    LoraConfig lora = LoraConfig.of(16, 32, TargetModules.allLinear());
    TrainingStepProbe.Result r = TrainingStepProbe.run(base, lora, BATCH, SEQUENCE, STEPS);
    double peak = kib("VmHWM") / 1024.0;
    report.row("base parameters (demo)", r.totalParameters() / 1e6, "M");
    report.row("trainable (LoRA) parameters", r.trainableParameters() / 1e6, "M");
    report.row("trainable share", 100 * r.trainableShare(), "%");
    report.row("RSS after loading the base", loaded, "MiB");
    report.row("peak RSS after " + STEPS + " steps", peak, "MiB");
    report.row("median step (forward+backward+AdamW)", r.millisPerStep(), "ms");
    report.ratio("peak RSS / RSS after load", peak, loaded, "");
  }

  static long kib(String field) throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
      if (line.startsWith(field + ":")) {
        List<String> parts = List.of(line.split("\\s+"));
        return Long.parseLong(parts.get(1));
      }
    }
    return 0;
  }
}
