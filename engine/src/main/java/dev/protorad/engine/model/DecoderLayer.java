package dev.protorad.engine.model;

import static java.util.Objects.requireNonNull;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import dev.protorad.engine.ModelConfig;
import dev.protorad.engine.checkpoint.Projection;
import java.util.EnumMap;
import java.util.Map;

/**
 * One Llama decoder layer: pre-norm grouped-query attention and a SwiGLU MLP, each with a residual.
 *
 * <p>Follows Hugging Face transformers {@code modeling_llama} ({@code LlamaDecoderLayer}, {@code
 * LlamaAttention}, {@code apply_rotary_pos_emb} with {@code rotate_half}). Grouped-query attention
 * never repeats keys: queries are shaped {@code [batch, kvHeads, group, t, headDim]} and keys
 * {@code [batch, kvHeads, 1, s, headDim]}, so matmul broadcasts each key head over its group; query
 * head {@code h} reads key head {@code h / group}, as {@code repeat_kv} does.
 */
final class DecoderLayer {

  private final int index;
  private final ModelConfig config;
  private final NDArray inputNorm;
  private final NDArray postAttentionNorm;
  private final Map<Projection, QuantizedLinear> projections;
  private final float scale;

  DecoderLayer(
      int index,
      ModelConfig config,
      NDArray inputNorm,
      NDArray postAttentionNorm,
      EnumMap<Projection, QuantizedLinear> projections) {
    this.index = index;
    this.config = config;
    this.inputNorm = inputNorm;
    this.postAttentionNorm = postAttentionNorm;
    this.projections = projections;
    this.scale = (float) (1.0 / Math.sqrt(config.headDim()));
  }

  Map<Projection, QuantizedLinear> projections() {
    return projections;
  }

  /** The layer's output for hidden states {@code h} ({@code [batch, t, hidden]}). */
  NDArray forward(NDArray h, ForwardContext ctx, NDManager scratch) {
    float eps = (float) config.rmsNormEps();
    NDArray attended = h.add(attention(LlamaOps.rmsNorm(h, inputNorm, eps), ctx, scratch));
    return attended.add(mlp(LlamaOps.rmsNorm(attended, postAttentionNorm, eps), ctx, scratch));
  }

  private NDArray attention(NDArray x, ForwardContext ctx, NDManager scratch) {
    int b = ctx.batch();
    int t = ctx.length();
    int kv = config.numKeyValueHeads();
    int d = config.headDim();
    NDArray q =
        project(Projection.Q_PROJ, x, ctx, scratch).reshape(b, t, kv, config.groupSize(), d);
    q = LlamaOps.rotate(q.transpose(0, 2, 3, 1, 4), ctx.queryCos(), ctx.querySin());
    NDArray k = project(Projection.K_PROJ, x, ctx, scratch).reshape(b, t, kv, d);
    k = LlamaOps.rotate(k.transpose(0, 2, 1, 3), ctx.keyCos(), ctx.keySin());
    NDArray v = project(Projection.V_PROJ, x, ctx, scratch).reshape(b, t, kv, d);
    KvCache cache = ctx.cache();
    cache.write(index, k, v.transpose(0, 2, 1, 3));
    int end = cache.length() + t;
    ForwardContext.TreeKeys tree = ctx.tree();
    NDArray out =
        tree == null
            ? attend(q, cache, end, ctx.mask(), scratch)
            : attendTree(q, cache, tree, ctx.mask(), scratch);
    out = out.transpose(0, 3, 1, 2, 4).reshape(b, t, config.hiddenSize());
    return project(Projection.O_PROJ, out, ctx, scratch);
  }

  /** Softmax attention of {@code q} over the prefix (if any) and this cache's first {@code end}. */
  private NDArray attend(NDArray q, KvCache cache, int end, NDArray mask, NDManager scratch) {
    NDArray keys = cache.keys(index, end, scratch).expandDims(2);
    NDArray values = cache.values(index, end, scratch).expandDims(2);
    NDArray scores = q.matMul(keys.swapAxes(3, 4)).mul(scale);
    KvCache prefix = cache.prefix();
    if (prefix == null) {
      return scores.add(mask).softmax(4).matMul(values);
    }
    int p = prefix.length();
    int groups = prefix.batch();
    Shape qs = q.getShape(); // [batch, kvHeads, groupSize, t, headDim]
    long rows = qs.get(0) / groups;
    long kv = qs.get(1);
    long perGroup = rows * qs.get(2) * qs.get(3);
    // Group g of the rows reads prefix row g. Folding the group's rows into the query axis makes
    // one plain matmul per prefix row and head: [groups, kv, rows * heads * t, headDim] against
    // [groups, kv, headDim, p]. A broadcast matmul would copy the prefix keys once per row.
    NDArray prefixKeys = prefix.keys(index, p, scratch).swapAxes(2, 3);
    NDArray prefixValues = prefix.values(index, p, scratch);
    NDArray prefixScores =
        fold(q, groups, rows, qs, perGroup)
            .matMul(prefixKeys)
            .mul(scale)
            .reshape(groups, kv, rows, qs.get(2), qs.get(3), p)
            .transpose(0, 2, 1, 3, 4, 5)
            .reshape(qs.get(0), kv, qs.get(2), qs.get(3), p);
    NDArray probs = prefixScores.concat(scores, 4).add(mask).softmax(4);
    Shape ps = new Shape(qs.get(0), kv, qs.get(2), qs.get(3), p);
    NDArray fromPrefix =
        fold(probs.get(":, :, :, :, 0:{}", p), groups, rows, ps, perGroup)
            .matMul(prefixValues)
            .reshape(groups, kv, rows, qs.get(2), qs.get(3), qs.get(4))
            .transpose(0, 2, 1, 3, 4, 5)
            .reshape(qs);
    return fromPrefix.add(probs.get(":, :, :, :, {}:", p).matMul(values));
  }

  /**
   * Attention of a tree step ({@code q}: {@code [batch, kvHeads, groupSize, t, headDim]}, the
   * step's keys the first {@code t} slots of {@code cache}): each node reads the prefix and its
   * {@code tree.depth()} gathered ancestor slots, instead of all {@code t} slots under a mask.
   */
  private NDArray attendTree(
      NDArray q, KvCache cache, ForwardContext.TreeKeys tree, NDArray mask, NDManager scratch) {
    Shape qs = q.getShape(); // [batch, kvHeads, groupSize, t, headDim]
    long b = qs.get(0);
    long kv = qs.get(1);
    long g = qs.get(2);
    long t = qs.get(3);
    long d = qs.get(4);
    int depth = tree.depth();
    NDArray keys = gathered(cache.keys(index, (int) t, scratch), tree, b, kv, t, d);
    NDArray values = gathered(cache.values(index, (int) t, scratch), tree, b, kv, t, d);
    // [b, kv, g, t, 1, d] x [b, kv, 1, t, d, depth] -> [b, kv, g, t, depth]
    NDArray treeScores =
        q.reshape(b, kv, g, t, 1, d)
            .matMul(keys.swapAxes(4, 5))
            .reshape(b, kv, g, t, depth)
            .mul(scale);
    KvCache prefix = cache.prefix();
    if (prefix == null) {
      throw new IllegalStateException("a tree step reads its prompts from a prefix cache");
    }
    int p = prefix.length();
    int groups = prefix.batch();
    long rows = b / groups;
    long perGroup = rows * g * t;
    NDArray prefixScores =
        fold(q, groups, rows, qs, perGroup)
            .matMul(prefix.keys(index, p, scratch).swapAxes(2, 3))
            .mul(scale)
            .reshape(groups, kv, rows, g, t, p)
            .transpose(0, 2, 1, 3, 4, 5)
            .reshape(b, kv, g, t, p);
    NDArray probs = prefixScores.concat(treeScores, 4).add(mask).softmax(4);
    Shape ps = new Shape(b, kv, g, t, p);
    NDArray fromPrefix =
        fold(probs.get(":, :, :, :, 0:{}", p), groups, rows, ps, perGroup)
            .matMul(prefix.values(index, p, scratch))
            .reshape(groups, kv, rows, g, t, d)
            .transpose(0, 2, 1, 3, 4, 5)
            .reshape(qs);
    NDArray fromTree =
        probs.get(":, :, :, :, {}:", p).reshape(b, kv, g, t, 1, depth).matMul(values).reshape(qs);
    return fromPrefix.add(fromTree);
  }

  /**
   * {@code x} ({@code [b, kv, t, d]}, the step's slots) gathered at each node's ancestors: {@code
   * [b, kv, 1, t, depth, d]}.
   */
  private static NDArray gathered(
      NDArray x, ForwardContext.TreeKeys tree, long b, long kv, long t, long d) {
    NDArray bySlot = x.transpose(2, 0, 1, 3); // [t, b, kv, d]
    return bySlot
        .get(new NDIndex("{}", tree.indices()))
        .reshape(t, tree.depth(), b, kv, d)
        .transpose(2, 3, 0, 1, 4)
        .reshape(b, kv, 1, t, tree.depth(), d);
  }

  /**
   * {@code x} of shape {@code [groups * rows, kv, heads, t, last]} as {@code [groups, kv, rows *
   * heads * t, last]}: each group's rows side by side along the query axis.
   */
  private static NDArray fold(NDArray x, int groups, long rows, Shape shape, long perGroup) {
    return x.reshape(groups, rows, shape.get(1), shape.get(2), shape.get(3), shape.get(4))
        .transpose(0, 2, 1, 3, 4, 5)
        .reshape(groups, shape.get(1), perGroup, shape.get(4));
  }

  private NDArray mlp(NDArray x, ForwardContext ctx, NDManager scratch) {
    NDArray gate = project(Projection.GATE_PROJ, x, ctx, scratch);
    NDArray up = project(Projection.UP_PROJ, x, ctx, scratch);
    return project(Projection.DOWN_PROJ, LlamaOps.silu(gate).mul(up), ctx, scratch);
  }

  /** The NF4 base projection plus each row's LoRA delta. */
  private NDArray project(Projection p, NDArray x, ForwardContext ctx, NDManager scratch) {
    QuantizedLinear linear = requireNonNull(projections.get(p), "projection");
    NDArray y = linear.apply(x, scratch);
    NDArray delta = ctx.lora().delta(index, p, x, linear.outFeatures(), scratch);
    return delta == null ? y : y.add(delta);
  }
}
