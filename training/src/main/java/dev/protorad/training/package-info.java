/**
 * Fine-tuning: {@link dev.protorad.training.FineTuner} runs QLoRA over the engine's Llama, {@link
 * dev.protorad.training.Evaluator} scores held-out splits, and {@link
 * dev.protorad.training.GatedEvaluation} fits and applies the review gate.
 */
@NullMarked
package dev.protorad.training;

import org.jspecify.annotations.NullMarked;
