package dev.protorad.engine.model;

/** Storage type of dense tensors held on the device. */
public enum Precision {
  /** 32-bit floats. */
  FP32,
  /** 16-bit IEEE floats (never BF16: BF16 arrays abort the JVM under DJL 0.36). */
  FP16
}
