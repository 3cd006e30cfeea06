package dev.protorad.engine.model;

import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * The tokens of one forward step, laid out as a padded {@code [batch, length]} grid.
 *
 * @param batch rows
 * @param length slots per row
 * @param tokens token ids, row-major; pad slots hold 0
 * @param positions rotary positions, row-major
 * @param valid whether each slot holds a real token
 * @param ancestors when set (a tree step), {@code ancestors[i]}: the slots of its row that slot
 *     {@code i} attends to (the same for every row); when null, each slot attends to the real slots
 *     before it and itself
 */
record StepInput(
    int batch,
    int length,
    long[] tokens,
    long[] positions,
    boolean[] valid,
    int @Nullable [][] ancestors) {

  /**
   * One row per prompt, each holding the nodes of {@code trie}: node {@code n} of row {@code b} at
   * position {@code offsets[b] + depth(n)}, attending to its ancestors only.
   */
  static StepInput packed(LabelTrie trie, int[] offsets) {
    int batch = offsets.length;
    int length = trie.size();
    long[] tokens = new long[batch * length];
    long[] positions = new long[batch * length];
    boolean[] valid = new boolean[batch * length];
    for (int b = 0; b < batch; b++) {
      for (int n = 0; n < length; n++) {
        tokens[b * length + n] = trie.token(n);
        positions[b * length + n] = (long) offsets[b] + trie.depth(n);
      }
    }
    java.util.Arrays.fill(valid, true);
    return new StepInput(batch, length, tokens, positions, valid, trie.ancestors());
  }

  /** One unpadded sequence starting at position {@code offset}. */
  static StepInput of(int[] sequence, int offset) {
    return padded(List.of(sequence), offset, Padding.RIGHT);
  }

  /**
   * Pads {@code sequences} to the longest. Right padding numbers positions {@code offset, offset +
   * 1, …}; left padding numbers the real tokens from {@code offset} as Hugging Face does ({@code
   * cumsum(mask) - 1}).
   */
  static StepInput padded(List<int[]> sequences, int offset, Padding padding) {
    int[] offsets = new int[sequences.size()];
    java.util.Arrays.fill(offsets, offset);
    return padded(sequences, offsets, padding);
  }

  /**
   * As {@link #padded(List, int, Padding)}, with row {@code b} numbered from {@code offsets[b]}.
   */
  static StepInput padded(List<int[]> sequences, int[] offsets, Padding padding) {
    if (offsets.length != sequences.size()) {
      throw new IllegalArgumentException(
          "offsets: " + offsets.length + " (expected: one per sequence, " + sequences.size() + ")");
    }
    int batch = sequences.size();
    int length = 0;
    for (int[] s : sequences) {
      length = Math.max(length, s.length);
    }
    if (batch == 0 || length == 0) {
      throw new IllegalArgumentException("sequences: empty (expected: at least one token)");
    }
    long[] tokens = new long[batch * length];
    long[] positions = new long[batch * length];
    boolean[] valid = new boolean[batch * length];
    for (int b = 0; b < batch; b++) {
      int[] s = sequences.get(b);
      int start = padding == Padding.LEFT ? length - s.length : 0;
      for (int i = 0; i < s.length; i++) {
        int slot = b * length + start + i;
        tokens[slot] = s[i];
        positions[slot] = (long) offsets[b] + i;
        valid[slot] = true;
      }
    }
    return new StepInput(batch, length, tokens, positions, valid, null);
  }

  /** The slot of row {@code b}'s last real token. */
  int lastSlot(int b) {
    for (int i = length - 1; i >= 0; i--) {
      if (valid[b * length + i]) {
        return i;
      }
    }
    throw new IllegalStateException("row " + b + " has no token");
  }
}
