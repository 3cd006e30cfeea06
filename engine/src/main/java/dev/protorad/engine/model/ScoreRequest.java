package dev.protorad.engine.model;

import static java.util.Objects.requireNonNull;

import org.jspecify.annotations.Nullable;

/**
 * One note of a {@link LabelScorer#scoreBatch} call.
 *
 * @param note the note text
 * @param adapter the adapter to score with, or null for the bare base
 * @param topK how many labels the result's top-k holds
 * @param template the template the adapter was trained with, or null for the scorer's own
 */
public record ScoreRequest(
    String note, @Nullable AdapterHandle adapter, int topK, @Nullable PromptTemplate template) {

  /** A request rendered with the scorer's own template. */
  public ScoreRequest(String note, @Nullable AdapterHandle adapter, int topK) {
    this(note, adapter, topK, null);
  }

  /** Checks the arguments. */
  public ScoreRequest {
    requireNonNull(note, "note");
    if (topK < 1) {
      throw new IllegalArgumentException("topK: " + topK + " (expected: >= 1)");
    }
  }
}
