package dev.protorad.engine.model;

/**
 * One label's score.
 *
 * @param index position of the label in the list scored
 * @param label the label text
 * @param probability its share of the distribution over the labels scored
 * @param logLikelihood total log-likelihood of its tokens (suffix included) after the prompt
 */
public record RankedLabel(int index, String label, double probability, double logLikelihood) {}
