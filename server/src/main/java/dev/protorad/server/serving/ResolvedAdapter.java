package dev.protorad.server.serving;

import static java.util.Objects.requireNonNull;

import dev.protorad.clinical.gate.VersionGate;
import dev.protorad.engine.model.AdapterHandle;
import dev.protorad.engine.model.PromptTemplate;
import javax.annotation.Nullable;

/**
 * The adapter a request resolved to.
 *
 * @param version {@code name@version}, or empty for the bare base model
 * @param handle the loaded adapter, or null for the bare base model
 * @param template the prompt template the adapter was trained with (notes are rendered with it)
 * @param gate the review gate fitted for the version, or null for the server's threshold
 * @param promoted whether an alias points at the version (the bare base model counts as promoted)
 */
public record ResolvedAdapter(
    String version,
    @Nullable AdapterHandle handle,
    PromptTemplate template,
    @Nullable VersionGate gate,
    boolean promoted) {

  /**
   * The bare base model, no adapter, prompted as the demo base's corpus was written ({@code v1}).
   */
  public static final ResolvedAdapter BASE =
      new ResolvedAdapter("", null, PromptTemplate.forBareBase(), null, true);

  public ResolvedAdapter {
    requireNonNull(version, "version");
    requireNonNull(template, "template");
    if (version.isEmpty() != (handle == null)) {
      throw new IllegalArgumentException("version and handle: both set or both empty");
    }
  }

  /** A promoted adapter without a fitted gate. */
  public ResolvedAdapter(String version, @Nullable AdapterHandle handle, PromptTemplate template) {
    this(version, handle, template, null, true);
  }
}
