package dev.protorad.engine.peft;

import static java.util.Objects.requireNonNull;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;

/**
 * The tokens of a closed list of labels: an adapter trained with a label-vocabulary softmax scores
 * each label token against these tokens only, in training and in scoring alike, instead of against
 * the whole vocabulary.
 *
 * <p>Recorded with the adapter version among its hyper-parameters ({@link #HYPER_PARAMETER}: the
 * token ids, ascending, separated by spaces), so the scorer uses exactly the set the adapter was
 * trained with.
 */
public final class LabelVocabulary {

  /** The hyper-parameter that records the token ids of an adapter trained with one. */
  public static final String HYPER_PARAMETER = "label_vocabulary";

  private final int[] tokens;

  private LabelVocabulary(int[] tokens) {
    this.tokens = tokens;
  }

  /** The distinct tokens of {@code labels} (each a label's token ids). */
  public static LabelVocabulary covering(List<int[]> labels) {
    requireNonNull(labels, "labels");
    TreeSet<Integer> all = new TreeSet<>();
    for (int[] label : labels) {
      for (int t : label) {
        all.add(t);
      }
    }
    return of(all.stream().mapToInt(Integer::intValue).toArray());
  }

  /**
   * A vocabulary of {@code tokens} (distinct, non-negative; order does not matter).
   *
   * @throws IllegalArgumentException for no tokens, a negative or a repeated one
   */
  public static LabelVocabulary of(int[] tokens) {
    requireNonNull(tokens, "tokens");
    int[] sorted = tokens.clone();
    Arrays.sort(sorted);
    if (sorted.length == 0) {
      throw new IllegalArgumentException("label vocabulary: empty (expected: at least one token)");
    }
    if (sorted[0] < 0) {
      throw new IllegalArgumentException("label vocabulary: token " + sorted[0]);
    }
    for (int i = 1; i < sorted.length; i++) {
      if (sorted[i] == sorted[i - 1]) {
        throw new IllegalArgumentException("label vocabulary: token " + sorted[i] + " repeated");
      }
    }
    return new LabelVocabulary(sorted);
  }

  /**
   * The vocabulary recorded in {@code hyperParameters}, if any.
   *
   * @throws IllegalArgumentException when the recorded value is not a list of token ids
   */
  public static Optional<LabelVocabulary> recordedIn(Map<String, String> hyperParameters) {
    String recorded = hyperParameters.get(HYPER_PARAMETER);
    if (recorded == null || recorded.isBlank()) {
      return Optional.empty();
    }
    String[] parts = recorded.trim().split("\\s+", -1);
    int[] tokens = new int[parts.length];
    for (int i = 0; i < parts.length; i++) {
      try {
        tokens[i] = Integer.parseInt(parts[i]);
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(
            HYPER_PARAMETER + ": \"" + parts[i] + "\" (expected: token ids)", e);
      }
    }
    return Optional.of(of(tokens));
  }

  /** The value recorded under {@link #HYPER_PARAMETER}. */
  public String recorded() {
    StringBuilder out = new StringBuilder();
    for (int t : tokens) {
      out.append(out.length() == 0 ? "" : " ").append(t);
    }
    return out.toString();
  }

  /** The token ids, ascending. */
  public int[] tokens() {
    return tokens.clone();
  }

  public int size() {
    return tokens.length;
  }

  /** The place of {@code token} in {@link #tokens}, or -1 when it is not one of them. */
  public int indexOf(int token) {
    int i = Arrays.binarySearch(tokens, token);
    return i < 0 ? -1 : i;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof LabelVocabulary v && Arrays.equals(tokens, v.tokens);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(tokens);
  }

  @Override
  public String toString() {
    return "LabelVocabulary[" + tokens.length + " tokens]";
  }
}
