package dev.protorad.engine;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * A base checkpoint or its {@code config.json} is missing, malformed or inconsistent. The message
 * names the file and, where one is at fault, the tensor or the configuration key.
 */
public class CheckpointException extends IOException {
  private static final long serialVersionUID = 1L;

  private final transient @Nullable Path file;
  private final @Nullable String item;

  /**
   * @param file the file at fault, or {@code null} when none is
   * @param item the tensor name or config key at fault, or {@code null}
   * @param detail what is wrong
   */
  public CheckpointException(@Nullable Path file, @Nullable String item, String detail) {
    this(file, item, detail, null);
  }

  /** As {@link #CheckpointException(Path, String, String)}, with a cause. */
  public CheckpointException(
      @Nullable Path file, @Nullable String item, String detail, @Nullable Throwable cause) {
    super(message(file, item, detail), cause);
    this.file = file;
    this.item = item;
  }

  /** The file at fault, when known. */
  public Optional<Path> file() {
    return Optional.ofNullable(file);
  }

  /** The tensor name or configuration key at fault, when known. */
  public Optional<String> item() {
    return Optional.ofNullable(item);
  }

  private static String message(@Nullable Path file, @Nullable String item, String detail) {
    StringBuilder sb = new StringBuilder();
    if (file != null) {
      sb.append(file).append(": ");
    }
    if (item != null) {
      sb.append(item).append(": ");
    }
    return sb.append(detail).toString();
  }
}
