package dev.protorad.training.eval;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.protorad.clinical.gate.ReviewGate;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * What the pictures of an evaluation are drawn from (DESIGN §7): a reliability diagram, a
 * precision-against-coverage curve, a confusion map and the training loss. Counts and rates only,
 * never note text, so an adapter version can keep it beside its files ({@link #FILE}) and anyone
 * who may read the version may see it.
 *
 * @param split the split the notes came from ({@code test} or {@code validation}), empty when only
 *     the loss is known
 * @param examples how many notes were evaluated
 * @param reliability the notes per confidence bin ({@link Metrics#ECE_BINS} equal-width bins, empty
 *     bins left out)
 * @param precisionCoverage the precision of the answers kept as the confidence threshold falls, at
 *     most {@link #CURVE_POINTS} points, coverage rising
 * @param gate the review gate's operating point on its calibration notes, or null without a gate
 * @param labels the catalog ids the confusion cells index
 * @param confusion the (gold, predicted) pairs that occurred, with their counts
 * @param trainingLoss the loss of every optimizer step, first to last
 */
public record EvalCurves(
    String split,
    int examples,
    List<Bin> reliability,
    List<Point> precisionCoverage,
    @Nullable Point gate,
    List<String> labels,
    List<Cell> confusion,
    List<Double> trainingLoss) {

  /** The file an adapter version keeps them in. */
  public static final String FILE = "evaluation.json";

  /** The most points kept on the precision-coverage curve. */
  public static final int CURVE_POINTS = 101;

  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * One confidence bin.
   *
   * @param meanConfidence the mean confidence of its notes
   * @param accuracy the share of its notes answered right
   * @param count its notes
   */
  public record Bin(double meanConfidence, double accuracy, int count) {}

  /**
   * One operating point.
   *
   * @param coverage share of notes answered without review
   * @param precision share of those answered right
   * @param threshold the confidence threshold that gives it
   */
  public record Point(double coverage, double precision, double threshold) {}

  /**
   * One cell of the confusion map.
   *
   * @param gold index of the right label in {@link #labels}
   * @param predicted index of the predicted label
   * @param count notes
   */
  public record Cell(int gold, int predicted, int count) {}

  /** Copies the lists. */
  public EvalCurves {
    requireNonNull(split, "split");
    reliability = List.copyOf(reliability);
    precisionCoverage = List.copyOf(precisionCoverage);
    labels = List.copyOf(labels);
    confusion = List.copyOf(confusion);
    trainingLoss = List.copyOf(trainingLoss);
    for (Cell c : confusion) {
      if (c.gold() < 0
          || c.gold() >= labels.size()
          || c.predicted() < 0
          || c.predicted() >= labels.size()) {
        throw new IllegalArgumentException("confusion: cell outside the labels: " + c);
      }
    }
  }

  /**
   * The curves of {@code predictions} on {@code split}.
   *
   * @param labels catalog ids in the order the confusion map shows them; predictions naming another
   *     id are left out of the map
   * @param gate the review gate's operating point, or null
   * @param trainingLoss the loss of every step, or empty
   */
  public static EvalCurves of(
      String split,
      List<EvaluatedNote> predictions,
      List<String> labels,
      @Nullable Point gate,
      List<Double> trainingLoss) {
    requireNonNull(predictions, "predictions");
    return new EvalCurves(
        split,
        predictions.size(),
        reliability(predictions),
        precisionCoverage(predictions),
        gate,
        labels,
        confusion(predictions, labels),
        trainingLoss);
  }

  /** Only the training loss: a run that evaluated nothing. */
  public static EvalCurves lossOnly(List<Double> trainingLoss) {
    return new EvalCurves("", 0, List.of(), List.of(), null, List.of(), List.of(), trainingLoss);
  }

  private static List<Bin> reliability(List<EvaluatedNote> predictions) {
    int bins = Metrics.ECE_BINS;
    double[] conf = new double[bins];
    int[] right = new int[bins];
    int[] count = new int[bins];
    for (EvaluatedNote p : predictions) {
      int b = Math.min(bins - 1, (int) (p.confidence() * bins));
      conf[b] += p.confidence();
      right[b] += p.predicted().equals(p.gold()) ? 1 : 0;
      count[b]++;
    }
    List<Bin> out = new ArrayList<>();
    for (int b = 0; b < bins; b++) {
      if (count[b] > 0) {
        out.add(new Bin(conf[b] / count[b], (double) right[b] / count[b], count[b]));
      }
    }
    return out;
  }

  /** Keeps every point when there are few, else about {@link #CURVE_POINTS} evenly spaced. */
  private static List<Point> precisionCoverage(List<EvaluatedNote> predictions) {
    List<EvaluatedNote> sorted =
        predictions.stream()
            .sorted(Comparator.comparingDouble(EvaluatedNote::confidence).reversed())
            .toList();
    int n = sorted.size();
    List<Point> out = new ArrayList<>();
    int correct = 0;
    int nextKept = 0;
    for (int k = 0; k < n; k++) {
      EvaluatedNote p = sorted.get(k);
      correct += p.predicted().equals(p.gold()) ? 1 : 0;
      if (k + 1 >= nextKept || k == n - 1) {
        out.add(new Point((double) (k + 1) / n, (double) correct / (k + 1), p.confidence()));
        nextKept = (int) Math.ceil((double) n * out.size() / (CURVE_POINTS - 1));
      }
    }
    return out;
  }

  private static List<Cell> confusion(List<EvaluatedNote> predictions, List<String> labels) {
    Map<String, Integer> index = new HashMap<>();
    for (int i = 0; i < labels.size(); i++) {
      index.put(labels.get(i), i);
    }
    Map<Long, Integer> counts = new HashMap<>();
    for (EvaluatedNote p : predictions) {
      Integer g = index.get(p.gold());
      Integer q = index.get(p.predicted());
      if (g != null && q != null) {
        counts.merge((long) g * labels.size() + q, 1, Integer::sum);
      }
    }
    return counts.entrySet().stream()
        .sorted(Map.Entry.comparingByKey())
        .map(
            e ->
                new Cell(
                    (int) (e.getKey() / labels.size()),
                    (int) (e.getKey() % labels.size()),
                    e.getValue()))
        .toList();
  }

  /**
   * These curves with {@code gate}'s operating point on its calibration notes (its coverage and
   * precision there, at its threshold), or without one when {@code gate} is null.
   */
  public EvalCurves withGate(@Nullable ReviewGate gate) {
    Point point = operatingPoint(gate);
    return new EvalCurves(
        split, examples, reliability, precisionCoverage, point, labels, confusion, trainingLoss);
  }

  private static @Nullable Point operatingPoint(@Nullable ReviewGate gate) {
    return gate == null
        ? null
        : new Point(gate.calibrationCoverage(), gate.calibrationPrecision(), gate.threshold());
  }

  /** As JSON, the form {@link #FILE} holds. */
  public String toJson() {
    ObjectNode n = JSON.createObjectNode();
    n.put("split", split).put("examples", examples);
    ArrayNode bins = n.putArray("reliability");
    reliability.forEach(
        b ->
            bins.addObject()
                .put("mean_confidence", b.meanConfidence())
                .put("accuracy", b.accuracy())
                .put("count", b.count()));
    ArrayNode curve = n.putArray("precision_coverage");
    precisionCoverage.forEach(p -> point(curve.addObject(), p));
    if (gate != null) {
      point(n.putObject("review_gate"), gate);
    }
    labels.forEach(n.putArray("labels")::add);
    ArrayNode cells = n.putArray("confusion");
    confusion.forEach(c -> cells.addArray().add(c.gold()).add(c.predicted()).add(c.count()));
    trainingLoss.forEach(n.putArray("training_loss")::add);
    return n.toPrettyString() + "\n";
  }

  private static void point(ObjectNode o, Point p) {
    o.put("coverage", p.coverage()).put("precision", p.precision()).put("threshold", p.threshold());
  }

  /**
   * Reads what {@link #toJson} wrote.
   *
   * @throws IOException when it is not such JSON
   */
  public static EvalCurves fromJson(String json) throws IOException {
    JsonNode n = JSON.readTree(json);
    if (n == null || !n.isObject()) {
      throw new IOException(FILE + ": not a JSON object");
    }
    List<Bin> bins = new ArrayList<>();
    n.path("reliability").forEach(b -> bins.add(bin(b)));
    List<Point> curve = new ArrayList<>();
    n.path("precision_coverage").forEach(p -> curve.add(point(p)));
    List<String> labels = new ArrayList<>();
    n.path("labels").forEach(l -> labels.add(l.asText()));
    List<Cell> cells = new ArrayList<>();
    n.path("confusion")
        .forEach(c -> cells.add(new Cell(c.path(0).asInt(), c.path(1).asInt(), c.path(2).asInt())));
    List<Double> loss = new ArrayList<>();
    n.path("training_loss").forEach(l -> loss.add(l.asDouble()));
    try {
      return new EvalCurves(
          n.path("split").asText(),
          n.path("examples").asInt(),
          bins,
          curve,
          n.has("review_gate") ? point(n.get("review_gate")) : null,
          labels,
          cells,
          loss);
    } catch (IllegalArgumentException e) {
      throw new IOException(FILE + ": " + e.getMessage(), e);
    }
  }

  private static Bin bin(JsonNode b) {
    return new Bin(
        b.path("mean_confidence").asDouble(),
        b.path("accuracy").asDouble(),
        b.path("count").asInt());
  }

  private static Point point(JsonNode p) {
    return new Point(
        p.path("coverage").asDouble(),
        p.path("precision").asDouble(),
        p.path("threshold").asDouble());
  }
}
