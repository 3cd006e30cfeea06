/**
 * LoRA adapters in the Hugging Face PEFT format ({@code adapter_config.json} + {@code
 * adapter_model.safetensors}), with PEFT's target-module, rank/alpha-pattern and rsLoRA semantics.
 */
package dev.protorad.engine.peft;
