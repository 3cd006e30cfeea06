package dev.protorad.server.serving;

import static java.util.Objects.requireNonNull;

import dev.protorad.server.engine.model.AdapterHandle;
import javax.annotation.Nullable;

/**
 * The adapter a request resolved to.
 *
 * @param version {@code name@version}, or empty for the bare base model
 * @param handle the loaded adapter, or null for the bare base model
 */
public record ResolvedAdapter(String version, @Nullable AdapterHandle handle) {

  /** The bare base model, no adapter. */
  public static final ResolvedAdapter BASE = new ResolvedAdapter("", null);

  public ResolvedAdapter {
    requireNonNull(version, "version");
    if (version.isEmpty() != (handle == null)) {
      throw new IllegalArgumentException("version and handle: both set or both empty");
    }
  }
}
