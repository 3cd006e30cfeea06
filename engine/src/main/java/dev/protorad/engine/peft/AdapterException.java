package dev.protorad.engine.peft;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * A PEFT LoRA adapter is missing, malformed, unsupported or does not fit the base model. The
 * message names the file and, where one is at fault, the tensor or configuration key.
 */
public final class AdapterException extends IOException {
  private static final long serialVersionUID = 1L;

  private final transient @Nullable Path file;
  private final @Nullable String item;

  /**
   * @param file the file at fault
   * @param item the tensor or {@code adapter_config.json} key at fault, or {@code null}
   * @param detail what is wrong
   */
  public AdapterException(@Nullable Path file, @Nullable String item, String detail) {
    this(file, item, detail, null);
  }

  /** As {@link #AdapterException(Path, String, String)}, with a cause. */
  public AdapterException(
      @Nullable Path file, @Nullable String item, String detail, @Nullable Throwable cause) {
    super(file + ": " + (item == null ? "" : item + ": ") + detail, cause);
    this.file = file;
    this.item = item;
  }

  /** The file at fault. */
  public @Nullable Path file() {
    return file;
  }

  /** The tensor or key at fault, when one is. */
  public Optional<String> item() {
    return Optional.ofNullable(item);
  }
}
