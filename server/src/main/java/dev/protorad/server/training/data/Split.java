package dev.protorad.server.training.data;

import java.util.Locale;
import java.util.Optional;

/** A dataset split. */
public enum Split {
  TRAIN,
  VALIDATION,
  TEST;

  /** The JSONL spelling: {@code train}, {@code validation} or {@code test}. */
  public String jsonName() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** Parses the JSONL spelling; empty when {@code value} is not a split name. */
  public static Optional<Split> fromJson(String value) {
    for (Split s : values()) {
      if (s.jsonName().equals(value)) {
        return Optional.of(s);
      }
    }
    return Optional.empty();
  }
}
