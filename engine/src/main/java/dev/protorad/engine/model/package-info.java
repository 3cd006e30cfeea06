/**
 * The Llama decoder on DJL: NF4 dequantization, rotary grouped-query attention with a preallocated
 * KV cache, LoRA deltas for mixed-adapter batches, label scoring and greedy generation.
 *
 * <p>Typical use by serving:
 *
 * <pre>{@code
 * EngineSettings.applyDefaults();                      // before any DJL use: 1 intra-op thread
 * BaseStream base = BaseCheckpoint.stream(dir, LoadOptions.defaults());
 * LlamaModel model = LlamaModel.builder(base)           // reads, quantizes and copies the base
 *     .embeddingPrecision(Precision.FP16)               //   one layer at a time
 *     .build();                                         // GPU when libtorch has CUDA, else CPU
 * String fingerprint = base.fingerprint();              // once the whole base has been read
 * LlamaTokenizer tokenizer = LlamaTokenizer.load(base.tokenizerJson());
 * AdapterHandle adapter = model.loadAdapter("chest-ct@3", peftAdapter); // close on eviction
 * LabelScorer scorer = LabelScorer.create(model, tokenizer, PromptTemplate.DEFAULT);
 * LabelScores one = scorer.score(note, catalogNames, adapter, 3);
 * List<LabelScores> many = scorer.scoreBatch(requests, catalogNames); // adapters mixed per row
 * }</pre>
 *
 * <p>DJL types ({@code NDArray}, {@code NDManager}) stay inside {@code engine}: the public API of
 * this package speaks in token ids, strings and float arrays. Every request runs in its own {@code
 * NDManager} with one sub-manager per layer; see {@link dev.protorad.engine.model.LlamaModel}.
 */
@NullMarked
package dev.protorad.engine.model;

import org.jspecify.annotations.NullMarked;
