package dev.protorad.clinical.gate;

import static java.util.Objects.requireNonNull;

import dev.protorad.engine.safetensors.DType;
import dev.protorad.engine.safetensors.SafetensorsFile;
import dev.protorad.engine.safetensors.SafetensorsWriter;
import java.io.IOException;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;

/**
 * A lexical classifier fitted beside an adapter version, from the same training notes: hashed
 * TF-IDF features of the lower-cased note (word unigrams and bigrams, and character 3- to 5-grams
 * inside each word, which keep misspellings and dictation slips close to the word meant), then
 * multinomial logistic regression trained by AdaGrad.
 *
 * <p>Design note: the review gate uses it twice. Its distribution is combined with the adapter's (a
 * log-linear mixture fitted on the calibration split), and its vocabulary tells how much of a note
 * is made of words no training note used: the {@code unfamiliar-note} signal. Features are hashed
 * into {@link #BUCKETS} buckets so the file has a fixed size whatever the corpus; the known words
 * are kept as a list, since a hashed bucket cannot say whether a word was seen.
 */
public final class LexicalModel {

  /** File name inside an adapter version's directory. */
  public static final String FILE = "lexical_model.safetensors";

  /** Hash buckets of the feature space. */
  public static final int BUCKETS = 1 << 15;

  static final int DEFAULT_EPOCHS = 25;
  private static final double LEARNING_RATE = 0.25;
  private static final String LABELS_KEY = "labels";
  private static final String WORDS_KEY = "known_words";

  private final List<String> labels;
  private final float[] idf;
  private final float[] weights;
  private final float[] bias;
  private final Set<String> knownWords;

  private LexicalModel(
      List<String> labels, float[] idf, float[] weights, float[] bias, Set<String> knownWords) {
    this.labels = List.copyOf(labels);
    this.idf = idf;
    this.weights = weights;
    this.bias = bias;
    this.knownWords = knownWords;
  }

  /** A training note and its label id. */
  public record Labelled(String note, String label) {
    public Labelled {
      requireNonNull(note, "note");
      requireNonNull(label, "label");
    }
  }

  /**
   * Fits the model.
   *
   * @param train at least one note, each labelled with one of {@code labels}
   * @param labels the label ids, in the order {@link #probabilities} answers them
   * @param seed shuffling seed
   */
  public static LexicalModel train(List<Labelled> train, List<String> labels, long seed) {
    requireNonNull(train, "train");
    requireNonNull(labels, "labels");
    if (train.isEmpty()) {
      throw new IllegalArgumentException("train: empty (expected: at least one example)");
    }
    Map<String, Integer> index = new HashMap<>();
    for (int i = 0; i < labels.size(); i++) {
      index.put(labels.get(i), i);
    }
    int[] gold = new int[train.size()];
    List<Map<Integer, Double>> counts = new ArrayList<>(train.size());
    int[] df = new int[BUCKETS];
    Set<String> words = new TreeSet<>();
    for (int n = 0; n < train.size(); n++) {
      Labelled e = train.get(n);
      Integer g = index.get(e.label());
      if (g == null) {
        throw new IllegalArgumentException("train: label not in labels: " + e.label());
      }
      gold[n] = g;
      List<String> tokens = words(e.note());
      words.addAll(tokens);
      Map<Integer, Double> c = termCounts(tokens);
      c.keySet().forEach(b -> df[b]++);
      counts.add(c);
    }
    float[] idf = new float[BUCKETS];
    for (int b = 0; b < BUCKETS; b++) {
      idf[b] = (float) (Math.log((1.0 + train.size()) / (1.0 + df[b])) + 1.0);
    }
    List<SparseVector> xs = new ArrayList<>(train.size());
    for (Map<Integer, Double> c : counts) {
      xs.add(SparseVector.tfidf(c, idf));
    }
    LexicalModel model =
        new LexicalModel(
            labels,
            idf,
            new float[BUCKETS * labels.size()],
            new float[labels.size()],
            Set.copyOf(words));
    model.fit(xs, gold, DEFAULT_EPOCHS, new Random(seed));
    return model;
  }

  /** The label ids, in the order of {@link #probabilities}. */
  public List<String> labels() {
    return labels;
  }

  /** The probability of each label for {@code note}, in {@link #labels()} order. */
  public double[] probabilities(String note) {
    requireNonNull(note, "note");
    return softmax(logits(SparseVector.tfidf(termCounts(words(note)), idf)));
  }

  /**
   * The share of the note's words (tokens of letters and digits with at least one letter) that no
   * training note used; 1 for a note with no such word.
   */
  public double unknownWordShare(String note) {
    requireNonNull(note, "note");
    int total = 0;
    int unknown = 0;
    for (String w : words(note)) {
      if (w.chars().anyMatch(Character::isLetter)) {
        total++;
        if (!knownWords.contains(w)) {
          unknown++;
        }
      }
    }
    return total == 0 ? 1.0 : (double) unknown / total;
  }

  /** Writes the model as one safetensors file (labels and known words in its metadata). */
  public void write(Path file) throws IOException {
    requireNonNull(file, "file");
    SafetensorsWriter.create()
        .metadata(LABELS_KEY, String.join("\n", labels))
        .metadata(WORDS_KEY, String.join("\n", new TreeSet<>(knownWords)))
        .addFloats("idf", DType.F32, new long[] {BUCKETS}, idf)
        .addFloats("weight", DType.F32, new long[] {BUCKETS, labels.size()}, weights)
        .addFloats("bias", DType.F32, new long[] {labels.size()}, bias)
        .write(file);
  }

  /** Reads a model {@link #write} wrote. */
  public static LexicalModel read(Path file) throws IOException {
    requireNonNull(file, "file");
    SafetensorsFile f = SafetensorsFile.open(file);
    String labelText = f.metadata().getOrDefault(LABELS_KEY, "");
    if (labelText.isEmpty()) {
      throw new IOException(file + ": no " + LABELS_KEY + " in the metadata");
    }
    List<String> labels = List.of(labelText.split("\n"));
    String wordText = f.metadata().getOrDefault(WORDS_KEY, "");
    Set<String> words = wordText.isEmpty() ? Set.of() : Set.of(wordText.split("\n"));
    float[] idf = floats(f, "idf", BUCKETS);
    float[] weights = floats(f, "weight", BUCKETS * labels.size());
    float[] bias = floats(f, "bias", labels.size());
    return new LexicalModel(labels, idf, weights, bias, words);
  }

  private static float[] floats(SafetensorsFile f, String name, int expected) throws IOException {
    FloatBuffer b = f.buffer(name).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
    if (b.remaining() != expected) {
      throw new IOException(
          f.path()
              + ": tensor "
              + name
              + " has "
              + b.remaining()
              + " values (expected: "
              + expected
              + ")");
    }
    float[] out = new float[expected];
    b.get(out);
    return out;
  }

  private void fit(List<SparseVector> xs, int[] gold, int epochs, Random random) {
    int classes = labels.size();
    float[] gradSq = new float[weights.length];
    float[] biasSq = new float[classes];
    Integer[] order = new Integer[xs.size()];
    Arrays.setAll(order, i -> i);
    List<Integer> shuffled = Arrays.asList(order);
    for (int epoch = 0; epoch < epochs; epoch++) {
      java.util.Collections.shuffle(shuffled, random);
      for (int n : shuffled) {
        SparseVector x = xs.get(n);
        double[] p = softmax(logits(x));
        p[gold[n]] -= 1;
        for (int c = 0; c < classes; c++) {
          double g = p[c];
          if (g == 0) {
            continue;
          }
          biasSq[c] += (float) (g * g);
          bias[c] -= (float) (LEARNING_RATE * g / Math.sqrt(biasSq[c] + 1e-8));
          for (int k = 0; k < x.buckets.length; k++) {
            int at = x.buckets[k] * classes + c;
            double gw = g * x.values[k];
            gradSq[at] += (float) (gw * gw);
            weights[at] -= (float) (LEARNING_RATE * gw / Math.sqrt(gradSq[at] + 1e-8));
          }
        }
      }
    }
  }

  private double[] logits(SparseVector x) {
    int classes = labels.size();
    double[] z = new double[classes];
    for (int c = 0; c < classes; c++) {
      z[c] = bias[c];
    }
    for (int k = 0; k < x.buckets.length; k++) {
      int row = x.buckets[k] * classes;
      double v = x.values[k];
      for (int c = 0; c < classes; c++) {
        z[c] += weights[row + c] * v;
      }
    }
    return z;
  }

  static double[] softmax(double[] z) {
    double max = Double.NEGATIVE_INFINITY;
    for (double v : z) {
      max = Math.max(max, v);
    }
    double total = 0;
    double[] p = new double[z.length];
    for (int i = 0; i < z.length; i++) {
      p[i] = Math.exp(z[i] - max);
      total += p[i];
    }
    for (int i = 0; i < z.length; i++) {
      p[i] /= total;
    }
    return p;
  }

  /** Lower-cased runs of letters and digits. */
  static List<String> words(String note) {
    List<String> out = new ArrayList<>();
    String lower = note.toLowerCase(Locale.ROOT);
    int start = -1;
    for (int i = 0; i <= lower.length(); i++) {
      boolean part = i < lower.length() && Character.isLetterOrDigit(lower.charAt(i));
      if (part && start < 0) {
        start = i;
      } else if (!part && start >= 0) {
        out.add(lower.substring(start, i));
        start = -1;
      }
    }
    return out;
  }

  private static Map<Integer, Double> termCounts(List<String> words) {
    Map<Integer, Double> counts = new HashMap<>();
    for (int i = 0; i < words.size(); i++) {
      String w = words.get(i);
      add(counts, "w:" + w);
      if (i + 1 < words.size()) {
        add(counts, "b:" + w + " " + words.get(i + 1));
      }
      String marked = "<" + w + ">";
      for (int n = 3; n <= 5; n++) {
        for (int s = 0; s + n <= marked.length(); s++) {
          add(counts, "c:" + marked.substring(s, s + n));
        }
      }
    }
    return counts;
  }

  private static void add(Map<Integer, Double> counts, String feature) {
    counts.merge(bucket(feature), 1.0, Double::sum);
  }

  private static int bucket(String feature) {
    int h = feature.hashCode() * 0x9E3779B1;
    h ^= h >>> 15;
    return Math.floorMod(h, BUCKETS);
  }

  /** An L2-normalized sparse TF-IDF vector (sublinear term frequency). */
  private record SparseVector(int[] buckets, float[] values) {
    static SparseVector tfidf(Map<Integer, Double> counts, float[] idf) {
      int[] b = new int[counts.size()];
      float[] v = new float[counts.size()];
      int i = 0;
      double norm = 0;
      for (Map.Entry<Integer, Double> e : counts.entrySet()) {
        b[i] = e.getKey();
        double x = (1 + Math.log(e.getValue())) * idf[b[i]];
        v[i] = (float) x;
        norm += x * x;
        i++;
      }
      double scale = norm == 0 ? 0 : 1 / Math.sqrt(norm);
      for (int k = 0; k < v.length; k++) {
        v[k] *= (float) scale;
      }
      return new SparseVector(b, v);
    }
  }
}
