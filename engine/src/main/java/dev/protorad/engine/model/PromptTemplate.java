package dev.protorad.engine.model;

import static java.util.Objects.requireNonNull;

import java.util.List;
import java.util.Locale;
import org.jspecify.annotations.Nullable;

/**
 * The prompt a label is scored after, versioned with the adapters trained on it (an adapter's
 * metadata records the template it expects, and it is scored with that template).
 *
 * <p>Design note: a note written in capitals ("shouted") is tokenized into many short pieces that
 * share little with the same words in mixed case, so a small base reads it badly. {@link #V2} folds
 * such a note to lower case before it is placed in the prompt; a note in mixed case is left as
 * written, since its case carries meaning ("US", "MR", "eGFR").
 *
 * @param version recorded with adapters and predictions, e.g. {@code v1}
 * @param text the prompt, with {@code {note}} exactly once, ending where the label begins
 * @param labelSuffix appended to every label, e.g. {@code </s>} so a label must also end there
 * @param foldShouted whether a shouted note ({@link #isShouted}) is lower-cased first
 */
public record PromptTemplate(String version, String text, String labelSuffix, boolean foldShouted) {

  /** Placeholder the note replaces. */
  public static final String NOTE = "{note}";

  /** The first template: {@code ### Note:\n{note}\n### Protocol:\n}, labels end with EOS. */
  public static final PromptTemplate V1 =
      new PromptTemplate("v1", "### Note:\n{note}\n### Protocol:\n", "</s>", false);

  /** {@link #V1} with shouted notes folded to lower case. */
  public static final PromptTemplate V2 =
      new PromptTemplate("v2", V1.text(), V1.labelSuffix(), true);

  /** The template new adapters are trained with. */
  public static final PromptTemplate DEFAULT = V2;

  /** Every template an adapter may record, oldest first. */
  public static final List<PromptTemplate> KNOWN = List.of(V1, V2);

  /** Upper-case share of a note's cased letters from which it counts as shouted. */
  public static final double SHOUTED_SHARE = 0.8;

  /** Checks the placeholder. */
  public PromptTemplate {
    requireNonNull(version, "version");
    requireNonNull(text, "text");
    requireNonNull(labelSuffix, "labelSuffix");
    int at = text.indexOf(NOTE);
    if (at < 0 || text.indexOf(NOTE, at + 1) >= 0) {
      throw new IllegalArgumentException("text: expected {note} exactly once");
    }
    if (text.endsWith(NOTE)) {
      throw new IllegalArgumentException("text: expected text after {note} (the label anchor)");
    }
  }

  /** A template without note folding. */
  public PromptTemplate(String version, String text, String labelSuffix) {
    this(version, text, labelSuffix, false);
  }

  /**
   * The known template recorded as {@code version}.
   *
   * @throws IllegalArgumentException naming the known versions, for any other
   */
  public static PromptTemplate forVersion(String version) {
    requireNonNull(version, "version");
    for (PromptTemplate t : KNOWN) {
      if (t.version.equals(version)) {
        return t;
      }
    }
    throw new IllegalArgumentException(
        "prompt template: "
            + version
            + " (expected: one of "
            + KNOWN.stream().map(PromptTemplate::version).toList()
            + ")");
  }

  /**
   * The one rule for which template a run prompts with; every caller that scores, evaluates, trains
   * or imports goes through it:
   *
   * <ol>
   *   <li>a template chosen explicitly (a {@code --template} option) wins;
   *   <li>the bare base, with no adapter, is prompted as the demo base's corpus was written: {@link
   *       #V1};
   *   <li>an adapter is prompted with the template its metadata recorded;
   *   <li>an adapter that recorded none (a bare PEFT directory, an import without a template) and
   *       every new adapter get {@link #DEFAULT}.
   * </ol>
   *
   * @param chosen the explicitly chosen version, or null
   * @param recorded the version the adapter's metadata records, or null
   * @param bareBase whether the run scores the base alone, without any adapter
   * @throws IllegalArgumentException when a given version is not a known template
   */
  public static PromptTemplate select(
      @Nullable String chosen, @Nullable String recorded, boolean bareBase) {
    if (chosen != null) {
      return forVersion(chosen);
    }
    if (bareBase) {
      return V1;
    }
    return recorded != null ? forVersion(recorded) : DEFAULT;
  }

  /** {@link #select}: the template a new adapter is trained (and its evaluation prompted) with. */
  public static PromptTemplate forNewAdapter() {
    return select(null, null, false);
  }

  /** {@link #select}: the template the bare base, with no adapter, is prompted with. */
  public static PromptTemplate forBareBase() {
    return select(null, null, true);
  }

  /**
   * Whether at least {@link #SHOUTED_SHARE} of the note's upper- and lower-case letters are upper
   * case (a note with no cased letter is not).
   */
  public static boolean isShouted(String note) {
    int upper = 0;
    int lower = 0;
    for (int i = 0; i < note.length(); ) {
      int c = note.codePointAt(i);
      if (Character.isUpperCase(c)) {
        upper++;
      } else if (Character.isLowerCase(c)) {
        lower++;
      }
      i += Character.charCount(c);
    }
    return upper > 0 && upper >= SHOUTED_SHARE * (upper + lower);
  }

  /** The note as it is placed in the prompt: lower-cased if shouted and this template folds. */
  public String prepare(String note) {
    requireNonNull(note, "note");
    return foldShouted && isShouted(note) ? note.toLowerCase(Locale.ROOT) : note;
  }

  /** The prompt for {@code note}. */
  public String render(String note) {
    return text.replace(NOTE, prepare(note));
  }

  /** Whether prompts of both templates end the same way, so labels tokenize the same after them. */
  public boolean sharesLabelsWith(PromptTemplate other) {
    return anchor().equals(other.anchor()) && labelSuffix.equals(other.labelSuffix);
  }

  /** The part after {@code {note}}: what every prompt ends with, right before the label. */
  public String anchor() {
    return text.substring(text.indexOf(NOTE) + NOTE.length());
  }

  /** The full text of a training example: prompt, label and suffix. */
  public String example(String note, String label) {
    return render(note) + label + labelSuffix;
  }
}
