package dev.protorad.training.data;

import java.util.Locale;
import java.util.SplittableRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Surface noise: abbreviation, expansion, typos and letter case. */
final class Surface {

  private static final String[][] ABBREVIATIONS = {
    {"history of", "h/o"}, {"status post", "s/p"}, {"complains of", "c/o"}, {"rule out", "r/o"},
    {"evaluation", "eval"}, {"evaluate", "eval"}, {"without", "w/o"}, {"with", "w/"},
    {"patient", "pt"}, {"history", "hx"}, {"shortness of breath", "SOB"}, {"left", "L"},
    {"right", "R"}, {"bilateral", "b/l"}, {"fracture", "fx"}, {"weeks", "wks"},
    {"hours", "hrs"}, {"follow up", "f/u"}, {"follow-up", "f/u"}, {"diabetes", "DM"},
    {"hypertension", "HTN"}, {"and", "&"}, {"suspected ", "?"}, {"concern for", "c/f"},
    {"positive", "+"}, {"negative", "neg"}, {"abdominal", "abd"}, {"treatment", "tx"},
    {"symptoms", "sx"}, {"possible", "poss"}, {"year old", "yo"}, {"patients", "pts"},
    {"secondary to", "2/2"}, {"increased", "incr"}, {"approximately", "~"}
  };
  private static final String[][] EXPANSIONS = {
    {"r/o", "rule out"},
    {"h/o", "history of"},
    {"s/p", "status post"},
    {"c/o", "complains of"},
    {"eval", "evaluate"},
    {"pt", "patient"},
    {"fx", "fracture"},
    {"SOB", "shortness of breath"},
    {"f/u", "follow-up"},
    {"w/", "with"},
    {"hx", "history"},
    {"abd", "abdominal"},
    {"tachy", "tachycardic"},
    {"HA", "headache"},
    {"sx", "symptoms"},
    {"dx", "diagnosis"},
    {"yo", "year old"},
    {"LBP", "low back pain"},
    {"CP", "chest pain"},
    {"hx", "history"},
    {"b/l", "bilateral"}
  };

  /** Interchangeable wordings; one member of a set may be replaced by another. */
  private static final String[][] SYNONYMS = {
    {"r/o", "rule out", "eval for", "assess for", "concern for", "c/f", "query"},
    {"shortness of breath", "SOB", "dyspnea", "DOE", "breathlessness"},
    {"headache", "HA", "head pain", "cephalgia"},
    {"fracture", "fx", "break"},
    {"elevated", "high", "raised", "increased"},
    {"worsening", "progressive", "getting worse", "increasing"},
    {"sudden", "abrupt", "acute onset"},
    {"chronic", "long-standing", "longstanding"},
    {"follow up", "f/u", "follow-up", "interval follow up"},
    {"eval", "evaluate", "evaluation", "assess", "workup"},
    {"known", "h/o", "hx of", "history of", "established"},
    {"swelling", "edema", "swollen"},
    {"tachycardia", "tachy", "HR elevated", "tachycardic"},
    {"s/p", "status post"},
    {"patient", "pt", "pt."},
    {"negative", "neg", "unremarkable"},
    {"vomiting", "emesis", "N/V"},
    {"abdominal", "abd", "belly"},
    {"weakness", "paresis"}
  };

  private static final Pattern SLOT = Pattern.compile("\\{(side|dur|hours|early)}");
  private static final Pattern QUESTION_MARK = Pattern.compile("\\?(?=[A-Za-z])");
  private static final Pattern WORD = Pattern.compile("[A-Za-z]{5,}");

  private Surface() {}

  static String fillSlots(String text, SplittableRandom rng) {
    Matcher m = SLOT.matcher(text);
    StringBuilder sb = new StringBuilder();
    while (m.find()) {
      String value =
          switch (m.group(1)) {
            case "side" -> RuleScenarios.side(rng);
            case "dur" ->
                RuleScenarios.pick(
                    rng,
                    "2 days",
                    "3d",
                    "1 wk",
                    "x2 weeks",
                    "6 hrs",
                    "3 months",
                    "since yesterday");
            case "early" -> String.valueOf(1 + rng.nextInt(4));
            default -> String.valueOf(1 + rng.nextInt(20));
          };
      m.appendReplacement(sb, Matcher.quoteReplacement(value));
    }
    m.appendTail(sb);
    return sb.toString();
  }

  /**
   * Replaces each word of a synonym set found in {@code text} with another member, at {@code rate}.
   */
  static String synonyms(String text, double rate, SplittableRandom rng) {
    String out = text;
    for (String[] set : SYNONYMS) {
      for (String word : set) {
        if (rng.nextDouble() < rate && containsWord(out, word)) {
          out = replaceWord(out, word, set[rng.nextInt(set.length)], true);
          break;
        }
      }
    }
    return out;
  }

  private static boolean containsWord(String text, String word) {
    return wordPattern(word, true).matcher(text).find();
  }

  static String abbreviate(String text, double rate, SplittableRandom rng) {
    return replacePairs(text, ABBREVIATIONS, true, rate, rng);
  }

  static String expand(String text, double rate, SplittableRandom rng) {
    String out = replacePairs(text, EXPANSIONS, false, rate, rng);
    return rng.nextDouble() < rate ? QUESTION_MARK.matcher(out).replaceAll("suspected ") : out;
  }

  /** Replaces each pair's first word with its second, pair by pair, each at {@code rate}. */
  private static String replacePairs(
      String text, String[][] pairs, boolean anyCase, double rate, SplittableRandom rng) {
    String out = text;
    for (String[] pair : pairs) {
      if (rng.nextDouble() < rate) {
        out = replaceWord(out, pair[0], pair[1], anyCase);
      }
    }
    return out;
  }

  static String noise(String note, NoteStyle style, SplittableRandom rng) {
    String out = note;
    if (style == NoteStyle.SENTENCE
        || style == NoteStyle.REFERRAL
        || style == NoteStyle.LONG_NARRATIVE) {
      out = expand(out, 0.7, rng);
    } else if (style != NoteStyle.ABBREVIATED && rng.nextInt(4) == 0) {
      out = abbreviate(out, 0.4, rng);
    }
    if (rng.nextInt(6) == 0) {
      out = typos(out, 0.12, rng);
    }
    int caseRoll = rng.nextInt(12);
    if (caseRoll == 0 || caseRoll == 1) {
      out = out.toUpperCase(Locale.ROOT);
    } else if (caseRoll == 2) {
      out = out.toLowerCase(Locale.ROOT);
    }
    return out.strip();
  }

  static String typos(String text, double rate, SplittableRandom rng) {
    Matcher m = WORD.matcher(text);
    StringBuilder sb = new StringBuilder();
    while (m.find()) {
      String w = m.group();
      m.appendReplacement(sb, Matcher.quoteReplacement(rng.nextDouble() < rate ? typo(w, rng) : w));
    }
    m.appendTail(sb);
    return sb.toString();
  }

  private static String typo(String w, SplittableRandom rng) {
    int i = 1 + rng.nextInt(w.length() - 2);
    return switch (rng.nextInt(3)) {
      case 0 -> w.substring(0, i) + w.charAt(i + 1) + w.charAt(i) + w.substring(i + 2);
      case 1 -> w.substring(0, i) + w.substring(i + 1);
      default -> w.substring(0, i) + w.charAt(i) + w.substring(i);
    };
  }

  private static String replaceWord(String text, String from, String to, boolean anyCase) {
    return wordPattern(from, anyCase).matcher(text).replaceAll(Matcher.quoteReplacement(to));
  }

  private static Pattern wordPattern(String word, boolean anyCase) {
    String start = Character.isLetterOrDigit(word.charAt(0)) ? "(?<![\\w/])" : "";
    String end = Character.isLetterOrDigit(word.charAt(word.length() - 1)) ? "(?![\\w/])" : "";
    return Pattern.compile(
        start + Pattern.quote(word) + end, anyCase ? Pattern.CASE_INSENSITIVE : 0);
  }
}
