/**
 * The safetensors format in plain Java: a validating, memory-mapped reader for single and sharded
 * files ({@link dev.protorad.engine.safetensors.TensorSource}), a streaming writer, and exact
 * F16/BF16 conversions. Every error is a {@link
 * dev.protorad.engine.safetensors.SafetensorsException} naming the file and tensor.
 */
@NullMarked
package dev.protorad.engine.safetensors;

import org.jspecify.annotations.NullMarked;
