package dev.protorad.training.eval;

import static java.util.Objects.requireNonNull;

import java.awt.BasicStroke;
import java.awt.Color;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
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

  /** Accuracy against mean confidence per bin, beside the diagonal of perfect calibration. */
  public static void reliability(EvalCurves curves, String title, Path png) throws IOException {
    requireNonNull(curves, "curves");
    XYSeriesCollection data = new XYSeriesCollection(observedAccuracy(curves));
    data.addSeries(perfectCalibration());
    save(lines(title, "mean confidence", "accuracy", data), png);
  }

  private static XYSeries observedAccuracy(EvalCurves curves) {
    XYSeries observed = new XYSeries("accuracy per confidence bin");
    curves.reliability().forEach(b -> observed.add(b.meanConfidence(), b.accuracy()));
    return observed;
  }

  private static XYSeries perfectCalibration() {
    XYSeries diagonal = new XYSeries("perfect calibration");
    diagonal.add(0, 0);
    diagonal.add(1, 1);
    return diagonal;
  }

  /**
   * Precision of the answers kept against the share of notes kept, as the confidence threshold
   * falls; the review gate's own operating point, when there is one, as a second series.
   */
  public static void precisionCoverage(EvalCurves curves, String title, Path png)
      throws IOException {
    requireNonNull(curves, "curves");
    XYSeries curve = new XYSeries("threshold swept", false);
    curves.precisionCoverage().forEach(p -> curve.add(p.coverage(), p.precision()));
    XYSeriesCollection data = new XYSeriesCollection(curve);
    EvalCurves.Point gate = curves.gate();
    if (gate != null) {
      XYSeries point = new XYSeries("review gate (all its reasons)");
      point.add(gate.coverage(), gate.precision());
      data.addSeries(point);
    }
    JFreeChart chart = lines(title, "coverage (answered without review)", "precision", data);
    XYLineAndShapeRenderer r = (XYLineAndShapeRenderer) chart.getXYPlot().getRenderer();
    r.setSeriesShapesVisible(0, false);
    if (gate != null) {
      r.setSeriesLinesVisible(1, false);
      r.setSeriesShapesVisible(1, true);
    }
    save(chart, png);
  }

  /** Counts of gold (rows) against predicted (columns) labels, in the curves' label order. */
  public static void confusion(EvalCurves curves, String title, Path png) throws IOException {
    requireNonNull(curves, "curves");
    int n = curves.labels().size();
    double[] xs = new double[curves.confusion().size()];
    double[] ys = new double[xs.length];
    double[] zs = new double[xs.length];
    double max = 1;
    for (int i = 0; i < xs.length; i++) {
      EvalCurves.Cell c = curves.confusion().get(i);
      xs[i] = c.predicted();
      ys[i] = c.gold();
      zs[i] = c.count();
      max = Math.max(max, c.count());
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
