package dev.protorad.training.lm;

/**
 * Linear warmup to the peak rate, then cosine decay to {@code minRatio} of it (the schedule of the
 * QLoRA and Llama recipes).
 *
 * @param peak the rate after warmup
 * @param warmupSteps optimizer steps of linear warmup
 * @param totalSteps optimizer steps in the run
 * @param minRatio the final rate as a share of the peak
 */
public record LearningRateSchedule(double peak, int warmupSteps, int totalSteps, double minRatio) {

  /** Checks the fields. */
  public LearningRateSchedule {
    if (!(peak > 0)) {
      throw new IllegalArgumentException("peak: " + peak + " (expected: > 0)");
    }
    if (totalSteps < 1) {
      throw new IllegalArgumentException("totalSteps: " + totalSteps + " (expected: >= 1)");
    }
    if (warmupSteps < 0 || warmupSteps > totalSteps) {
      throw new IllegalArgumentException(
          "warmupSteps: " + warmupSteps + " (expected: 0.." + totalSteps + ")");
    }
    if (!(minRatio >= 0 && minRatio <= 1)) {
      throw new IllegalArgumentException("minRatio: " + minRatio + " (expected: [0, 1])");
    }
  }

  /** The rate for optimizer step {@code step} (0-based). */
  public double at(int step) {
    if (step < warmupSteps) {
      return peak * (step + 1) / warmupSteps;
    }
    int decay = Math.max(1, totalSteps - warmupSteps);
    double progress = Math.min(1.0, (double) (step - warmupSteps) / decay);
    double cosine = 0.5 * (1 + Math.cos(Math.PI * progress));
    return peak * (minRatio + (1 - minRatio) * cosine);
  }
}
