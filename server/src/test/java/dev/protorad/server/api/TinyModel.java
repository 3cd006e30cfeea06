package dev.protorad.server.api;

import dev.protorad.clinical.catalog.Catalog;
import dev.protorad.engine.ModelConfig;
import dev.protorad.engine.checkpoint.RandomCheckpoint;
import dev.protorad.server.serving.ServingModel;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A tiny random Llama checkpoint written in Hugging Face layout and loaded through the real loading
 * path (NF4 quantization included), once per test JVM. Its answers are arbitrary but come from real
 * forward passes over the real tokenizer and catalog.
 */
public final class TinyModel {

  private static ServingModel shared;

  private TinyModel() {}

  public static synchronized ServingModel shared() {
    if (shared == null) {
      shared = load();
    }
    return shared;
  }

  /** Writes the tiny checkpoint (Hugging Face layout) into {@code dir}. */
  public static Path writeCheckpoint(Path dir) throws IOException {
    ModelConfig config =
        new ModelConfig(64, 128, 2, 4, 2, 1e-5, 10_000.0, 32_000, 1024, true, 1, 2);
    RandomCheckpoint.builder(config).seed(7).tokenizer(tokenizer()).build().write(dir);
    return dir;
  }

  private static ServingModel load() {
    try {
      Path dir = writeCheckpoint(Files.createTempDirectory("protorad-tiny-model"));
      return ServingModel.load(dir, Catalog.loadDefault(), 0.5);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static Path tokenizer() {
    return RandomCheckpoint.repositoryTokenizer()
        .orElseThrow(() -> new IllegalStateException("repository tokenizer not found"));
  }
}
