package dev.protorad.server.engine.model;

import static java.util.Objects.requireNonNull;

/**
 * The prompt a label is scored after, versioned with the adapters trained on it (an adapter's
 * metadata records the template it expects).
 *
 * @param version recorded with adapters and predictions, e.g. {@code v1}
 * @param text the prompt, with {@code {note}} exactly once, ending where the label begins
 * @param labelSuffix appended to every label, e.g. {@code </s>} so a label must also end there
 */
public record PromptTemplate(String version, String text, String labelSuffix) {

  /** Placeholder the note replaces. */
  public static final String NOTE = "{note}";

  /** The default template: {@code ### Note:\n{note}\n### Protocol:\n}, labels end with EOS. */
  public static final PromptTemplate DEFAULT =
      new PromptTemplate("v1", "### Note:\n{note}\n### Protocol:\n", "</s>");

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

  /** The prompt for {@code note}. */
  public String render(String note) {
    requireNonNull(note, "note");
    return text.replace(NOTE, note);
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
