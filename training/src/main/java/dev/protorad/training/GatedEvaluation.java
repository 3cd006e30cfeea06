package dev.protorad.training;

import static java.util.Objects.requireNonNull;

import dev.protorad.clinical.catalog.Catalog;
import dev.protorad.clinical.catalog.Protocol;
import dev.protorad.clinical.catalog.RuleChecker;
import dev.protorad.clinical.catalog.RuleFlag;
import dev.protorad.clinical.gate.GateFitter;
import dev.protorad.clinical.gate.LexicalModel;
import dev.protorad.clinical.gate.ReviewGate;
import dev.protorad.clinical.gate.VersionGate;
import dev.protorad.engine.peft.LoraAdapter;
import dev.protorad.training.data.Example;
import dev.protorad.training.eval.EvaluatedNote;
import dev.protorad.training.eval.LabelProbability;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.BooleanSupplier;
import java.util.function.IntConsumer;
import java.util.stream.IntStream;

/**
 * Fits and measures a review gate from an adapter's evaluated predictions, the way serving applies
 * it: the mixture distribution, the rule flags of its answer, and the gate's decision per note.
 */
public final class GatedEvaluation {

  private final Catalog catalog;
  private final List<String> ids;
  private final RuleChecker rules = RuleChecker.create();

  private GatedEvaluation(Catalog catalog) {
    this.catalog = catalog;
    this.ids = catalog.protocols().stream().map(Protocol::id).toList();
  }

  /** An evaluation over {@code catalog}'s labels. */
  public static GatedEvaluation of(Catalog catalog) {
    return new GatedEvaluation(requireNonNull(catalog, "catalog"));
  }

  /**
   * Fits the review gate of {@code adapter}: the lexical model on {@code train}, then the gate on
   * {@code calibration} notes neither model was trained on, scored as serving scores them.
   *
   * @param progress told how many calibration notes are scored after each one
   */
  public VersionGate fit(
      Evaluator evaluator,
      LoraAdapter adapter,
      List<Example> train,
      List<Example> calibration,
      long seed,
      double targetPrecision,
      BooleanSupplier cancelled,
      IntConsumer progress) {
    requireNonNull(evaluator, "evaluator");
    LexicalModel lexical =
        LexicalModel.train(
            train.stream().map(e -> new LexicalModel.Labelled(e.note(), e.label())).toList(),
            ids,
            seed);
    List<EvaluatedNote> predictions =
        evaluator.predictions(adapter, calibration, cancelled, progress);
    ReviewGate gate = GateFitter.fit(points(calibration, predictions, lexical), targetPrecision);
    return new VersionGate(gate, lexical);
  }

  /**
   * The calibration points of {@code examples}: the adapter's distribution (from {@code
   * predictions}, every label ranked), the lexical model's, the gold label, the unknown-word share
   * and, per label, whether a rule fires if it is the answer.
   */
  public List<GateFitter.Point> points(
      List<Example> examples, List<EvaluatedNote> predictions, LexicalModel lexical) {
    check(examples, predictions, lexical);
    List<GateFitter.Point> out = new ArrayList<>(examples.size());
    for (int i = 0; i < examples.size(); i++) {
      Example e = examples.get(i);
      EvaluatedNote p = predictions.get(i);
      out.add(
          new GateFitter.Point(
              distribution(p),
              lexical.probabilities(e.note()),
              ids.indexOf(e.label()),
              lexical.unknownWordShare(e.note()),
              ruleFlags(e.note())));
    }
    return out;
  }

  /** Per catalog label (in {@code ids} order), whether a rule fires if it is the answer. */
  private boolean[] ruleFlags(String note) {
    Set<RuleFlag> findings = rules.findings(note);
    boolean[] flags = new boolean[ids.size()];
    for (int k = 0; k < flags.length; k++) {
      flags[k] = !rules.check(findings, catalog.get(ids.get(k))).isEmpty();
    }
    return flags;
  }

  /** What serving would answer for each example, and which answers go to review. */
  public Result apply(
      List<Example> examples,
      List<EvaluatedNote> predictions,
      LexicalModel lexical,
      ReviewGate gate) {
    check(examples, predictions, lexical);
    requireNonNull(gate, "gate");
    List<EvaluatedNote> served = new ArrayList<>(examples.size());
    List<List<String>> reasons = new ArrayList<>(examples.size());
    for (int i = 0; i < examples.size(); i++) {
      Example e = examples.get(i);
      ReviewGate.Assessment a = gate.assess(distribution(predictions.get(i)), lexical, e.note());
      List<LabelProbability> ranked = new ArrayList<>(ids.size());
      for (int k = 0; k < ids.size(); k++) {
        ranked.add(new LabelProbability(ids.get(k), Math.max(0, Math.min(1, a.mixed()[k]))));
      }
      EvaluatedNote p = EvaluatedNote.of(e.label(), ranked);
      boolean flagged = !rules.check(e.note(), catalog.get(p.predicted())).isEmpty();
      served.add(p);
      reasons.add(gate.reasons(a, flagged, false));
    }
    return new Result(served, reasons);
  }

  /**
   * Served predictions and the review reasons of each (empty when answered without review).
   *
   * @param served the mixture's prediction per example
   * @param reasons the review reasons per example
   */
  public record Result(List<EvaluatedNote> served, List<List<String>> reasons) {
    public Result {
      served = List.copyOf(served);
      reasons = List.copyOf(reasons);
    }

    /** Share of the examples answered without review. */
    public double coverage() {
      return served.isEmpty() ? 0 : (double) answered() / served.size();
    }

    /** Examples answered without review. */
    public int answered() {
      return (int) reasons.stream().filter(List::isEmpty).count();
    }

    /** Answers sent without review that are wrong. */
    public int wrongUnreviewed() {
      return (int)
          IntStream.range(0, served.size())
              .filter(i -> reasons.get(i).isEmpty() && wrong(served.get(i)))
              .count();
    }

    private static boolean wrong(EvaluatedNote p) {
      return !p.predicted().equals(p.gold());
    }

    /** Precision of the answers sent without review; 0 when none is. */
    public double precision() {
      int answered = answered();
      return answered == 0 ? 0 : (double) (answered - wrongUnreviewed()) / answered;
    }
  }

  private double[] distribution(EvaluatedNote p) {
    double[] out = new double[ids.size()];
    for (LabelProbability s : p.ranked()) {
      int at = ids.indexOf(s.id());
      if (at >= 0) {
        out[at] = s.probability();
      }
    }
    return out;
  }

  private static void check(
      List<Example> examples, List<EvaluatedNote> predictions, LexicalModel lexical) {
    requireNonNull(examples, "examples");
    requireNonNull(predictions, "predictions");
    requireNonNull(lexical, "lexical");
    if (examples.size() != predictions.size()) {
      throw new IllegalArgumentException(
          "predictions: "
              + predictions.size()
              + " (expected: one per example, "
              + examples.size()
              + ")");
    }
  }
}
