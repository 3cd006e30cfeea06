package dev.protorad.training;

import static org.assertj.core.api.Assertions.assertThat;

import dev.protorad.training.NoteAugmenter.Kind;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class NoteAugmenterTest {

  private static final String NOTE =
      "Indication: flank pain, r/o stone | Hx: 54 y/o M, denies fever | Cr 1.8, eGFR <30 |"
          + " Allergies: iodinated contrast (hives)";

  /** The note's words, lower case, punctuation ignored, sorted. */
  private static List<String> words(String s) {
    return Arrays.stream(s.toLowerCase(Locale.ROOT).split("[^a-z0-9.<]+"))
        .map(w -> w.replaceAll("^\\.+|\\.+$", ""))
        .filter(w -> !w.isEmpty())
        .sorted()
        .toList();
  }

  @Test
  void everyKindButTypos_keepsEveryWordAndNumber() {
    for (Kind kind : List.of(Kind.LOWER_CASE, Kind.UPPER_CASE, Kind.NO_PUNCTUATION)) {
      String out = NoteAugmenter.apply(kind, NOTE, new SplittableRandom(1));
      assertThat(words(out)).as(kind.name()).isEqualTo(words(NOTE));
    }
    String reordered = NoteAugmenter.apply(Kind.SEGMENT_ORDER, NOTE, new SplittableRandom(1));
    assertThat(words(reordered)).isEqualTo(words(NOTE));
    assertThat(reordered).isNotEqualTo(NOTE).contains("denies fever").contains("Cr 1.8, eGFR <30");
  }

  @Test
  void noPunctuation_keepsDecimalPointsAndComparisons() {
    String out = NoteAugmenter.apply(Kind.NO_PUNCTUATION, NOTE, new SplittableRandom(1));

    assertThat(out)
        .contains("Cr 1.8 eGFR <30")
        .contains("r o stone")
        .doesNotContain(",")
        .doesNotContain("|")
        .doesNotContain("(");
  }

  @Test
  void typos_swapInnerLettersOnly_andKeepWordsAndShortTokens() {
    String note = "patient with abdominal distension, vomiting and constipation, ?obstruction. ";
    String out = NoteAugmenter.apply(Kind.TYPOS, note.repeat(6), new SplittableRandom(5));

    assertThat(out).hasSameSizeAs(note.repeat(6)).isNotEqualTo(note.repeat(6));
    String[] in = note.repeat(6).split(" ");
    String[] got = out.split(" ");
    assertThat(got).hasSameSizeAs(in);
    for (int i = 0; i < in.length; i++) {
      char[] a = in[i].toCharArray();
      char[] b = got[i].toCharArray();
      Arrays.sort(a);
      Arrays.sort(b);
      assertThat(b).as(in[i]).isEqualTo(a);
      if (!in[i].isEmpty()) {
        assertThat(got[i].charAt(0)).isEqualTo(in[i].charAt(0));
        assertThat(got[i].charAt(got[i].length() - 1)).isEqualTo(in[i].charAt(in[i].length() - 1));
      }
      if (in[i].length() < 5) {
        assertThat(got[i]).isEqualTo(in[i]);
      }
    }
  }

  @Test
  void augment_sameSeed_sameText() {
    for (long seed = 0; seed < 20; seed++) {
      assertThat(NoteAugmenter.augment(NOTE, new SplittableRandom(seed)))
          .isEqualTo(NoteAugmenter.augment(NOTE, new SplittableRandom(seed)));
    }
  }
}
