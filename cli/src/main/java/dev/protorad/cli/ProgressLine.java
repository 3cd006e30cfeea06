package dev.protorad.cli;

import dev.protorad.api.v1.FineTuneEvent;
import java.util.Locale;

/** Renders one live line of training progress: step, bar, loss, rate, tokens/s and ETA. */
final class ProgressLine {

  private static final int WIDTH = 24;

  private ProgressLine() {}

  /** The line for a training event from the API. */
  static String render(FineTuneEvent e) {
    return render(
        e.getStep(),
        e.getTotalSteps(),
        e.getEpoch(),
        e.getLoss(),
        e.getLearningRate(),
        e.getTokensPerSecond(),
        e.getEtaSeconds());
  }

  static String render(
      int step, int total, int epoch, double loss, double lr, double tokensPerSecond, double eta) {
    int filled = total <= 0 ? 0 : (int) Math.round((double) WIDTH * step / total);
    String bar = "#".repeat(Math.min(WIDTH, filled)) + ".".repeat(Math.max(0, WIDTH - filled));
    return String.format(
        Locale.ROOT,
        "step %d/%d [%s] epoch %d loss %.4f lr %.2e %.0f tok/s ETA %s",
        step,
        total,
        bar,
        epoch,
        loss,
        lr,
        tokensPerSecond,
        duration(eta));
  }

  static String duration(double seconds) {
    long s = Math.max(0, Math.round(seconds));
    return s >= 3600
        ? String.format(Locale.ROOT, "%dh%02dm", s / 3600, s / 60 % 60)
        : String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60);
  }
}
