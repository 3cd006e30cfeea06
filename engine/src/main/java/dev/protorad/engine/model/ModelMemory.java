package dev.protorad.engine.model;

/**
 * Bytes a {@link LlamaModel} holds on its device, by kind.
 *
 * @param quantizedBytes NF4 projections with their double-quantization state
 * @param dequantCacheBytes dense projection weights: the dequantized cache, or the FP32 weights of
 *     an unquantized model (0 when neither)
 * @param embeddingBytes embeddings and LM head
 * @param otherBytes norms and rotary tables
 * @param device the device, e.g. {@code cpu()} or {@code gpu(0)}
 */
public record ModelMemory(
    long quantizedBytes,
    long dequantCacheBytes,
    long embeddingBytes,
    long otherBytes,
    String device) {

  /** Whether projections are served from dense copies. */
  public boolean dequantCacheEnabled() {
    return dequantCacheBytes > 0;
  }
}
