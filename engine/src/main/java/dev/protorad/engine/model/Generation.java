package dev.protorad.engine.model;

/**
 * The result of greedy generation.
 *
 * @param text the generated text, special tokens removed
 * @param tokens the generated token ids (EOS included when reached)
 * @param promptTokens tokens of the prompt, BOS included
 * @param stoppedAtEos whether generation ended at EOS rather than at the token limit
 */
public record Generation(String text, int[] tokens, int promptTokens, boolean stoppedAtEos) {}
