package dev.protorad.clinical.catalog;

import static java.util.Objects.requireNonNull;

import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Flags catalog-rule concerns for a note and a predicted protocol.
 *
 * <p>Design note: a NegEx-style matcher (Chapman et al., J Biomed Inform 2001), reduced to what
 * order notes need. The note is split into clauses at sentence punctuation, line breaks, commas,
 * and "but"; a concept mention is negated when a negation trigger ("no", "denies", "without",
 * "negative for", "not", "non-") precedes it in its clause or a post-trigger ("negative", "neg",
 * "none", "denied") follows it. Each finding applies only to protocols where its rule matters:
 * allergy and kidney findings to contrast protocols, pregnancy to ionizing or gadolinium protocols,
 * implants to MRI/MRA. Flags are enum constants, so they can never carry note text.
 */
public final class RuleChecker {

  private static final int NEGATION_WINDOW = 3;
  private static final Pattern CLAUSE_BREAK =
      Pattern.compile("[.;:!?\\n\\r,()\\[\\]]|\\bbut\\b|\\bhowever\\b|\\bthough\\b");
  private static final Pattern PRE_NEGATION =
      Pattern.compile(
          "\\b(no|not|denies|denied|deny|without|w/o|negative for|neg for|free of|never|"
              + "r/o|rule out|ruled out|absence of|nkda|nka)\\b|\\bnon-?$|\\bnon-\\w*$");
  private static final Pattern POST_NEGATION =
      Pattern.compile(
          "^[ \\t:=-]*(?:(?:test|status|screen|screening|test was|test is|test:)[ \\t:=-]*)?"
              + "(negative|neg|none|denied|no|not present|ruled out|excluded)\\b"
              + "|^\\s*[?:=-]\\s*(?:n|unknown|unk|n/a)\\b");

  /** An order-form question answered no: "Pacemaker or metal? N", "Contrast allergy: none". */
  private static final Pattern FORM_ANSWER_NO =
      Pattern.compile(
          "^[^\\n.;,|]{0,30}?[?:=][ \\t]*-?[ \\t]*(?:n|no|none|denies|denied|neg|negative|unknown|n/a)\\b");

  private static final String CONTRAST_AGENT =
      "(?:(?:iv|iodinated|iodine[- ]based|intravenous|ct|x-?ray)\\s+)?(?:contrast|dye)"
          + "|omnipaque|iohexol|isovue|iopamidol|visipaque|iodixanol|ultravist";
  private static final Pattern CONTRAST_ALLERGY =
      Pattern.compile(
          "(?:allerg\\w*|anaphyla\\w*|reaction|hives|urticaria|rxn|sensitivity)"
              + "[^\\n.;]{0,30}?\\b(?:"
              + CONTRAST_AGENT
              + ")\\b|\\b(?:"
              + CONTRAST_AGENT
              + ")\\b\\s*(?:allerg\\w*|reaction|rxn|anaphyla\\w*|sensitivity|\\(?hives|\\(?urticaria)");
  private static final Pattern ALLERGY_LIST_CONTRAST =
      Pattern.compile(
          "(?m)^\\s*(?:allergies|allergy|all)\\s*:[^\\n.;]*?\\b(?:" + CONTRAST_AGENT + ")\\b");
  private static final String GAD_AGENT =
      "gadolinium|gad|gbca|gadavist|dotarem|magnevist|multihance|eovist|prohance|"
          + "mri?\\s+contrast|mr\\s+contrast";
  private static final Pattern GAD_ALLERGY =
      Pattern.compile(
          "(?:allerg\\w*|anaphyla\\w*|reaction|hives|urticaria|rxn)[^\\n.;]{0,30}?\\b(?:"
              + GAD_AGENT
              + ")\\b|\\b(?:"
              + GAD_AGENT
              + ")\\b\\s*(?:allerg\\w*|reaction|rxn|anaphyla\\w*)"
              + "|(?m)^\\s*(?:allergies|allergy)\\s*:[^\\n.;]*?\\b(?:"
              + GAD_AGENT
              + ")\\b");
  private static final Pattern EGFR =
      Pattern.compile(
          "\\be?gfr\\b\\s*(?:of|is|was|now|today|=|:|~|-)?\\s*(<|>|less than|under|below|"
              + "greater than|over|above)?\\s*(\\d{1,3}(?:\\.\\d+)?)");
  private static final Pattern CKD_SEVERE =
      Pattern.compile(
          "\\b(?:ckd|chronic kidney disease)\\s*(?:stage\\s*|stg\\s*|-\\s*)?(?:4|5|iv|v)\\b"
              + "|\\besrd\\b|\\bend[- ]stage renal");
  private static final Pattern CREATININE =
      Pattern.compile(
          "\\b(?:creatinine|creat|cr|scr)\\b\\s*(?:of|is|was|now|today|=|:|~|-)?\\s*"
              + "(\\d{1,4}(?:\\.\\d+)?)");
  private static final Pattern AKI =
      Pattern.compile("\\b(?:aki|acute kidney injury|acute renal (?:failure|injury)|arf)\\b");
  private static final Pattern DIALYSIS =
      Pattern.compile(
          "\\b(?:dialysis|hemodialysis|hd\\s+(?:mwf|tths|tts|m/w/f|t/th/s|dependent|patient|pt)"
              + "|on\\s+hd|esrd\\s+(?:on\\s+)?(?:hd|pd)|peritoneal dialysis|capd|crrt)\\b");
  private static final Pattern PREGNANCY =
      Pattern.compile(
          "\\bpregnan(?:t|cy)\\b|\\b\\d{1,2}\\s*(?:wk|wks|week|weeks)\\s*(?:pregnant|gestation|ga|"
              + "iup|gest|by lmp)\\b|\\biup\\b|\\bgravid\\b|"
              + "\\bg\\d+\\s*p\\d+\\s*(?:at|@)\\s*\\d{1,2}\\s*(?:w|wk|wks|weeks)\\b|"
              + "(?:\\+|positive|pos)\\s*(?:serum\\s+|urine\\s+|beta[- ]?)?hcg|"
              + "\\bhcg\\s*(?:\\+|positive|pos)|"
              + "\\b(?:first|second|third|1st|2nd|3rd)\\s+trimester\\b|\\bga\\s+\\d{1,2}\\s*w");
  private static final Pattern DEVICE =
      Pattern.compile(
          "\\b(?:pacemaker|ppm|aicd|icd(?![- ]?(?:9|10)\\b)|defibrillator|cochlear implants?|"
              + "neurostimulator|spinal cord stimulator|scs|deep brain stimulator|dbs|"
              + "vagus nerve stimulator|vagal nerve stimulator|vns|aneurysm clips?|"
              + "abandoned (?:pacer |pacing )?leads|pacer|"
              + "metal(?:lic)? (?:fragments?|shavings|foreign body|fb) in (?:the |his |her |left |right |l |r |lt |rt )*eyes?|"
              + "orbital (?:metal(?:lic)?|metallic foreign body|foreign body|fb)|"
              + "intraocular metal|shrapnel|bullet fragments?)\\b");
  private static final Pattern DEVICE_SAFE =
      Pattern.compile("mri?[- ]?(?:conditional|compatible|safe)|mr[- ]conditional");
  private static final Pattern NOT_BEFORE = Pattern.compile("(?:not|non|n't)[- ]?$");
  private static final Pattern METFORMIN =
      Pattern.compile("\\b(?:metformin|glucophage|janumet|synjardy|glumetza|fortamet)\\b");
  private static final Pattern METFORMIN_STOPPED =
      Pattern.compile("\\b(?:off|stopped|discontinued|d/c'?d|held|holding|hold)\\b");

  private RuleChecker() {}

  /** Creates a checker. Stateless and thread-safe. */
  public static RuleChecker create() {
    return new RuleChecker();
  }

  /**
   * Flags for this note if {@code predicted} were performed, in {@link RuleFlag} order.
   *
   * @param note the order's free text
   * @param predicted the protocol the model chose
   */
  public List<RuleFlag> check(String note, Protocol predicted) {
    requireNonNull(note, "note");
    return check(findings(note), predicted);
  }

  /**
   * The {@link #findings} of a note that matter if {@code predicted} were performed, in {@link
   * RuleFlag} order: {@link #check(String, Protocol)} without reading the note again, for a caller
   * that asks about several protocols.
   */
  public List<RuleFlag> check(Set<RuleFlag> findings, Protocol predicted) {
    requireNonNull(findings, "findings");
    requireNonNull(predicted, "predicted");
    return findings.stream().filter(f -> appliesTo(f, predicted)).toList();
  }

  /** Every finding in the note, whatever the protocol, in {@link RuleFlag} order. */
  public Set<RuleFlag> findings(String note) {
    requireNonNull(note, "note");
    String text = note.toLowerCase(Locale.ROOT);
    Set<RuleFlag> out = EnumSet.noneOf(RuleFlag.class);
    if (affirmed(text, CONTRAST_ALLERGY) || affirmed(text, ALLERGY_LIST_CONTRAST)) {
      out.add(RuleFlag.CONTRAST_ALLERGY);
    }
    if (affirmed(text, GAD_ALLERGY)) {
      out.add(RuleFlag.GADOLINIUM_ALLERGY);
    }
    if (egfrBelow30(text) || affirmed(text, CKD_SEVERE)) {
      out.add(RuleFlag.EGFR_BELOW_30);
    }
    if (creatinineElevated(text)) {
      out.add(RuleFlag.CREATININE_ELEVATED);
    }
    if (affirmed(text, AKI)) {
      out.add(RuleFlag.AKI);
    }
    if (affirmed(text, DIALYSIS)) {
      out.add(RuleFlag.DIALYSIS);
    }
    if (affirmed(text, PREGNANCY)) {
      out.add(RuleFlag.PREGNANCY);
    }
    if (anyMatch(text, DEVICE, m -> !negated(text, m) && !conditional(text, m))) {
      out.add(RuleFlag.MRI_UNSAFE_DEVICE);
    }
    if (anyMatch(text, METFORMIN, m -> !negated(text, m) && !metforminStopped(text, m))) {
      out.add(RuleFlag.METFORMIN);
    }
    return out;
  }

  private static boolean appliesTo(RuleFlag flag, Protocol p) {
    return switch (flag) {
      case CONTRAST_ALLERGY, METFORMIN -> p.usesIodinatedContrast();
      case GADOLINIUM_ALLERGY, DIALYSIS -> p.usesGadolinium();
      case EGFR_BELOW_30, CREATININE_ELEVATED, AKI ->
          p.usesIodinatedContrast() || p.usesGadolinium();
      case PREGNANCY ->
          p.usesGadolinium()
              || p.modality() == Modality.CT
              || p.modality() == Modality.CTA
              || p.modality() == Modality.NM
              || p.modality() == Modality.PET;
      case MRI_UNSAFE_DEVICE -> p.modality().isMagneticResonance();
    };
  }

  private static boolean affirmed(String text, Pattern concept) {
    return anyMatch(text, concept, m -> !negated(text, m));
  }

  private static boolean anyMatch(String text, Pattern p, Predicate<Matcher> accept) {
    Matcher m = p.matcher(text);
    while (m.find()) {
      if (accept.test(m)) {
        return true;
      }
    }
    return false;
  }

  private static boolean negated(String text, Matcher m) {
    String before = lastWords(text.substring(clauseStart(text, m.start()), m.start()));
    return PRE_NEGATION.matcher(before).find() || negatedAfter(text, m);
  }

  /** Whether the words just after the match negate it ("test negative", "Pregnant? N"). */
  private static boolean negatedAfter(String text, Matcher m) {
    String after = text.substring(m.end(), Math.min(text.length(), m.end() + 40));
    return POST_NEGATION.matcher(after).find() || FORM_ANSWER_NO.matcher(after).find();
  }

  /** NegEx scopes a trigger to a few words; "denies fever and is pregnant" stays affirmed. */
  private static String lastWords(String before) {
    String[] words = before.strip().split("\\s+", -1); // stripped: no trailing empty word
    int from = Math.max(0, words.length - NEGATION_WINDOW);
    return String.join(" ", java.util.Arrays.copyOfRange(words, from, words.length))
        + (before.endsWith(" ") ? " " : "");
  }

  private static int clauseStart(String text, int index) {
    Matcher b = CLAUSE_BREAK.matcher(text);
    int start = 0;
    while (b.find() && b.end() <= index) {
      start = b.end();
    }
    return start;
  }

  private static boolean conditional(String text, Matcher m) {
    int from = Math.max(0, m.start() - 30);
    int to = Math.min(text.length(), m.end() + 30);
    String window = text.substring(from, to);
    return anyMatch(window, DEVICE_SAFE, safe -> !notBefore(window, safe));
  }

  /** Whether "not", "non" or "n't" sits just before the match, as in "not MRI conditional". */
  private static boolean notBefore(String window, Matcher safe) {
    String before = window.substring(Math.max(0, safe.start() - 6), safe.start());
    return NOT_BEFORE.matcher(before).find();
  }

  private static boolean metforminStopped(String text, Matcher m) {
    String before = text.substring(Math.max(0, m.start() - 20), m.start());
    return METFORMIN_STOPPED.matcher(before).find();
  }

  private static boolean egfrBelow30(String text) {
    return anyMatch(text, EGFR, RuleChecker::egfrValueBelow30);
  }

  /** Whether an eGFR match reads as a value below 30 (or at most 30 with a comparator). */
  private static boolean egfrValueBelow30(Matcher m) {
    String cmp = m.group(1);
    double value = Double.parseDouble(m.group(2));
    boolean greater =
        cmp != null
            && (cmp.equals(">")
                || cmp.startsWith("greater")
                || cmp.equals("over")
                || cmp.equals("above"));
    return !greater && (value < 30 || (cmp != null && value <= 30));
  }

  private static boolean creatinineElevated(String text) {
    return anyMatch(
        text, CREATININE, m -> highCreatinine(Double.parseDouble(m.group(1))) && !negated(text, m));
  }

  private static boolean highCreatinine(double value) {
    // Values above 20 are micromoles per litre (177 umol/L = 2.0 mg/dL).
    return value > 20 ? value >= 177 : value >= 2.0;
  }
}
