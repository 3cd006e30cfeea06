package dev.protorad.training;

import static java.util.Objects.requireNonNull;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.SplittableRandom;
import java.util.regex.Pattern;

/**
 * Rewrites a training note's surface without changing what it says, so that an adapter learns the
 * clinical content rather than one generator's layout: the whole note in lower or upper case, its
 * punctuation replaced by spaces, its segments (sentences, {@code |}- or {@code /}-separated
 * fields, lines) in another order, or two neighbouring inner letters swapped in some longer words,
 * as typing does. Words are never dropped or replaced, so negations, numbers and the facts the
 * catalog rules turn on stay in the note.
 */
public final class NoteAugmenter {

  /** One surface rewrite. */
  public enum Kind {
    /** Everything in lower case. */
    LOWER_CASE,
    /** Everything in upper case. */
    UPPER_CASE,
    /** Punctuation replaced by single spaces. */
    NO_PUNCTUATION,
    /** Segments in a shuffled order. */
    SEGMENT_ORDER,
    /** Neighbouring inner letters swapped in about one word of longer words in eight. */
    TYPOS
  }

  private static final Pattern SEGMENT = Pattern.compile("\\s*(?:\\||\\n|; |(?<=\\.) | / )\\s*");
  // Decimal points stay: "Cr 1.8" must not become "Cr 1 8".
  private static final Pattern PUNCTUATION =
      Pattern.compile("(?:[\\p{Punct}&&[^<>=%+.]]|(?<!\\d)\\.|\\.(?!\\d))+");
  private static final Pattern SPACES = Pattern.compile("\\s+");

  private NoteAugmenter() {}

  /** {@code note} rewritten by a kind drawn from {@code random}. */
  public static String augment(String note, SplittableRandom random) {
    Kind[] kinds = Kind.values();
    return apply(kinds[random.nextInt(kinds.length)], note, random);
  }

  /** {@code note} rewritten by {@code kind}; {@code random} drives the order and the typos. */
  public static String apply(Kind kind, String note, SplittableRandom random) {
    requireNonNull(kind, "kind");
    requireNonNull(note, "note");
    requireNonNull(random, "random");
    return switch (kind) {
      case LOWER_CASE -> note.toLowerCase(Locale.ROOT);
      case UPPER_CASE -> note.toUpperCase(Locale.ROOT);
      case NO_PUNCTUATION ->
          SPACES.matcher(PUNCTUATION.matcher(note).replaceAll(" ")).replaceAll(" ").strip();
      case SEGMENT_ORDER -> segmentOrder(note, random);
      case TYPOS -> typos(note, random);
    };
  }

  @SuppressWarnings("StringSplitter") // dropping trailing empty segments is intended
  private static String segmentOrder(String note, SplittableRandom random) {
    List<String> segments = new ArrayList<>();
    for (String s : SEGMENT.split(note)) {
      if (!s.isBlank()) {
        segments.add(s.strip());
      }
    }
    if (segments.size() < 2) {
      return note;
    }
    Collections.shuffle(segments, new Random(random.nextLong()));
    return String.join(". ", segments);
  }

  private static String typos(String note, SplittableRandom random) {
    StringBuilder out = new StringBuilder(note);
    int start = -1;
    for (int i = 0; i <= note.length(); i++) {
      boolean letter = i < note.length() && Character.isLetter(note.charAt(i));
      if (letter && start < 0) {
        start = i;
      } else if (!letter && start >= 0) {
        int length = i - start;
        // Inner letters only: the first and last letter of a word stay where they are.
        if (length >= 5 && random.nextInt(8) == 0) {
          int at = start + 1 + random.nextInt(length - 3);
          char c = out.charAt(at);
          out.setCharAt(at, out.charAt(at + 1));
          out.setCharAt(at + 1, c);
        }
        start = -1;
      }
    }
    return out.toString();
  }
}
