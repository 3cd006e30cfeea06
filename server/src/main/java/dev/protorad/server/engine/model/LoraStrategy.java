package dev.protorad.server.engine.model;

/** How the LoRA deltas of a batch whose rows use different adapters are computed. */
public enum LoraStrategy {
  /**
   * {@link #GROUPED} when every row shares one adapter or inputs are short, else {@link #GATHER}.
   */
  AUTO,
  /** Stack each row's {@code A} and {@code B} and run two batched matmuls over the whole batch. */
  GATHER,
  /** Select the rows of each adapter, run its two matmuls, scatter the deltas back. */
  GROUPED
}
