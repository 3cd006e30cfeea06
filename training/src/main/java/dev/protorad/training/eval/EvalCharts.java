package dev.protorad.training.eval;

import static java.util.Objects.requireNonNull;

import java.awt.BasicStroke;
import java.awt.Color;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.GrayPaintScale;
import org.jfree.chart.renderer.xy.XYBlockRenderer;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.chart.title.PaintScaleLegend;
import org.jfree.chart.ui.RectangleEdge;
import org.jfree.data.xy.DefaultXYZDataset;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;
import org.jspecify.annotations.Nullable;

/**
 * The pictures of an evaluation (DESIGN §7), drawn with JFreeChart as PNG files: a reliability
 * diagram, a precision-against-coverage curve of the review gate, a confusion heat map, and a
 * training loss curve. Headless: nothing needs a display.
 */
public final class EvalCharts {

  private static final int WIDTH = 800;
  private static final int HEIGHT = 600;

  static {
    System.setProperty("java.awt.headless", "true");
  }

  private EvalCharts() {}

  /**
   * Accuracy against mean confidence in {@link Metrics#ECE_BINS} equal-width bins (empty bins left
   * out), beside the diagonal of perfect calibration.
   */
  public static void reliability(List<EvaluatedNote> predictions, String title, Path png)
      throws IOException {
    requireNonNull(predictions, "predictions");
    int bins = Metrics.ECE_BINS;
    double[] conf = new double[bins];
    double[] right = new double[bins];
    int[] count = new int[bins];
    for (EvaluatedNote p : predictions) {
      int b = Math.min(bins - 1, (int) (p.confidence() * bins));
      conf[b] += p.confidence();
      right[b] += p.predicted().equals(p.gold()) ? 1 : 0;
      count[b]++;
    }
    XYSeries observed = new XYSeries("accuracy per confidence bin");
    for (int b = 0; b < bins; b++) {
      if (count[b] > 0) {
        observed.add(conf[b] / count[b], right[b] / count[b]);
      }
    }
    XYSeries diagonal = new XYSeries("perfect calibration");
    diagonal.add(0, 0);
    diagonal.add(1, 1);
    XYSeriesCollection data = new XYSeriesCollection(observed);
    data.addSeries(diagonal);
    JFreeChart chart = lines(title, "mean confidence", "accuracy", data);
    save(chart, png);
  }

  /**
   * Precision of the answers kept against the share of notes kept, as the confidence threshold
   * falls; the gate's own operating point, when given, as a second series.
   *
   * @param operatingPoint {@code {coverage, precision}} of the fitted gate, or null
   */
  public static void precisionCoverage(
      List<EvaluatedNote> predictions, double @Nullable [] operatingPoint, String title, Path png)
      throws IOException {
    requireNonNull(predictions, "predictions");
    List<EvaluatedNote> sorted =
        predictions.stream()
            .sorted(Comparator.comparingDouble(EvaluatedNote::confidence).reversed())
            .toList();
    XYSeries curve = new XYSeries("threshold swept", false);
    int correct = 0;
    for (int k = 0; k < sorted.size(); k++) {
      EvaluatedNote p = sorted.get(k);
      correct += p.predicted().equals(p.gold()) ? 1 : 0;
      curve.add((double) (k + 1) / sorted.size(), (double) correct / (k + 1));
    }
    XYSeriesCollection data = new XYSeriesCollection(curve);
    if (operatingPoint != null) {
      XYSeries point = new XYSeries("review gate (all its reasons)");
      point.add(operatingPoint[0], operatingPoint[1]);
      data.addSeries(point);
    }
    JFreeChart chart = lines(title, "coverage (answered without review)", "precision", data);
    XYLineAndShapeRenderer r = (XYLineAndShapeRenderer) chart.getXYPlot().getRenderer();
    r.setSeriesShapesVisible(0, false);
    if (operatingPoint != null) {
      r.setSeriesLinesVisible(1, false);
      r.setSeriesShapesVisible(1, true);
    }
    save(chart, png);
  }

  /** Counts of gold (rows) against predicted (columns) labels, in {@code ids} order. */
  public static void confusion(
      List<EvaluatedNote> predictions, List<String> ids, String title, Path png)
      throws IOException {
    requireNonNull(predictions, "predictions");
    requireNonNull(ids, "ids");
    Map<String, Integer> index = new HashMap<>();
    for (int i = 0; i < ids.size(); i++) {
      index.put(ids.get(i), i);
    }
    int n = ids.size();
    double[][] counts = new double[n][n];
    for (EvaluatedNote p : predictions) {
      Integer g = index.get(p.gold());
      Integer q = index.get(p.predicted());
      if (g != null && q != null) {
        counts[g][q]++;
      }
    }
    double[] xs = new double[n * n];
    double[] ys = new double[n * n];
    double[] zs = new double[n * n];
    double max = 1;
    for (int g = 0; g < n; g++) {
      for (int q = 0; q < n; q++) {
        int at = g * n + q;
        xs[at] = q;
        ys[at] = g;
        zs[at] = counts[g][q];
        max = Math.max(max, counts[g][q]);
      }
    }
    DefaultXYZDataset data = new DefaultXYZDataset();
    data.addSeries("counts", new double[][] {xs, ys, zs});
    XYBlockRenderer renderer = new XYBlockRenderer();
    GrayPaintScale scale = new GrayPaintScale(0, max);
    renderer.setPaintScale(new InvertedScale(scale));
    NumberAxis x = new NumberAxis("predicted label (catalog order)");
    NumberAxis y = new NumberAxis("gold label (catalog order)");
    x.setRange(-0.5, n - 0.5);
    y.setRange(-0.5, n - 0.5);
    y.setInverted(true);
    XYPlot plot = new XYPlot(data, x, y, renderer);
    plot.setBackgroundPaint(Color.WHITE);
    JFreeChart chart = new JFreeChart(title, plot);
    chart.removeLegend();
    NumberAxis legendAxis = new NumberAxis("notes");
    legendAxis.setRange(0, max);
    PaintScaleLegend legend = new PaintScaleLegend(new InvertedScale(scale), legendAxis);
    legend.setPosition(RectangleEdge.RIGHT);
    chart.addSubtitle(legend);
    ChartUtils.saveChartAsPNG(png.toFile(), chart, HEIGHT + 100, HEIGHT);
  }

  /** Loss against step. */
  public static void lossCurve(List<double[]> stepAndLoss, String title, Path png)
      throws IOException {
    requireNonNull(stepAndLoss, "stepAndLoss");
    XYSeries loss = new XYSeries("training loss");
    stepAndLoss.forEach(p -> loss.add(p[0], p[1]));
    save(lines(title, "step", "loss", new XYSeriesCollection(loss)), png);
  }

  private static JFreeChart lines(String title, String x, String y, XYSeriesCollection data) {
    JFreeChart chart =
        ChartFactory.createXYLineChart(
            title, x, y, data, PlotOrientation.VERTICAL, true, false, false);
    XYPlot plot = chart.getXYPlot();
    plot.setBackgroundPaint(Color.WHITE);
    plot.setDomainGridlinePaint(Color.LIGHT_GRAY);
    plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
    XYLineAndShapeRenderer r = new XYLineAndShapeRenderer(true, true);
    r.setSeriesStroke(0, new BasicStroke(2f));
    plot.setRenderer(r);
    return chart;
  }

  private static void save(JFreeChart chart, Path png) throws IOException {
    ChartUtils.saveChartAsPNG(png.toFile(), chart, WIDTH, HEIGHT);
  }

  /** White for zero, black for the most: a gray scale read the usual way for counts. */
  private record InvertedScale(GrayPaintScale scale)
      implements org.jfree.chart.renderer.PaintScale {
    @Override
    public double getLowerBound() {
      return scale.getLowerBound();
    }

    @Override
    public double getUpperBound() {
      return scale.getUpperBound();
    }

    @Override
    public java.awt.Paint getPaint(double value) {
      return scale.getPaint(scale.getUpperBound() - value + scale.getLowerBound());
    }
  }
}
