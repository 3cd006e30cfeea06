package dev.protorad.training.eval;

import static java.util.Objects.requireNonNull;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.function.ToDoubleFunction;

/**
 * A plain-text table of metrics, one column per system (for example {@code adapter} and {@code
 * baseline}), followed by each system's top confusion pairs.
 */
public final class EvalReport {

  private static final int CONFUSIONS_SHOWN = 5;

  private final String title;
  private final Map<String, EvalMetrics> columns;

  private EvalReport(String title, Map<String, EvalMetrics> columns) {
    this.title = title;
    this.columns = columns;
  }

  /** Starts a report with a title such as {@code test split}. */
  public static Builder builder(String title) {
    return new Builder(requireNonNull(title, "title"));
  }

  /** Builds an {@link EvalReport}. */
  public static final class Builder {
    private final String title;
    private final Map<String, EvalMetrics> columns = new LinkedHashMap<>();

    private Builder(String title) {
      this.title = title;
    }

    /** Adds a column; columns print in the order added. */
    public Builder column(String system, EvalMetrics metrics) {
      requireNonNull(system, "system");
      requireNonNull(metrics, "metrics");
      if (columns.putIfAbsent(system, metrics) != null) {
        throw new IllegalArgumentException("system: " + system + " (expected: a new column name)");
      }
      return this;
    }

    /** Creates the report. */
    public EvalReport build() {
      if (columns.isEmpty()) {
        throw new IllegalStateException("columns: empty (expected: at least one system)");
      }
      return new EvalReport(title, new LinkedHashMap<>(columns));
    }
  }

  /** The table as text. */
  public String render() {
    StringBuilder sb = new StringBuilder();
    sb.append(title).append('\n');
    header(sb);
    row(sb, "n", m -> m.count(), "%12.0f");
    row(sb, "exact-match accuracy", EvalMetrics::accuracy, "%12.4f");
    row(sb, "top-3 accuracy", EvalMetrics::top3Accuracy, "%12.4f");
    row(sb, "macro-F1", EvalMetrics::macroF1, "%12.4f");
    row(sb, "contrast-decision acc", EvalMetrics::contrastAccuracy, "%12.4f");
    row(sb, "ECE (10 bins)", EvalMetrics::ece, "%12.4f");
    columns.forEach((system, m) -> confusions(sb, system, m));
    return sb.toString();
  }

  private void header(StringBuilder sb) {
    sb.append(String.format(Locale.ROOT, "%-24s", "metric"));
    columns.keySet().forEach(s -> sb.append(String.format(Locale.ROOT, "%12s", s)));
    sb.append('\n');
  }

  private void row(
      StringBuilder sb, String name, ToDoubleFunction<EvalMetrics> value, String format) {
    sb.append(String.format(Locale.ROOT, "%-24s", name));
    columns
        .values()
        .forEach(m -> sb.append(String.format(Locale.ROOT, format, value.applyAsDouble(m))));
    sb.append('\n');
  }

  private static void confusions(StringBuilder sb, String system, EvalMetrics m) {
    if (m.topConfusions().isEmpty()) {
      return;
    }
    sb.append("top confusions (").append(system).append("): gold -> predicted (count)\n");
    m.topConfusions().stream()
        .limit(CONFUSIONS_SHOWN)
        .forEach(
            c ->
                sb.append("  ")
                    .append(c.gold())
                    .append(" -> ")
                    .append(c.predicted())
                    .append(" (")
                    .append(c.count())
                    .append(")\n"));
  }
}
