package dev.protorad.bench;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Collects measurements and prints them as a table whose last lines are ratios against the baseline
 * measured in the same run.
 */
public final class BenchReport {

  private record Row(String label, double value, String unit) {}

  private record Ratio(String label, double value, String target) {}

  private final String benchmark;
  private final List<Row> rows = new ArrayList<>();
  private final List<Ratio> ratios = new ArrayList<>();
  private String device = "";

  BenchReport(String benchmark) {
    this.benchmark = benchmark;
  }

  /** Adds a measured figure, for example {@code row("group commit", 41000, "events/s")}. */
  public BenchReport row(String label, double value, String unit) {
    rows.add(new Row(label, value, unit));
    return this;
  }

  /** Records where the measured work ran ({@code cpu()}, {@code gpu(0)}); printed in the title. */
  public BenchReport device(String device) {
    this.device = device;
    return this;
  }

  /**
   * Adds a ratio {@code measured / baseline}; {@code target} says what the ratio should reach, for
   * example {@code ">= 3"}, or is empty.
   */
  /** {@link #ratio(String, double, double, String)} of two counts (bytes, tokens). */
  public BenchReport ratio(String label, long measured, long baseline, String target) {
    return ratio(label, (double) measured, (double) baseline, target);
  }

  public BenchReport ratio(String label, double measured, double baseline, String target) {
    ratios.add(new Ratio(label, measured / baseline, target));
    return this;
  }

  void print(PrintStream out) {
    out.printf(
        Locale.ROOT, "%n== %s ==%s%n", benchmark, device.isEmpty() ? "" : " (on " + device + ")");
    int width = 12;
    for (Row r : rows) {
      width = Math.max(width, r.label().length());
    }
    for (Ratio r : ratios) {
      width = Math.max(width, r.label().length());
    }
    String rowFormat = "%-" + width + "s  %14.3f  %s%n";
    for (Row r : rows) {
      out.printf(Locale.ROOT, rowFormat, r.label(), r.value(), r.unit());
    }
    out.println("-".repeat(width + 30));
    String ratioFormat = "%-" + width + "s  %14.2fx  %s%n";
    for (Ratio r : ratios) {
      out.printf(
          Locale.ROOT,
          ratioFormat,
          r.label(),
          r.value(),
          r.target().isEmpty() ? "" : "(target " + r.target() + ")");
    }
  }
}
