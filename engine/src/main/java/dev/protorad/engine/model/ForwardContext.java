package dev.protorad.engine.model;

import ai.djl.ndarray.NDArray;
import org.jspecify.annotations.Nullable;

/**
 * What every layer of one forward step shares.
 *
 * @param batch rows
 * @param length new slots per row
 * @param cache the KV cache being written
 * @param lora the rows' adapters
 * @param queryCos rotary cosines shaped for queries {@code [batch, 1, 1, t, headDim]}
 * @param querySin rotary sines shaped for queries
 * @param keyCos rotary cosines shaped for keys {@code [batch, 1, t, headDim]}
 * @param keySin rotary sines shaped for keys
 * @param mask additive attention mask {@code [batch, 1, 1, t, keys]}; for a tree step, {@code keys}
 *     are the prefix's slots and then each node's {@code tree.depth()} ancestor slots
 * @param tree for a tree step (a packed label trie), which of the step's own keys each node reads;
 *     null otherwise
 */
record ForwardContext(
    int batch,
    int length,
    KvCache cache,
    LoraBatch lora,
    NDArray queryCos,
    NDArray querySin,
    NDArray keyCos,
    NDArray keySin,
    NDArray mask,
    @Nullable TreeKeys tree) {

  /**
   * The ancestors (the node itself included) each node of a tree step attends to among the step's
   * own keys, as gather indices.
   *
   * @param indices {@code [t * depth]}: node {@code i}'s ancestors at {@code i * depth ...}, padded
   *     with {@code i} itself (masked)
   * @param depth ancestor slots per node: the deepest node's ancestors
   */
  record TreeKeys(NDArray indices, int depth) {}
}
