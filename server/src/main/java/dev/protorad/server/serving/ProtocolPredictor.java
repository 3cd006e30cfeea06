package dev.protorad.server.serving;

import static java.util.Objects.requireNonNull;

import dev.protorad.clinical.catalog.Catalog;
import dev.protorad.clinical.catalog.Protocol;
import dev.protorad.clinical.catalog.RuleChecker;
import dev.protorad.clinical.catalog.RuleFlag;
import dev.protorad.clinical.gate.ReviewGate;
import dev.protorad.clinical.gate.ReviewReason;
import dev.protorad.clinical.gate.VersionGate;
import dev.protorad.engine.model.LabelScorer;
import dev.protorad.engine.model.LabelScores;
import dev.protorad.engine.model.RankedLabel;
import dev.protorad.engine.model.ScoreRequest;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.metrics.LongCounter;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanBuilder;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Scope;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * Scores every catalog label for a note (constrained decoding: the answer is always a catalog
 * label), then applies the catalog's contraindication rules to the winner. An adapter version with
 * a fitted review gate answers with the gate's mixture of its distribution and its lexical model's,
 * and the gate decides review ({@link ReviewGate#reasons}); a version without one needs review when
 * its confidence is below the server's threshold. A rule flag or a truncated note always does.
 */
public final class ProtocolPredictor {

  /** Confidence below which a prediction is sent for review. */
  public static final double DEFAULT_REVIEW_THRESHOLD = 0.5;

  private static final String TELEMETRY_SCOPE = "dev.protorad.server";
  private static final AttributeKey<Long> LABEL_COUNT = AttributeKey.longKey("protorad.labels");
  private static final AttributeKey<Long> BATCH_SIZE = AttributeKey.longKey("protorad.batch_size");
  private static final AttributeKey<Long> PROMPT_TOKENS =
      AttributeKey.longKey("protorad.prompt_tokens");

  private final LabelScorer scorer;
  private final Catalog catalog;
  private final List<String> labelNames;
  private final RuleChecker rules;
  private final String baseFingerprint;
  private final double reviewThreshold;
  private final Tracer tracer;
  private final LongCounter promptTokens;

  private ProtocolPredictor(
      LabelScorer scorer,
      Catalog catalog,
      String baseFingerprint,
      double reviewThreshold,
      OpenTelemetry telemetry) {
    this.scorer = scorer;
    this.catalog = catalog;
    this.labelNames = catalog.protocols().stream().map(Protocol::name).toList();
    this.rules = RuleChecker.create();
    this.baseFingerprint = baseFingerprint;
    this.reviewThreshold = reviewThreshold;
    this.tracer = telemetry.getTracer(TELEMETRY_SCOPE);
    this.promptTokens =
        telemetry
            .getMeter(TELEMETRY_SCOPE)
            .counterBuilder("protorad.prompt.tokens")
            .setDescription("Prompt tokens scored; its rate is the serving tokens/s")
            .setUnit("{token}")
            .build();
  }

  /** A predictor over {@code catalog}'s labels. */
  public static ProtocolPredictor create(
      LabelScorer scorer, Catalog catalog, String baseFingerprint, double reviewThreshold) {
    requireNonNull(scorer, "scorer");
    requireNonNull(catalog, "catalog");
    requireNonNull(baseFingerprint, "baseFingerprint");
    if (!(reviewThreshold >= 0 && reviewThreshold <= 1)) {
      throw new IllegalArgumentException(
          "reviewThreshold: " + reviewThreshold + " (expected: 0..1)");
    }
    return new ProtocolPredictor(
        scorer, catalog, baseFingerprint, reviewThreshold, OpenTelemetry.noop());
  }

  /**
   * This predictor with a {@code score} span per prediction (label count and prompt token count as
   * attributes, never the note) and the {@code protorad.prompt.tokens} counter in {@code
   * telemetry}.
   */
  public ProtocolPredictor traced(OpenTelemetry telemetry) {
    requireNonNull(telemetry, "telemetry");
    return new ProtocolPredictor(scorer, catalog, baseFingerprint, reviewThreshold, telemetry);
  }

  /** The catalog the predictor chooses from. */
  public Catalog catalog() {
    return catalog;
  }

  /** Predicts the protocol for {@code note} with {@code adapter}, returning the top {@code k}. */
  public ProtocolAnswer predict(String note, ResolvedAdapter adapter, int topK) {
    return toPrediction(note, adapter, score(note, adapter, topK));
  }

  /**
   * Predicts for several notes in one pass: one prefill over all their prompts, each row with its
   * own adapter, then every note's labels over its own cached prefix. Results are in input order
   * and equal {@link #predict} of each item alone.
   */
  public List<ProtocolAnswer> predictBatch(List<Item> items) {
    return predictBatch(items, List.of());
  }

  /**
   * As {@link #predictBatch(List)}, the batch's {@code score} span linking to {@code callers}: the
   * span of each request in the batch (invalid contexts are left out).
   */
  public List<ProtocolAnswer> predictBatch(List<Item> items, List<SpanContext> callers) {
    requireNonNull(callers, "callers");
    if (items.size() == 1) {
      Item only = items.get(0);
      return List.of(predict(only.note(), only.adapter(), only.topK()));
    }
    List<ScoreRequest> requests =
        items.stream()
            .map(
                i ->
                    new ScoreRequest(
                        i.note(), i.adapter().handle(), i.topK(), i.adapter().template()))
            .toList();
    List<LabelScores> scores = scoreBatch(requests, callers);
    List<ProtocolAnswer> out = new ArrayList<>(items.size());
    for (int i = 0; i < items.size(); i++) {
      out.add(toPrediction(items.get(i).note(), items.get(i).adapter(), scores.get(i)));
    }
    return out;
  }

  /** One note of a batch. */
  public record Item(String note, ResolvedAdapter adapter, int topK) {
    public Item {
      requireNonNull(note, "note");
      requireNonNull(adapter, "adapter");
    }
  }

  private ProtocolAnswer toPrediction(String note, ResolvedAdapter adapter, LabelScores scores) {
    VersionGate gate = adapter.gate();
    if (gate == null) {
      return thresholded(note, adapter, scores);
    }
    double[] fromAdapter = new double[labelNames.size()];
    for (RankedLabel s : scores.labels()) {
      fromAdapter[s.index()] = s.probability();
    }
    ReviewGate.Assessment assessed = gate.gate().assess(fromAdapter, gate.lexical(), note);
    double[] p = assessed.mixed();
    Integer[] order = new Integer[p.length];
    Arrays.setAll(order, i -> i);
    Arrays.sort(order, Comparator.comparingDouble((Integer i) -> p[i]).reversed());
    Protocol label = protocolAt(order[0]);
    List<String> flags = flags(note, label);
    List<String> reasons = gate.gate().reasons(assessed, !flags.isEmpty(), scores.truncated());
    int k = Math.min(scores.topK().size(), p.length);
    List<ProtocolAnswer.Alternative> alternatives = new ArrayList<>(k);
    for (int i = 0; i < k; i++) {
      alternatives.add(new ProtocolAnswer.Alternative(protocolAt(order[i]), p[order[i]]));
    }
    return new ProtocolAnswer(
        label,
        p[order[0]],
        alternatives,
        adapter.version(),
        baseFingerprint,
        flags,
        !reasons.isEmpty(),
        reasons);
  }

  /** Today's rule for a version without a fitted gate: the server's confidence threshold. */
  private ProtocolAnswer thresholded(String note, ResolvedAdapter adapter, LabelScores scores) {
    RankedLabel best = scores.best();
    Protocol label = protocolAt(best.index());
    List<String> flags = flags(note, label);
    List<ProtocolAnswer.Alternative> alternatives =
        scores.topK().stream()
            .map(s -> new ProtocolAnswer.Alternative(protocolAt(s.index()), s.probability()))
            .toList();
    List<String> reasons = new ArrayList<>();
    if (best.probability() < reviewThreshold) {
      reasons.add(ReviewReason.LOW_CONFIDENCE);
    }
    if (!flags.isEmpty()) {
      reasons.add(ReviewReason.RULE_FLAG);
    }
    if (scores.truncated()) {
      reasons.add(ReviewReason.NOTE_TRUNCATED);
    }
    return new ProtocolAnswer(
        label,
        best.probability(),
        alternatives,
        adapter.version(),
        baseFingerprint,
        flags,
        !reasons.isEmpty(),
        reasons);
  }

  private List<String> flags(String note, Protocol label) {
    return rules.check(note, label).stream().map(RuleFlag::id).toList();
  }

  private List<LabelScores> scoreBatch(List<ScoreRequest> requests, List<SpanContext> callers) {
    SpanBuilder builder =
        tracer
            .spanBuilder("score")
            .setAttribute(LABEL_COUNT, (long) labelNames.size())
            .setAttribute(BATCH_SIZE, (long) requests.size());
    for (SpanContext caller : callers) {
      if (caller.isValid()) {
        builder.addLink(caller);
      }
    }
    Span span = builder.startSpan();
    try (Scope ignored = span.makeCurrent()) {
      List<LabelScores> scores = scorer.scoreBatch(requests, labelNames);
      long tokens = scores.stream().mapToLong(LabelScores::promptTokens).sum();
      span.setAttribute(PROMPT_TOKENS, tokens);
      promptTokens.add(tokens);
      return scores;
    } catch (RuntimeException e) {
      // The status only: engine messages are not vetted for note text.
      span.setStatus(StatusCode.ERROR);
      throw e;
    } finally {
      span.end();
    }
  }

  private LabelScores score(String note, ResolvedAdapter adapter, int topK) {
    Span span =
        tracer.spanBuilder("score").setAttribute(LABEL_COUNT, (long) labelNames.size()).startSpan();
    try (Scope ignored = span.makeCurrent()) {
      LabelScores scores =
          scorer.score(note, adapter.template(), labelNames, adapter.handle(), topK);
      span.setAttribute(PROMPT_TOKENS, (long) scores.promptTokens());
      promptTokens.add(scores.promptTokens());
      return scores;
    } catch (RuntimeException e) {
      // The status only: engine messages are not vetted for note text.
      span.setStatus(StatusCode.ERROR);
      throw e;
    } finally {
      span.end();
    }
  }

  private Protocol protocolAt(int index) {
    return catalog.protocols().get(index);
  }
}
