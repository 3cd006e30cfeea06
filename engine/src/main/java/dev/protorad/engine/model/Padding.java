package dev.protorad.engine.model;

/** Where the pad slots of a shorter sequence go in a batch. */
public enum Padding {
  /** Tokens first, pads after: positions start at 0 in every row. */
  RIGHT,
  /** Pads first, tokens last: the last slot of every row is its last token (for generation). */
  LEFT
}
