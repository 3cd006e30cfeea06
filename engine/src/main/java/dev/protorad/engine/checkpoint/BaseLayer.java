package dev.protorad.engine.checkpoint;

import static java.util.Objects.requireNonNull;

import dev.protorad.engine.nf4.Nf4Tensor;

/**
 * One decoder layer of a base as {@link BaseStream#nextLayer} reads it. Arrays are held, not
 * copied.
 *
 * @param index the layer, from 0
 * @param inputNorm RMSNorm weight before attention, {@code [hidden]}
 * @param postAttentionNorm RMSNorm weight before the MLP, {@code [hidden]}
 * @param projections the NF4 weights, indexed by {@link Projection#ordinal()}
 */
public record BaseLayer(
    int index, float[] inputNorm, float[] postAttentionNorm, Nf4Tensor[] projections) {

  /** Checks the parts are present. */
  public BaseLayer {
    requireNonNull(inputNorm, "inputNorm");
    requireNonNull(postAttentionNorm, "postAttentionNorm");
    requireNonNull(projections, "projections");
    if (projections.length != Projection.values().length) {
      throw new IllegalArgumentException(
          "projections: " + projections.length + " (expected: " + Projection.values().length + ")");
    }
  }

  /** The NF4 weight {@code [out, in]} of projection {@code p}. */
  public Nf4Tensor projection(Projection p) {
    return projections[requireNonNull(p, "p").ordinal()];
  }
}
