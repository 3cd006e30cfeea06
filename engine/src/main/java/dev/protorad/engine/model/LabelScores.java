package dev.protorad.engine.model;

import java.util.List;

/**
 * The distribution over a list of labels for one note.
 *
 * @param labels every label, in the order given, with its probability and log-likelihood
 * @param topK the {@code k} most probable, most probable first (ties by input order)
 * @param promptTokens tokens of the rendered prompt, BOS included
 * @param templateVersion the prompt template's version
 * @param truncated whether the note was cut to its head and tail to fit the model's context
 */
public record LabelScores(
    List<RankedLabel> labels,
    List<RankedLabel> topK,
    int promptTokens,
    String templateVersion,
    boolean truncated) {

  /** Copies the lists. */
  public LabelScores {
    labels = List.copyOf(labels);
    topK = List.copyOf(topK);
  }

  /** The most probable label. */
  public RankedLabel best() {
    return topK.get(0);
  }
}
