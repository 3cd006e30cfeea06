package dev.protorad.engine.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import dev.protorad.engine.ModelConfig;
import org.jspecify.annotations.Nullable;

/**
 * Keys and values of every layer, preallocated as {@code [batch, kvHeads, capacity, headDim]} and
 * written in place, with an optional read-only shared prefix.
 *
 * <p>The prefix is another cache (the prompt of a scoring request, or the prompts of a batch of
 * requests). With a prefix of batch {@code P}, this cache's rows form {@code P} groups of {@code
 * batch / P} consecutive rows, and group {@code g} reads prefix row {@code g}. Attention broadcasts
 * the prefix keys over a group's rows instead of copying them: scoring 100 labels over a 600-token
 * prompt would otherwise copy the prompt's keys 100 times per layer. Prefix slots that are padding
 * (a right-padded batch of prompts of different lengths) are masked.
 */
final class KvCache {

  private final int batch;
  private final int capacity;
  private final NDArray[] keys;
  private final NDArray[] values;
  private final boolean[] valid; // [batch * capacity]
  @Nullable private final KvCache prefix;
  private int length;

  private KvCache(ModelConfig c, int batch, int capacity, NDManager m, @Nullable KvCache prefix) {
    this.batch = batch;
    this.capacity = capacity;
    this.prefix = prefix;
    Shape shape = new Shape(batch, c.numKeyValueHeads(), capacity, c.headDim());
    keys = new NDArray[c.numHiddenLayers()];
    values = new NDArray[c.numHiddenLayers()];
    for (int l = 0; l < keys.length; l++) {
      keys[l] = m.zeros(shape);
      values[l] = m.zeros(shape);
    }
    valid = new boolean[batch * capacity];
  }

  /** A cache of {@code capacity} slots per row, owned by {@code manager}. */
  static KvCache allocate(
      ModelConfig config, int batch, int capacity, NDManager manager, @Nullable KvCache prefix) {
    if (prefix != null && (batch % prefix.batch != 0 || prefix.prefix != null)) {
      throw new IllegalArgumentException(
          "prefix: batch "
              + prefix.batch
              + " (expected: a cache without a prefix whose batch divides "
              + batch
              + ")");
    }
    return new KvCache(config, batch, capacity, manager, prefix);
  }

  int batch() {
    return batch;
  }

  /** Slots written so far in every row. */
  int length() {
    return length;
  }

  @Nullable KvCache prefix() {
    return prefix;
  }

  /** Rows that share one prefix row: {@code batch / prefix batch} (the batch without a prefix). */
  int groupSize() {
    return prefix == null ? batch : batch / prefix.batch;
  }

  /** Writes {@code k}, {@code v} ({@code [batch, kvHeads, t, headDim]}) at the current length. */
  void write(int layer, NDArray k, NDArray v) {
    long t = k.getShape().get(2);
    NDIndex at = new NDIndex(":, :, {}:{}, :", length, length + t);
    keys[layer].set(at, k);
    values[layer].set(at, v);
  }

  /** Keys of slots {@code [0, end)}, a view owned by {@code scratch}. */
  NDArray keys(int layer, int end, NDManager scratch) {
    return keys[layer].get(scratch, new NDIndex(":, :, 0:{}, :", end));
  }

  /** Values of slots {@code [0, end)}, a view owned by {@code scratch}. */
  NDArray values(int layer, int end, NDManager scratch) {
    return values[layer].get(scratch, new NDIndex(":, :, 0:{}, :", end));
  }

  boolean valid(int row, int slot) {
    return valid[row * capacity + slot];
  }

  /** Checks room for {@code step} before a forward pass. */
  void checkRoom(StepInput step) {
    if (step.batch() != batch) {
      throw new IllegalArgumentException(
          "batch: " + step.batch() + " (expected: " + batch + ", the cache's batch)");
    }
    if (length + step.length() > capacity) {
      throw new IllegalStateException(
          "KV cache full: " + length + " + " + step.length() + " > capacity " + capacity);
    }
  }

  /** Records the slots of {@code step} as written (call after the last layer). */
  void advance(StepInput step) {
    for (int b = 0; b < batch; b++) {
      for (int i = 0; i < step.length(); i++) {
        valid[b * capacity + length + i] = step.valid()[b * step.length() + i];
      }
    }
    length += step.length();
  }

  /**
   * The additive attention mask {@code [batch, 1, 1, t, prefix + length + t]} for {@code step}:
   * causal over this cache's slots, pads excluded, every real slot of the row's prefix row visible
   * (a tree step has {@link #treeMask} instead). Fully masked rows (pad queries under left padding)
   * get a finite minimum, not -inf, so softmax stays finite.
   */
  float[] mask(StepInput step) {
    if (step.ancestors() != null) {
      throw new IllegalArgumentException("a tree step: use treeMask");
    }
    int t = step.length();
    int p = prefix == null ? 0 : prefix.length;
    int s = p + length + t;
    float[] mask = new float[batch * t * s];
    for (int b = 0; b < batch; b++) {
      for (int i = 0; i < t; i++) {
        int row = (b * t + i) * s;
        maskPrefix(mask, row, b, p);
        for (int j = 0; j < length + t; j++) {
          if (!seen(step, b, i, j)) {
            mask[row + p + j] = MASKED;
          }
        }
      }
    }
    return mask;
  }

  /**
   * The additive mask {@code [batch, 1, 1, t, prefix + depth]} of a tree step into this empty
   * cache: the real slots of the row's prefix row, then each node's {@code ancestors} (slots past a
   * node's own ancestors masked).
   */
  float[] treeMask(StepInput step, int depth) {
    int[][] ancestors = java.util.Objects.requireNonNull(step.ancestors(), "ancestors");
    if (length != 0) {
      throw new IllegalStateException("a tree step must be the first into its cache");
    }
    int t = step.length();
    int p = prefix == null ? 0 : prefix.length;
    int s = p + depth;
    float[] mask = new float[batch * t * s];
    for (int b = 0; b < batch; b++) {
      for (int i = 0; i < t; i++) {
        int row = (b * t + i) * s;
        maskPrefix(mask, row, b, p);
        for (int k = ancestors[i].length; k < depth; k++) {
          mask[row + p + k] = MASKED;
        }
      }
    }
    return mask;
  }

  /** Masks the pad slots of row {@code b}'s prefix row in the mask row starting at {@code row}. */
  private void maskPrefix(float[] mask, int row, int b, int p) {
    KvCache shared = prefix;
    if (shared == null) {
      return;
    }
    int group = groupSize();
    for (int j = 0; j < p; j++) {
      if (!shared.valid(b / group, j)) {
        mask[row + j] = MASKED;
      }
    }
  }

  /** Whether query slot {@code i} of row {@code b} of {@code step} sees this cache's slot j. */
  private boolean seen(StepInput step, int b, int i, int j) {
    if (j < length) {
      return valid(b, j);
    }
    int k = j - length;
    return k <= i && step.valid()[b * step.length() + k];
  }

  static final float MASKED = -1e30f;
}
