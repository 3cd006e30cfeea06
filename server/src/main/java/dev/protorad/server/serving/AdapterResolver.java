package dev.protorad.server.serving;

import java.util.NoSuchElementException;

/** Turns an adapter reference ({@code name@version}, {@code name@alias}, or empty) into weights. */
@FunctionalInterface
public interface AdapterResolver {

  /**
   * Resolves {@code ref}; empty means the server default.
   *
   * @throws NoSuchElementException when no such adapter or alias exists (NOT_FOUND)
   */
  ResolvedAdapter resolve(String ref);

  /** A resolver for a server without an adapter store: only the bare base model. */
  static AdapterResolver baseOnly() {
    return ref -> {
      if (ref.isEmpty()) {
        return ResolvedAdapter.BASE;
      }
      throw new NoSuchElementException("adapter not found: " + ref);
    };
  }
}
