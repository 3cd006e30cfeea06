package dev.protorad.server.engine.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import dev.protorad.server.engine.ModelConfig;
import org.jspecify.annotations.Nullable;

/**
 * Keys and values of every layer, preallocated as {@code [batch, kvHeads, capacity, headDim]} and
 * written in place, with an optional read-only shared prefix.
 *
 * <p>The prefix is another cache of batch 1 (the prompt of a scoring request). Attention broadcasts
 * its keys over this cache's rows instead of copying them: scoring 100 labels over a 600-token
 * prompt would otherwise copy the prompt's keys 100 times per layer.
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

  private KvCache(NDArray[] keys, NDArray[] values, int length) {
    this.batch = 1;
    this.capacity = length;
    this.keys = keys;
    this.values = values;
    this.prefix = null;
    this.valid = new boolean[length];
    java.util.Arrays.fill(valid, true);
    this.length = length;
  }

  /** A cache of {@code capacity} slots per row, owned by {@code manager}. */
  static KvCache allocate(
      ModelConfig config, int batch, int capacity, NDManager manager, @Nullable KvCache prefix) {
    if (prefix != null && (prefix.batch != 1 || prefix.prefix != null)) {
      throw new IllegalArgumentException("prefix: expected a cache of batch 1 without a prefix");
    }
    return new KvCache(config, batch, capacity, manager, prefix);
  }

  /**
   * Row {@code row}'s first {@code length} slots as a batch-1 cache (views owned by {@code
   * manager}), to serve as the shared prefix of that row's label continuations. The slots must all
   * be real tokens (a right-padded prompt).
   */
  KvCache row(int row, int length, NDManager manager) {
    if (length > this.length) {
      throw new IllegalArgumentException(
          "length: " + length + " (expected: <= " + this.length + ")");
    }
    for (int j = 0; j < length; j++) {
      if (!valid(row, j)) {
        throw new IllegalArgumentException("row " + row + ": slot " + j + " is padding");
      }
    }
    NDIndex slice = new NDIndex("{}:{}, :, 0:{}, :", row, row + 1, length);
    NDArray[] k = new NDArray[keys.length];
    NDArray[] v = new NDArray[values.length];
    for (int l = 0; l < keys.length; l++) {
      k[l] = keys[l].get(manager, slice);
      v[l] = values[l].get(manager, slice);
    }
    return new KvCache(k, v, length);
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
   * causal over this cache's slots, pads excluded, every prefix slot visible. Fully masked rows
   * (pad queries under left padding) get a finite minimum, not -inf, so softmax stays finite.
   */
  float[] mask(StepInput step) {
    int t = step.length();
    int p = prefix == null ? 0 : prefix.length;
    int s = p + length + t;
    float[] mask = new float[batch * t * s];
    for (int b = 0; b < batch; b++) {
      for (int i = 0; i < t; i++) {
        int row = (b * t + i) * s;
        for (int j = 0; j < length + t; j++) {
          boolean seen =
              j < length ? valid(b, j) : j <= length + i && step.valid()[b * t + j - length];
          if (!seen) {
            mask[row + p + j] = MASKED;
          }
        }
      }
    }
    return mask;
  }

  static final float MASKED = -1e30f;
}
