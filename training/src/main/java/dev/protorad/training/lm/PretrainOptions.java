package dev.protorad.training.lm;

import static java.util.Objects.requireNonNull;

import dev.protorad.engine.ModelConfig;

/**
 * What {@link Pretrainer} trains and for how long.
 *
 * @param model the architecture (vocabulary size must match the tokenizer)
 * @param steps optimizer steps
 * @param batchSize sequences per step
 * @param maxTokens longest sequence kept (longer documents are cut)
 * @param learningRate peak rate (warmup then cosine decay to a tenth)
 * @param warmupSteps steps of linear warmup
 * @param weightDecay AdamW decoupled weight decay
 * @param maxGradNorm global gradient norm cap
 * @param seed initialisation and batch order
 */
public record PretrainOptions(
    ModelConfig model,
    int steps,
    int batchSize,
    int maxTokens,
    double learningRate,
    int warmupSteps,
    double weightDecay,
    double maxGradNorm,
    long seed) {

  /** Checks the fields. */
  public PretrainOptions {
    requireNonNull(model, "model");
    positive("steps", steps);
    positive("batchSize", batchSize);
    positive("maxTokens", maxTokens);
    if (maxTokens > model.maxPositionEmbeddings()) {
      throw new IllegalArgumentException(
          "maxTokens: "
              + maxTokens
              + " (expected: <= max_position_embeddings="
              + model.maxPositionEmbeddings()
              + ")");
    }
    if (!(learningRate > 0)) {
      throw new IllegalArgumentException("learningRate: " + learningRate + " (expected: > 0)");
    }
    if (warmupSteps < 0 || warmupSteps > steps) {
      throw new IllegalArgumentException(
          "warmupSteps: " + warmupSteps + " (expected: 0.." + steps + ")");
    }
  }

  private static void positive(String name, int value) {
    if (value < 1) {
      throw new IllegalArgumentException(name + ": " + value + " (expected: >= 1)");
    }
  }
}
