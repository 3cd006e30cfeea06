package dev.protorad.training.data;

import static java.util.Objects.requireNonNull;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Near-duplicate detection by word-bigram shingles and Jaccard similarity.
 *
 * <p>Notes are normalized (lower case, punctuation other than {@code /} dropped, whitespace
 * collapsed) and turned into the set of adjacent token pairs; a note of one token is its own
 * shingle. Two notes are near-duplicates when the Jaccard similarity of their shingle sets is at
 * least the threshold. The index counts shared shingles through an inverted index, so a query costs
 * the total length of the posting lists it touches rather than a scan of every note.
 */
public final class NearDuplicates {

  /** Default similarity threshold. */
  public static final double DEFAULT_THRESHOLD = 0.8;

  private static final Pattern NON_WORD = Pattern.compile("[^\\p{L}\\p{N}/]+");

  private final double threshold;
  private final Map<String, List<Integer>> postings = new HashMap<>();
  private final List<Set<String>> shingleSets = new ArrayList<>();
  private final List<Integer> groups = new ArrayList<>();

  private NearDuplicates(double threshold) {
    this.threshold = threshold;
  }

  /**
   * Creates an empty index.
   *
   * @param threshold Jaccard similarity at or above which two notes are near-duplicates, in (0, 1]
   */
  public static NearDuplicates index(double threshold) {
    if (!(threshold > 0 && threshold <= 1)) {
      throw new IllegalArgumentException("threshold: " + threshold + " (expected: (0, 1])");
    }
    return new NearDuplicates(threshold);
  }

  /** Normalizes a note for duplicate detection: lower case, words only, single spaces. */
  public static String normalize(String note) {
    requireNonNull(note, "note");
    return NON_WORD.matcher(note.toLowerCase(Locale.ROOT)).replaceAll(" ").trim();
  }

  /** The word-bigram shingles of a note (a single token is its own shingle). */
  public static Set<String> shingles(String note) {
    String norm = normalize(note);
    Set<String> out = new HashSet<>();
    if (norm.isEmpty()) {
      return out;
    }
    String[] tokens = norm.split(" ", -1); // normalized: single spaces, no trailing one
    if (tokens.length == 1) {
      out.add(tokens[0]);
      return out;
    }
    for (int i = 0; i + 1 < tokens.length; i++) {
      out.add(tokens[i] + ' ' + tokens[i + 1]);
    }
    return out;
  }

  /** Jaccard similarity of two sets; 1 when both are empty. */
  public static double jaccard(Set<String> a, Set<String> b) {
    int shared = sharedCount(a, b);
    return a.isEmpty() && b.isEmpty() ? 1.0 : (double) shared / (a.size() + b.size() - shared);
  }

  /** How many elements the two sets have in common. */
  private static int sharedCount(Set<String> a, Set<String> b) {
    Set<String> smaller = a.size() <= b.size() ? a : b;
    Set<String> larger = a.size() <= b.size() ? b : a;
    return (int) smaller.stream().filter(larger::contains).count();
  }

  /**
   * Whether {@code note} is a near-duplicate of an indexed note whose group differs from {@code
   * group} (for splits: pass the split's ordinal).
   */
  public boolean hasNearDuplicateOutside(String note, int group) {
    Set<String> s = shingles(note);
    Map<Integer, Integer> shared = new HashMap<>();
    for (String sh : s) {
      for (int id : postings.getOrDefault(sh, List.of())) {
        if (groups.get(id) != group) {
          shared.merge(id, 1, Integer::sum);
        }
      }
    }
    for (Map.Entry<Integer, Integer> e : shared.entrySet()) {
      int other = shingleSets.get(e.getKey()).size();
      double j = (double) e.getValue() / (s.size() + other - e.getValue());
      if (j >= threshold) {
        return true;
      }
    }
    return s.isEmpty() && shingleSets.stream().anyMatch(Set::isEmpty);
  }

  /** Adds a note to the index under {@code group}. */
  public void add(String note, int group) {
    Set<String> s = shingles(note);
    int id = shingleSets.size();
    shingleSets.add(s);
    groups.add(group);
    for (String sh : s) {
      postings.computeIfAbsent(sh, k -> new ArrayList<>()).add(id);
    }
  }
}
