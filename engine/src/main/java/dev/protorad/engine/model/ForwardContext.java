package dev.protorad.engine.model;

import ai.djl.ndarray.NDArray;

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
 * @param mask additive attention mask {@code [batch, 1, 1, t, keys]}
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
    NDArray mask) {}
