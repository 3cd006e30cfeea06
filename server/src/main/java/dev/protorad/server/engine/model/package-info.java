/**
 * The Llama decoder on DJL: NF4 dequantization, rotary grouped-query attention with a preallocated
 * KV cache, LoRA deltas for mixed-adapter batches, label scoring and greedy generation.
 *
 * <p>DJL types ({@code NDArray}, {@code NDManager}) stay inside {@code engine}: the public API of
 * this package speaks in token ids, strings and float arrays. Every request runs in its own {@code
 * NDManager} with one sub-manager per layer; see {@link
 * dev.protorad.server.engine.model.LlamaModel}.
 */
package dev.protorad.server.engine.model;
