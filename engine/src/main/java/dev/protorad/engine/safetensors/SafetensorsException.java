package dev.protorad.engine.safetensors;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * A safetensors file is missing, truncated, lies in its header, or holds a tensor that cannot be
 * used as asked. The message names the file and, where one is at fault, the tensor.
 */
public final class SafetensorsException extends IOException {
  private static final long serialVersionUID = 1L;

  private final transient @Nullable Path file;
  private final @Nullable String tensor;

  /**
   * @param file the file at fault
   * @param tensor the tensor at fault, or {@code null} when the file as a whole is
   * @param detail what is wrong
   */
  public SafetensorsException(@Nullable Path file, @Nullable String tensor, String detail) {
    this(file, tensor, detail, null);
  }

  /** As {@link #SafetensorsException(Path, String, String)}, with a cause. */
  public SafetensorsException(
      @Nullable Path file, @Nullable String tensor, String detail, @Nullable Throwable cause) {
    super(file + (tensor == null ? "" : ": tensor " + tensor) + ": " + detail, cause);
    this.file = file;
    this.tensor = tensor;
  }

  /** The file at fault. */
  public @Nullable Path file() {
    return file;
  }

  /** The tensor at fault, when one is. */
  public Optional<String> tensor() {
    return Optional.ofNullable(tensor);
  }
}
