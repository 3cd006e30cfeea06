package dev.protorad.engine.model;

import static java.util.Objects.requireNonNull;

import dev.protorad.engine.ModelConfig;
import dev.protorad.engine.checkpoint.BaseCheckpoint;
import dev.protorad.engine.checkpoint.Projection;
import dev.protorad.engine.nf4.Nf4Tensor;
import java.util.Optional;

/**
 * The tensors a {@link LlamaModel} is built from, in Hugging Face layout ({@code [out, in]}
 * row-major). Implemented over a loaded base checkpoint, over a {@code BaseStream} (read as the
 * model is built), and by tests over random weights.
 *
 * <p>A model asks for each tensor once, in this order: the embeddings, the LM head (unless tied),
 * the final norm, then layer by layer (its projections, then its norms); it keeps none of the
 * arrays it is given, so an implementation may read the weights as they are asked for and drop
 * them.
 */
public interface DecoderWeights {

  /** The architecture. */
  ModelConfig config();

  /** {@code model.embed_tokens.weight}, {@code [vocab, hidden]}. */
  float[] embedTokens();

  /** {@code lm_head.weight}, {@code [vocab, hidden]}; ignored when the embeddings are tied. */
  float[] lmHead();

  /** {@code model.norm.weight}, {@code [hidden]}. */
  float[] finalNorm();

  /** {@code model.layers.N.input_layernorm.weight}, {@code [hidden]}. */
  float[] inputNorm(int layer);

  /** {@code model.layers.N.post_attention_layernorm.weight}, {@code [hidden]}. */
  float[] postAttentionNorm(int layer);

  /** The NF4 weight of one projection of one layer. */
  Nf4Tensor projection(int layer, Projection p);

  /**
   * The original FP32 weight {@code [out, in]} of a projection, when the source still holds it
   * (benchmarks, evaluation of the quantization); used only by {@link
   * LlamaModel.Builder#unquantized}.
   */
  default Optional<float[]> unquantizedProjection(int layer, Projection p) {
    return Optional.empty();
  }

  /** {@code model.embed_tokens.weight} as F16 bits, when held that way (avoids an FP32 copy). */
  default Optional<short[]> embedTokensF16() {
    return Optional.empty();
  }

  /** {@code lm_head.weight} as F16 bits, when held that way. */
  default Optional<short[]> lmHeadF16() {
    return Optional.empty();
  }

  /** The weights of a loaded base checkpoint (held, not copied). */
  static DecoderWeights of(BaseCheckpoint checkpoint) {
    requireNonNull(checkpoint, "checkpoint");
    return new DecoderWeights() {
      @Override
      public ModelConfig config() {
        return checkpoint.config();
      }

      @Override
      public float[] embedTokens() {
        return checkpoint.embedTokens();
      }

      @Override
      public float[] lmHead() {
        return checkpoint.lmHead();
      }

      @Override
      public Optional<short[]> embedTokensF16() {
        return Optional.of(checkpoint.embedTokensF16());
      }

      @Override
      public Optional<short[]> lmHeadF16() {
        return Optional.of(checkpoint.lmHeadF16());
      }

      @Override
      public float[] finalNorm() {
        return checkpoint.finalNorm();
      }

      @Override
      public float[] inputNorm(int layer) {
        return checkpoint.inputNorm(layer);
      }

      @Override
      public float[] postAttentionNorm(int layer) {
        return checkpoint.postAttentionNorm(layer);
      }

      @Override
      public Nf4Tensor projection(int layer, Projection p) {
        return checkpoint.projection(layer, p);
      }
    };
  }
}
