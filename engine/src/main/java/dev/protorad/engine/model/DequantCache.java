package dev.protorad.engine.model;

/** Whether the dequantized projection weights are kept on the device between calls. */
public enum DequantCache {
  /** Cache on CPU when the dense weights fit the configured threshold; never on GPU. */
  AUTO,
  /** Always keep dense weights (memory for speed). */
  ON,
  /** Dequantize every projection on every call, as bitsandbytes does. */
  OFF
}
