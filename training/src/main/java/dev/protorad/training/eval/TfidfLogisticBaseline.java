package dev.protorad.training.eval;

import static java.util.Objects.requireNonNull;

import dev.protorad.training.data.Example;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.tribuo.Model;
import org.tribuo.MutableDataset;
import org.tribuo.classification.Label;
import org.tribuo.classification.LabelFactory;
import org.tribuo.classification.sgd.linear.LinearSGDTrainer;
import org.tribuo.classification.sgd.objectives.LogMulticlass;
import org.tribuo.data.text.impl.TextFeatureExtractorImpl;
import org.tribuo.data.text.impl.TokenPipeline;
import org.tribuo.math.optimisers.AdaGrad;
import org.tribuo.provenance.SimpleDataSourceProvenance;
import org.tribuo.transform.TransformTrainer;
import org.tribuo.transform.TransformationMap;
import org.tribuo.transform.transformations.IDFTransformation;
import org.tribuo.util.tokens.impl.BreakIteratorTokenizer;

/**
 * The baseline to beat (DESIGN §7): TF-IDF over word unigrams and bigrams of the lower-cased note,
 * then multinomial logistic regression trained by SGD (AdaGrad), both from Tribuo.
 *
 * <p>The AdaGrad learning rate (0.03) and epochs (15) were chosen on the validation split of {@code
 * dataset synth --n 3000 --seed 7}; larger rates overfit and were overconfident.
 */
public final class TfidfLogisticBaseline {

  /** Default number of training epochs. */
  public static final int DEFAULT_EPOCHS = 15;

  /** Default seed. */
  public static final long DEFAULT_SEED = 7;

  /**
   * Tribuo's INFO lines (every training run lists its labels) quieted. Held in a field: {@code
   * java.util.logging} keeps loggers weakly, and a collected logger forgets its level.
   */
  @SuppressWarnings("UnusedVariable") // held, not read: see above
  private static final Logger TRIBUO_LOG = quiet(Logger.getLogger("org.tribuo"));

  private static final int NGRAMS = 2;
  private static final double LEARNING_RATE = 0.03;
  private static final int NO_LOGGING = Integer.MAX_VALUE;

  /** Highest probability first; ties by label id. */
  private static final Comparator<LabelProbability> MOST_PROBABLE_FIRST =
      Comparator.comparingDouble(LabelProbability::probability)
          .reversed()
          .thenComparing(LabelProbability::id);

  private final Model<Label> model;
  private final TextFeatureExtractorImpl<Label> extractor;
  private final List<LabelProbability> prior;

  private TfidfLogisticBaseline(
      Model<Label> model, TextFeatureExtractorImpl<Label> extractor, List<LabelProbability> prior) {
    this.model = model;
    this.extractor = extractor;
    this.prior = prior;
  }

  /** Trains with {@link #DEFAULT_EPOCHS} and {@link #DEFAULT_SEED}. */
  public static TfidfLogisticBaseline train(List<Example> train) {
    return train(train, DEFAULT_EPOCHS, DEFAULT_SEED);
  }

  /**
   * Trains the baseline.
   *
   * @param train at least one example
   * @param epochs SGD epochs, at least 1
   * @param seed SGD shuffling seed
   */
  public static TfidfLogisticBaseline train(List<Example> train, int epochs, long seed) {
    return train(train, epochs, seed, LEARNING_RATE);
  }

  static TfidfLogisticBaseline train(
      List<Example> train, int epochs, long seed, double learningRate) {
    requireNonNull(train, "train");
    if (train.isEmpty()) {
      throw new IllegalArgumentException("train: empty (expected: at least one example)");
    }
    if (epochs < 1) {
      throw new IllegalArgumentException("epochs: " + epochs + " (expected: >= 1)");
    }
    LabelFactory factory = new LabelFactory();
    TextFeatureExtractorImpl<Label> extractor =
        new TextFeatureExtractorImpl<>(
            new TokenPipeline(new BreakIteratorTokenizer(Locale.ROOT), NGRAMS, true));
    MutableDataset<Label> data =
        new MutableDataset<>(new SimpleDataSourceProvenance("protorad-train", factory), factory);
    for (Example e : train) {
      data.add(extractor.extract(new Label(e.label()), prepare(e.note())));
    }
    LinearSGDTrainer lr =
        new LinearSGDTrainer(
            new LogMulticlass(), new AdaGrad(learningRate, 0.1), epochs, NO_LOGGING, 1, seed);
    TransformTrainer<Label> tfidf =
        new TransformTrainer<>(
            lr, new TransformationMap(List.of(new IDFTransformation())), false, true);
    return new TfidfLogisticBaseline(tfidf.train(data), extractor, prior(train));
  }

  /** The {@code k} most probable labels for a note, highest first. */
  public List<LabelProbability> predict(String note, int k) {
    requireNonNull(note, "note");
    if (k < 1) {
      throw new IllegalArgumentException("k: " + k + " (expected: >= 1)");
    }
    org.tribuo.Example<Label> ex = extractor.extract(LabelFactory.UNKNOWN_LABEL, prepare(note));
    List<LabelProbability> ranked;
    try {
      ranked = scores(model.predict(ex).getOutputScores());
    } catch (IllegalArgumentException noKnownFeatures) {
      // Tribuo refuses an example with no feature seen in training: answer with the label prior.
      ranked = prior;
    }
    return List.copyOf(ranked.subList(0, Math.min(k, ranked.size())));
  }

  /** Predicts every example and pairs the result with its gold label. */
  public List<EvaluatedNote> evaluate(List<Example> examples, int k) {
    requireNonNull(examples, "examples");
    return examples.stream().map(e -> EvaluatedNote.of(e.label(), predict(e.note(), k))).toList();
  }

  private static List<LabelProbability> scores(Map<String, Label> scores) {
    return scores.values().stream()
        .map(l -> new LabelProbability(l.getLabel(), Math.max(0, Math.min(1, l.getScore()))))
        .sorted(MOST_PROBABLE_FIRST)
        .toList();
  }

  private static List<LabelProbability> prior(List<Example> train) {
    Map<String, Integer> counts = new HashMap<>();
    train.forEach(e -> counts.merge(e.label(), 1, Integer::sum));
    List<LabelProbability> out = new ArrayList<>();
    counts.forEach((id, c) -> out.add(new LabelProbability(id, (double) c / train.size())));
    out.sort(MOST_PROBABLE_FIRST);
    return List.copyOf(out);
  }

  private static String prepare(String note) {
    return note.toLowerCase(Locale.ROOT);
  }

  private static Logger quiet(Logger logger) {
    logger.setLevel(Level.WARNING);
    return logger;
  }
}
