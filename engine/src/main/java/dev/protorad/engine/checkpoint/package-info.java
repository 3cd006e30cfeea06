/**
 * Llama base checkpoints: loading a Hugging Face directory (FP, quantized on load, or pre-quantized
 * in the bitsandbytes layout) into a {@link dev.protorad.engine.checkpoint.BaseCheckpoint}, writing
 * pre-quantized checkpoints, memory reports, and random checkpoints for scale work.
 */
@NullMarked
package dev.protorad.engine.checkpoint;

import org.jspecify.annotations.NullMarked;
