package dev.protorad.engine.model;

import static java.util.Objects.requireNonNull;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.protorad.engine.checkpoint.Projection;
import dev.protorad.engine.peft.LabelVocabulary;
import dev.protorad.engine.peft.LoraPair;
import java.util.Optional;
import java.util.function.BiFunction;
import org.jspecify.annotations.Nullable;

/**
 * A LoRA adapter resident on the model's device, ready to be used by any row of any batch.
 *
 * <p>Obtained from {@link LlamaModel#loadAdapter}; closing it frees its device memory (the adapter
 * cache closes handles it evicts). The scaling ({@code alpha / r}, or {@code alpha / sqrt(r)} with
 * rsLoRA) is folded into {@code B} at upload.
 */
public final class AdapterHandle implements AutoCloseable {

  /** {@code A} ({@code [r, in]}) and scaled {@code B} ({@code [out, r]}) of one projection. */
  record Factors(NDArray a, NDArray b, int rank) {}

  private final String id;
  private final NDManager manager;
  private final @Nullable Factors[][] factors; // [layer][projection]
  private final long deviceBytes;
  private final int maxRank;
  private final @Nullable LabelVocabulary labelVocabulary;

  private AdapterHandle(
      String id,
      NDManager manager,
      @Nullable Factors[][] factors,
      @Nullable LabelVocabulary labelVocabulary) {
    this.id = id;
    this.labelVocabulary = labelVocabulary;
    this.manager = manager;
    this.factors = factors;
    long bytes = 0;
    int rank = 0;
    for (@Nullable Factors[] layer : factors) {
      for (@Nullable Factors f : layer) {
        if (f != null) {
          bytes += 4 * (f.a().size() + f.b().size());
          rank = Math.max(rank, f.rank());
        }
      }
    }
    this.deviceBytes = bytes;
    this.maxRank = rank;
  }

  static AdapterHandle upload(
      String id,
      int layers,
      BiFunction<Integer, Projection, Optional<LoraPair>> pairs,
      LlamaModel.Dims dims,
      NDManager manager,
      @Nullable LabelVocabulary labelVocabulary) {
    requireNonNull(id, "id");
    requireNonNull(pairs, "pairs");
    Projection[] all = Projection.values();
    @Nullable Factors[][] factors = new Factors[layers][all.length];
    try {
      for (int l = 0; l < layers; l++) {
        for (Projection p : all) {
          Optional<LoraPair> pair = pairs.apply(l, p);
          if (pair.isPresent()) {
            factors[l][p.ordinal()] = factors(pair.get(), dims.in(p), dims.out(p), manager, l, p);
          }
        }
      }
    } catch (RuntimeException e) {
      manager.close();
      throw e;
    }
    return new AdapterHandle(id, manager, factors, labelVocabulary);
  }

  private static Factors factors(
      LoraPair pair, int in, int out, NDManager m, int layer, Projection p) {
    if (pair.in() != in || pair.out() != out) {
      throw new IllegalArgumentException(
          "adapter layer "
              + layer
              + " "
              + p
              + ": ["
              + pair.out()
              + " x "
              + pair.in()
              + "] (expected: ["
              + out
              + " x "
              + in
              + "])");
    }
    int r = pair.r();
    NDArray a = m.create(pair.a(), new Shape(r, in));
    float[] scaled = pair.b().clone();
    for (int i = 0; i < scaled.length; i++) {
      scaled[i] *= pair.scaling();
    }
    NDArray b = m.create(scaled, new Shape(out, r));
    return new Factors(a, b, r);
  }

  /** The adapter version this handle serves, e.g. {@code chest-ct@3}. */
  public String id() {
    return id;
  }

  /** Bytes of LoRA factors held on the device (the adapter cache's weigher). */
  public long deviceBytes() {
    return deviceBytes;
  }

  /**
   * The tokens this adapter's labels are scored against, when it was trained with a
   * label-vocabulary softmax; empty: against the whole vocabulary.
   */
  public Optional<LabelVocabulary> labelVocabulary() {
    return Optional.ofNullable(labelVocabulary);
  }

  /** The largest rank over all projections. */
  public int maxRank() {
    return maxRank;
  }

  @Nullable Factors factors(int layer, Projection p) {
    return factors[layer][p.ordinal()];
  }

  /** Frees the device memory; batches already running with this handle must have finished. */
  @Override
  public void close() {
    manager.close();
  }

  @Override
  public String toString() {
    return "AdapterHandle[" + id + ", " + deviceBytes + " bytes]";
  }
}
