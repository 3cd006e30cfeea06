/**
 * LoRA adapters in the Hugging Face PEFT format ({@code adapter_config.json} + {@code
 * adapter_model.safetensors}), with PEFT's target-module, rank/alpha-pattern and rsLoRA semantics.
 */
@NullMarked
package dev.protorad.engine.peft;

import org.jspecify.annotations.NullMarked;
