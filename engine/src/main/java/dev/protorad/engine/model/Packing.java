package dev.protorad.engine.model;

/** How {@link LabelScorer} lays out the label tokens of its continuation passes. */
public enum Packing {
  /**
   * One row per label, right-padded to the longest label: every label's tokens run through the
   * model, shared prefixes once per label and padding too.
   */
  PADDED,
  /**
   * The labels as a trie packed into one row per note under a tree attention mask ({@code
   * LabelTrie}): no padding, each shared prefix once, the LM head only at nodes some label goes on
   * after. The same log-likelihoods as {@link #PADDED}, with less work.
   */
  TRIE
}
