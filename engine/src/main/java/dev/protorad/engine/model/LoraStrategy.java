package dev.protorad.engine.model;

/** How the LoRA deltas of a batch whose rows use different adapters are computed. */
public enum LoraStrategy {
  /**
   * {@link #GATHER} for steps of at least twice the largest rank over three or more groups (prefill
   * with many adapters), else {@link #GROUPED} (decoding, few adapters).
   */
  AUTO,
  /** Stack each row's {@code A} and {@code B} and run two batched matmuls over the whole batch. */
  GATHER,
  /** Select the rows of each adapter, run its two matmuls, scatter the deltas back. */
  GROUPED
}
