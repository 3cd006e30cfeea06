package dev.protorad.training.data;

import java.util.Arrays;
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

  /**
   * The split of a line that names none, drawn from a hash of its note ({@link
   * NearDuplicates#normalize} first, so copies that differ in case or punctuation land together):
   * one in ten test, one in ten validation, the rest train.
   */
  public static Split byHash(String note) {
    int bucket = Math.floorMod(NearDuplicates.normalize(note).hashCode(), 10);
    return bucket == 0 ? TEST : bucket == 1 ? VALIDATION : TRAIN;
  }

  /** Parses the JSONL spelling; empty when {@code value} is not a split name. */
  public static Optional<Split> fromJson(String value) {
    return Arrays.stream(values()).filter(s -> s.jsonName().equals(value)).findFirst();
  }
}
