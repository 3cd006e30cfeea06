package dev.protorad.engine.safetensors;

import java.util.Optional;

/** Element types named in a safetensors header, with their widths in bytes. */
public enum DType {
  F64(8),
  F32(4),
  F16(2),
  BF16(2),
  I64(8),
  I32(4),
  I16(2),
  I8(1),
  U8(1),
  BOOL(1);

  private final int bytes;

  DType(int bytes) {
    this.bytes = bytes;
  }

  /** Width of one element in bytes. */
  public int bytes() {
    return bytes;
  }

  /** Whether {@link SafetensorsFile#floats} can convert this type to {@code float}. */
  public boolean isFloatingPoint() {
    return this == F64 || this == F32 || this == F16 || this == BF16;
  }

  /** The type spelled {@code name} in a header ({@code "F16"}, {@code "U8"} …), if known. */
  public static Optional<DType> parse(String name) {
    for (DType t : values()) {
      if (t.name().equals(name)) {
        return Optional.of(t);
      }
    }
    return Optional.empty();
  }
}
