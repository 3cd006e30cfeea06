package dev.protorad.engine.model;

import static java.util.Objects.requireNonNull;

import org.jspecify.annotations.Nullable;

/**
 * One row of a forward batch: its token ids and the adapter it runs with.
 *
 * @param tokens token ids, at least one
 * @param adapter the row's adapter, or null for the bare base model
 */
public record BatchRow(int[] tokens, @Nullable AdapterHandle adapter) {

  /** Checks that the row has tokens. */
  public BatchRow {
    requireNonNull(tokens, "tokens");
    if (tokens.length == 0) {
      throw new IllegalArgumentException("tokens: empty (expected: at least one token)");
    }
  }

  /** A row of the bare base model. */
  public static BatchRow of(int[] tokens) {
    return new BatchRow(tokens, null);
  }

  /** A row with {@code adapter} (null for none). */
  public static BatchRow of(int[] tokens, @Nullable AdapterHandle adapter) {
    return new BatchRow(tokens, adapter);
  }
}
