package dev.protorad.engine.model;

import static java.util.Objects.requireNonNull;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import dev.protorad.engine.checkpoint.Projection;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * The LoRA adapters of a batch, one per row (or none), and how their deltas are computed.
 *
 * <p>Design (after S-LoRA and Punica's batched LoRA kernels): the base projection runs once for the
 * whole batch; each row adds {@code B_row · A_row · x_row}. Two ways are implemented: <b>gather</b>
 * stacks every row's factors ({@code [batch, r, in]}, {@code [batch, out, r]}, zero for rows
 * without an adapter, ranks zero-padded to the largest) and runs two batched matmuls;
 * <b>grouped</b> selects the rows of each adapter, runs two plain matmuls per adapter and scatters
 * the deltas back through an inverse permutation. Grouping costs one pair of matmuls per distinct
 * adapter; gathering copies the factors once per row and layer.
 */
final class LoraBatch {

  /**
   * Under {@link LoraStrategy#AUTO}, gather when a step has at least this many tokens per unit of
   * the largest rank. Gathering copies {@code r * (in + out)} factor values per row and projection
   * where the row's LoRA work is {@code t * r * (in + out)}: from {@code t >= 2r} the copy is a
   * small share of the work and one pair of batched matmuls beats one pair of matmuls per adapter
   * (fewer ops); for short steps (decoding) the copies dominate and grouping wins.
   */
  static final int GATHER_TOKENS_PER_RANK = 2;

  /** Under {@link LoraStrategy#AUTO}, grouping is kept for at most this many groups. */
  static final int GROUPED_MAX_GROUPS = 2;

  static final LoraBatch NONE = new LoraBatch(new AdapterHandle[0], false, true);

  private final @Nullable AdapterHandle[] rows;
  private final boolean gather;
  private final boolean empty;
  private final List<AdapterHandle> distinct = new ArrayList<>();
  private final List<long[]> groupRows = new ArrayList<>(); // per distinct adapter
  private final long[] bareRows; // rows without an adapter
  private final long[] inverse; // position of each row in the grouped order

  private LoraBatch(@Nullable AdapterHandle[] rows, boolean gather, boolean empty) {
    this.rows = rows;
    this.gather = gather;
    this.empty = empty;
    IdentityHashMap<AdapterHandle, List<Integer>> groups = new IdentityHashMap<>();
    List<Integer> bare = new ArrayList<>();
    for (int b = 0; b < rows.length; b++) {
      AdapterHandle a = rows[b];
      if (a == null) {
        bare.add(b);
      } else {
        if (!groups.containsKey(a)) {
          distinct.add(a);
        }
        groups.computeIfAbsent(a, k -> new ArrayList<>()).add(b);
      }
    }
    inverse = new long[rows.length];
    int at = 0;
    for (AdapterHandle a : distinct) {
      long[] r = toLongs(requireNonNull(groups.get(a), "group"));
      groupRows.add(r);
      for (long row : r) {
        inverse[(int) row] = at++;
      }
    }
    bareRows = toLongs(bare);
    for (long row : bareRows) {
      inverse[(int) row] = at++;
    }
  }

  /** Every row uses {@code adapter} (or none when null). */
  static LoraBatch uniform(@Nullable AdapterHandle adapter, int batch) {
    if (adapter == null) {
      return NONE;
    }
    AdapterHandle[] rows = new AdapterHandle[batch];
    java.util.Arrays.fill(rows, adapter);
    return new LoraBatch(rows, false, false);
  }

  /** Row {@code b} uses {@code adapters.get(b)} (none when null). */
  static LoraBatch of(List<@Nullable AdapterHandle> adapters, LoraStrategy strategy, int length) {
    AdapterHandle[] rows = adapters.toArray(new AdapterHandle[0]);
    boolean any = false;
    for (AdapterHandle a : rows) {
      any |= a != null;
    }
    if (!any) {
      return NONE;
    }
    LoraBatch grouped = new LoraBatch(rows, false, false);
    boolean gather =
        switch (strategy) {
          case GATHER -> true;
          case GROUPED -> false;
          case AUTO ->
              grouped.groupCount() > GROUPED_MAX_GROUPS
                  && length >= GATHER_TOKENS_PER_RANK * grouped.maxRank();
        };
    return gather ? new LoraBatch(rows, true, false) : grouped;
  }

  private int maxRank() {
    int rank = 0;
    for (AdapterHandle a : distinct) {
      rank = Math.max(rank, a.maxRank());
    }
    return rank;
  }

  /** Distinct adapters plus one for the rows without an adapter, if any. */
  int groupCount() {
    return distinct.size() + (bareRows.length > 0 ? 1 : 0);
  }

  boolean usesGather() {
    return gather;
  }

  /**
   * The LoRA delta {@code [batch, t, out]} of projection {@code p} for input {@code x} ({@code
   * [batch, t, in]}), owned by {@code scratch}; null when no row adapts this projection.
   */
  @Nullable NDArray delta(int layer, Projection p, NDArray x, int out, NDManager scratch) {
    if (empty) {
      return null;
    }
    if (groupCount() == 1) {
      AdapterHandle.Factors f = distinct.get(0).factors(layer, p);
      return f == null ? null : lowRank(x, f);
    }
    return gather ? gathered(layer, p, x, out, scratch) : grouped(layer, p, x, out, scratch);
  }

  private static NDArray lowRank(NDArray x, AdapterHandle.Factors f) {
    return LlamaOps.linear(LlamaOps.linear(x, f.a()), f.b());
  }

  @Nullable
  private NDArray grouped(int layer, Projection p, NDArray x, int out, NDManager scratch) {
    Shape shape = x.getShape();
    NDList parts = new NDList();
    boolean any = false;
    for (int g = 0; g < distinct.size(); g++) {
      long[] r = groupRows.get(g);
      AdapterHandle.Factors f = distinct.get(g).factors(layer, p);
      if (f == null) {
        parts.add(scratch.zeros(new Shape(r.length, shape.get(1), out)));
      } else {
        parts.add(lowRank(x.get(new NDIndex("{}", scratch.create(r))), f));
        any = true;
      }
    }
    if (!any) {
      return null;
    }
    if (bareRows.length > 0) {
      parts.add(scratch.zeros(new Shape(bareRows.length, shape.get(1), out)));
    }
    NDArray all = LlamaOps.own(scratch, NDArrays.concat(parts, 0));
    return all.get(new NDIndex("{}", scratch.create(inverse)));
  }

  @Nullable
  private NDArray gathered(int layer, Projection p, NDArray x, int out, NDManager scratch) {
    int rank = 0;
    for (AdapterHandle a : distinct) {
      AdapterHandle.Factors f = a.factors(layer, p);
      rank = Math.max(rank, f == null ? 0 : f.rank());
    }
    if (rank == 0) {
      return null;
    }
    int in = (int) x.getShape().get(2);
    NDList as = new NDList(rows.length);
    NDList bs = new NDList(rows.length);
    for (AdapterHandle a : rows) {
      AdapterHandle.Factors f = a == null ? null : a.factors(layer, p);
      as.add(f == null ? scratch.zeros(new Shape(rank, in)) : padRows(f.a(), rank, scratch));
      bs.add(f == null ? scratch.zeros(new Shape(out, rank)) : padCols(f.b(), rank, scratch));
    }
    NDArray a = LlamaOps.own(scratch, NDArrays.stack(as)).transpose(0, 2, 1);
    NDArray b = LlamaOps.own(scratch, NDArrays.stack(bs)).transpose(0, 2, 1);
    return x.batchMatMul(a).batchMatMul(b);
  }

  private static NDArray padRows(NDArray a, int rank, NDManager scratch) {
    long r = a.getShape().get(0);
    if (r == rank) {
      return a;
    }
    return scratch.zeros(new Shape(rank - r, a.getShape().get(1))).concat(a, 0);
  }

  private static NDArray padCols(NDArray b, int rank, NDManager scratch) {
    long r = b.getShape().get(1);
    if (r == rank) {
      return b;
    }
    return scratch.zeros(new Shape(b.getShape().get(0), rank - r)).concat(b, 1);
  }

  private static long[] toLongs(List<Integer> values) {
    long[] out = new long[values.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = values.get(i);
    }
    return out;
  }
}
