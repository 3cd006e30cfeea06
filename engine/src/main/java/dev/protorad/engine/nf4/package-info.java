/**
 * NF4 quantization with double quantization, compatible with bitsandbytes: quantization, decoding
 * ({@link dev.protorad.engine.nf4.Nf4}), the quantized tensor ({@link
 * dev.protorad.engine.nf4.Nf4Tensor}) and its bitsandbytes serialization ({@link
 * dev.protorad.engine.nf4.BnbLayout}).
 */
@NullMarked
package dev.protorad.engine.nf4;

import org.jspecify.annotations.NullMarked;
