package dev.protorad.testing;

import dev.protorad.engine.ModelConfig;
import dev.protorad.engine.checkpoint.RandomCheckpoint;
import java.io.IOException;
import java.nio.file.Path;

/**
 * A tiny random Llama checkpoint in Hugging Face layout (two layers, hidden 64, the repository's
 * Llama-2 tokenizer), for tests that load a model through the real loading path.
 */
public final class TinyCheckpoint {

  private TinyCheckpoint() {}

  /** Writes the checkpoint into {@code dir} and returns {@code dir}. */
  public static Path write(Path dir) throws IOException {
    ModelConfig config =
        new ModelConfig(64, 128, 2, 4, 2, 1e-5, 10_000.0, 32_000, 1024, true, 1, 2);
    Path tokenizer =
        RandomCheckpoint.repositoryTokenizer()
            .orElseThrow(() -> new IllegalStateException("repository tokenizer not found"));
    RandomCheckpoint.builder(config).seed(7).tokenizer(tokenizer).build().write(dir);
    return dir;
  }
}
