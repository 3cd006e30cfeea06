package dev.protorad.training;

import static java.util.Objects.requireNonNull;

import dev.protorad.clinical.catalog.Catalog;
import dev.protorad.clinical.catalog.Protocol;
import dev.protorad.engine.model.AdapterHandle;
import dev.protorad.engine.model.LabelScorer;
import dev.protorad.engine.model.LabelScores;
import dev.protorad.engine.model.LlamaModel;
import dev.protorad.engine.model.LlamaTokenizer;
import dev.protorad.engine.model.PromptTemplate;
import dev.protorad.engine.peft.LoraAdapter;
import dev.protorad.training.data.Example;
import dev.protorad.training.eval.EvalMetrics;
import dev.protorad.training.eval.EvaluatedNote;
import dev.protorad.training.eval.LabelProbability;
import dev.protorad.training.eval.Metrics;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.function.IntConsumer;

/**
 * Scores examples the way serving does: the engine's {@link LabelScorer} over every catalog label
 * with the adapter loaded on the NF4 base, then {@link Metrics}.
 */
public final class Evaluator {

  private final LlamaModel model;
  private final LabelScorer scorer;
  private final Catalog catalog;
  private final List<String> names;
  private final List<String> ids;

  private Evaluator(LlamaModel model, LabelScorer scorer, Catalog catalog) {
    this.model = model;
    this.scorer = scorer;
    this.catalog = catalog;
    this.names = catalog.protocols().stream().map(Protocol::name).toList();
    this.ids = catalog.protocols().stream().map(Protocol::id).toList();
  }

  /** An evaluator over {@code model} with the catalog's labels. */
  public static Evaluator of(
      LlamaModel model, LlamaTokenizer tokenizer, Catalog catalog, PromptTemplate template) {
    requireNonNull(model, "model");
    requireNonNull(catalog, "catalog");
    return new Evaluator(model, LabelScorer.create(model, tokenizer, template), catalog);
  }

  /**
   * Metrics of {@code adapter} on {@code examples}.
   *
   * @param cancelled checked between examples; when it turns true the evaluation stops with a
   *     {@link java.util.concurrent.CancellationException}
   */
  public EvalMetrics evaluate(
      LoraAdapter adapter, List<Example> examples, BooleanSupplier cancelled) {
    return Metrics.compute(catalog, predictions(adapter, examples, cancelled));
  }

  /** One prediction per example, every catalog label ranked. */
  public List<EvaluatedNote> predictions(
      LoraAdapter adapter, List<Example> examples, BooleanSupplier cancelled) {
    return predictions(adapter, examples, cancelled, done -> {});
  }

  /**
   * One prediction per example, every catalog label ranked.
   *
   * @param progress told how many examples are scored after each one
   */
  public List<EvaluatedNote> predictions(
      LoraAdapter adapter,
      List<Example> examples,
      BooleanSupplier cancelled,
      IntConsumer progress) {
    requireNonNull(adapter, "adapter");
    requireNonNull(examples, "examples");
    List<EvaluatedNote> out = new ArrayList<>(examples.size());
    try (AdapterHandle handle = model.loadAdapter("evaluation", adapter)) {
      for (Example e : examples) {
        if (cancelled.getAsBoolean()) {
          throw new java.util.concurrent.CancellationException("cancelled");
        }
        LabelScores s = scorer.score(e.note(), names, handle, names.size());
        List<LabelProbability> ranked = new ArrayList<>(names.size());
        s.topK()
            .forEach(
                l -> ranked.add(new LabelProbability(ids.get(l.index()), clamp(l.probability()))));
        out.add(EvaluatedNote.of(e.label(), ranked));
        progress.accept(out.size());
      }
    }
    return out;
  }

  private static double clamp(double p) {
    return Math.max(0, Math.min(1, p));
  }
}
