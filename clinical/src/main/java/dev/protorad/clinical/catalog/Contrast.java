package dev.protorad.clinical.catalog;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/** The catalog's {@code contrast} vocabulary. */
public enum Contrast {
  NONE("none"),
  IV("iv"),
  ORAL("oral"),
  BOTH("both"),
  WITH_AND_WITHOUT("with-and-without");

  private final String yamlName;

  Contrast(String yamlName) {
    this.yamlName = yamlName;
  }

  /** The value as written in {@code protocols.yaml}. */
  public String yamlName() {
    return yamlName;
  }

  /** Whether any contrast agent is given (every value except {@link #NONE}). */
  public boolean isGiven() {
    return this != NONE;
  }

  /**
   * Parses a catalog value.
   *
   * @throws IllegalArgumentException naming the allowed values when {@code value} is not one
   */
  public static Contrast fromYaml(String value) {
    String v = value == null ? "" : value.trim().toLowerCase(Locale.ROOT);
    for (Contrast c : values()) {
      if (c.yamlName.equals(v)) {
        return c;
      }
    }
    throw new IllegalArgumentException(
        "contrast: " + value + " (expected one of: " + allowed() + ")");
  }

  static String allowed() {
    return Arrays.stream(values()).map(Contrast::yamlName).collect(Collectors.joining(", "));
  }
}
