/**
 * The trainable Llama ({@link dev.protorad.training.lm.TrainableLlama}, built on the engine's
 * {@code LlamaOps}), its optimizer and schedule, and pretraining of the demo base.
 */
@NullMarked
package dev.protorad.training.lm;

import org.jspecify.annotations.NullMarked;
