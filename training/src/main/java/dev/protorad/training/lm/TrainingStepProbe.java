package dev.protorad.training.lm;

import static java.util.Objects.requireNonNull;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import dev.protorad.engine.checkpoint.BaseCheckpoint;
import dev.protorad.engine.model.EngineSettings;
import dev.protorad.engine.peft.LoraAdapter;
import dev.protorad.engine.peft.LoraConfig;
import java.util.SplittableRandom;
import java.util.function.Supplier;

/**
 * Runs QLoRA fine-tuning steps on synthetic tokens for measurements (benchmarks): forward, backward
 * over the label-free causal loss of every position, and one AdamW update.
 */
public final class TrainingStepProbe {

  /**
   * What the probe saw.
   *
   * @param trainableParameters LoRA values
   * @param totalParameters every value of the model (base + LoRA)
   * @param millisPerStep median wall time of a step
   */
  public record Result(long trainableParameters, long totalParameters, double millisPerStep) {
    /** Trainable share of all parameters. */
    public double trainableShare() {
      return (double) trainableParameters / totalParameters;
    }
  }

  private TrainingStepProbe() {}

  /** Runs {@code steps} steps of {@code batch} × {@code sequence} random tokens. */
  public static Result run(
      BaseCheckpoint base, LoraConfig lora, int batch, int sequence, int steps) {
    return run(base, lora, TrainableLlama.MemoryOptions.DEFAULTS, batch, sequence, steps);
  }

  /**
   * As {@link #run(BaseCheckpoint, LoraConfig, int, int, int)}, holding the base as {@code memory}
   * says.
   */
  public static Result run(
      BaseCheckpoint base,
      LoraConfig lora,
      TrainableLlama.MemoryOptions memory,
      int batch,
      int sequence,
      int steps) {
    requireNonNull(base, "base");
    return run(() -> base, lora, memory, batch, sequence, steps);
  }

  /**
   * As {@link #run(BaseCheckpoint, LoraConfig, TrainableLlama.MemoryOptions, int, int, int)}, over
   * a base that {@code load} gives and the probe drops once it is on the device, as a fine-tuning
   * run does (the caller must keep no reference to it).
   */
  public static Result run(
      Supplier<BaseCheckpoint> load,
      LoraConfig lora,
      TrainableLlama.MemoryOptions memory,
      int batch,
      int sequence,
      int steps) {
    requireNonNull(load, "load");
    requireNonNull(memory, "memory");
    requireNonNull(lora, "lora");
    GradMode.off();
    SplittableRandom random = new SplittableRandom(1);
    EngineSettings.applyDefaults();
    BaseCheckpoint base = requireNonNull(load.get(), "load.get()");
    long loaded = base.memoryReport().totalBytes();
    LoraAdapter init = LoraAdapter.create(base.config(), lora, 1);
    NDManager manager = NDManager.newBaseManager();
    TrainableLlama model;
    try {
      model = TrainableLlama.qlora(base, init, memory, manager);
    } catch (RuntimeException | Error e) {
      manager.close();
      throw e;
    }
    base = null;
    TrainableLlama.collectIfLarge(loaded);
    try (manager;
        model;
        AdamW adamW = AdamW.of(model.trainable(), 0, manager)) {
      double[] times = new double[steps];
      for (int s = 0; s < steps; s++) {
        long start = System.nanoTime();
        step(model, adamW, batch, sequence, random, manager);
        times[s] = (System.nanoTime() - start) / 1e6;
      }
      java.util.Arrays.sort(times);
      return new Result(model.trainableParameters(), model.totalParameters(), times[steps / 2]);
    }
  }

  private static void step(
      TrainableLlama model,
      AdamW adamW,
      int batch,
      int sequence,
      SplittableRandom random,
      NDManager parent) {
    int vocab = model.config().vocabSize();
    int[][] tokens = new int[batch][sequence];
    long[] positions = new long[batch * (sequence - 1)];
    long[] targets = new long[positions.length];
    int k = 0;
    for (int b = 0; b < batch; b++) {
      for (int t = 0; t < sequence; t++) {
        tokens[b][t] = 3 + random.nextInt(vocab - 3);
      }
      for (int t = 0; t < sequence - 1; t++) {
        positions[k] = (long) b * sequence + t;
        targets[k++] = tokens[b][t + 1];
      }
    }
    try (NDManager scope = parent.newSubManager();
        NDScope arrays = new NDScope()) {
      arrays.suppressNotUsedWarning();
      model.backward(tokens, positions, targets, null, null, true, 1f, scope);
    }
    adamW.step(1e-4, 1.0);
  }
}
