package dev.protorad.server.telemetry;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.sdk.metrics.data.DoublePointData;
import io.opentelemetry.sdk.metrics.data.HistogramPointData;
import io.opentelemetry.sdk.metrics.data.LongPointData;
import io.opentelemetry.sdk.metrics.data.MetricData;
import io.opentelemetry.sdk.metrics.data.PointData;
import io.opentelemetry.sdk.metrics.data.SumData;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * Writes cumulative OpenTelemetry metrics in the Prometheus text exposition format 0.0.4, with the
 * naming the OpenTelemetry Prometheus exporter uses: dots become underscores, unit {@code s} adds
 * {@code _seconds}, monotonic sums end in {@code _total}, histograms expand to {@code _bucket},
 * {@code _sum} and {@code _count}. Exponential histograms and summaries are skipped (none are
 * recorded here).
 */
final class PrometheusText {

  /** The content type of the format. */
  static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

  private static final Map<String, String> UNIT_SUFFIXES =
      Map.of("s", "_seconds", "ms", "_milliseconds", "By", "_bytes");

  private PrometheusText() {}

  /** The exposition of {@code metrics}. */
  static String write(Collection<MetricData> metrics) {
    StringBuilder out = new StringBuilder();
    for (MetricData metric : metrics) {
      write(metric, out);
    }
    return out.toString();
  }

  private static void write(MetricData metric, StringBuilder out) {
    String base = baseName(metric);
    switch (metric.getType()) {
      case LONG_GAUGE -> simple(base, "gauge", metric, metric.getLongGaugeData().getPoints(), out);
      case DOUBLE_GAUGE ->
          simple(base, "gauge", metric, metric.getDoubleGaugeData().getPoints(), out);
      case LONG_SUM -> sum(base, metric, metric.getLongSumData(), out);
      case DOUBLE_SUM -> sum(base, metric, metric.getDoubleSumData(), out);
      case HISTOGRAM -> histogram(base, metric, out);
      default -> {}
    }
  }

  private static void sum(
      String base, MetricData metric, SumData<? extends PointData> data, StringBuilder out) {
    if (data.isMonotonic()) {
      simple(base + "_total", "counter", metric, data.getPoints(), out);
    } else {
      simple(base, "gauge", metric, data.getPoints(), out);
    }
  }

  private static void simple(
      String name,
      String type,
      MetricData metric,
      Collection<? extends PointData> points,
      StringBuilder out) {
    header(name, type, metric, out);
    for (PointData p : points) {
      sample(name, labels(p.getAttributes(), null), value(p), out);
    }
  }

  private static void histogram(String base, MetricData metric, StringBuilder out) {
    header(base, "histogram", metric, out);
    for (HistogramPointData p : metric.getHistogramData().getPoints()) {
      List<Double> bounds = p.getBoundaries();
      List<Long> counts = p.getCounts();
      long cumulative = 0;
      for (int i = 0; i < counts.size(); i++) {
        cumulative += counts.get(i);
        String le = i < bounds.size() ? number(bounds.get(i)) : "+Inf";
        sample(base + "_bucket", labels(p.getAttributes(), le), Long.toString(cumulative), out);
      }
      String labels = labels(p.getAttributes(), null);
      sample(base + "_sum", labels, number(p.getSum()), out);
      sample(base + "_count", labels, Long.toString(p.getCount()), out);
    }
  }

  private static void header(String name, String type, MetricData metric, StringBuilder out) {
    if (!metric.getDescription().isEmpty()) {
      out.append("# HELP ").append(name).append(' ');
      out.append(metric.getDescription().replace("\\", "\\\\").replace("\n", "\\n")).append('\n');
    }
    out.append("# TYPE ").append(name).append(' ').append(type).append('\n');
  }

  private static void sample(String name, String labels, String value, StringBuilder out) {
    out.append(name).append(labels).append(' ').append(value).append('\n');
  }

  static String baseName(MetricData metric) {
    String name = sanitize(metric.getName());
    String suffix = UNIT_SUFFIXES.getOrDefault(metric.getUnit(), "");
    return name.endsWith(suffix) ? name : name + suffix;
  }

  private static String labels(Attributes attributes, @Nullable String le) {
    if (attributes.isEmpty() && le == null) {
      return "";
    }
    StringBuilder out = new StringBuilder("{");
    attributes.forEach((AttributeKey<?> key, Object value) -> label(out, key.getKey(), value));
    if (le != null) {
      label(out, "le", le);
    }
    out.setLength(out.length() - 1);
    return out.append('}').toString();
  }

  private static void label(StringBuilder out, String key, Object value) {
    out.append(sanitize(key)).append("=\"");
    out.append(
        String.valueOf(value).replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n"));
    out.append("\",");
  }

  private static String value(PointData p) {
    if (p instanceof LongPointData l) {
      return Long.toString(l.getValue());
    }
    return number(((DoublePointData) p).getValue());
  }

  private static String number(double v) {
    if (Double.isNaN(v)) {
      return "NaN";
    }
    if (Double.isInfinite(v)) {
      return v > 0 ? "+Inf" : "-Inf";
    }
    return v == Math.rint(v) && Math.abs(v) < 1e15
        ? Long.toString((long) v)
        : Double.toString(v).toLowerCase(Locale.ROOT);
  }

  private static String sanitize(String name) {
    String s = name.replaceAll("[^a-zA-Z0-9_:]", "_");
    return Character.isDigit(s.charAt(0)) ? "_" + s : s;
  }
}
