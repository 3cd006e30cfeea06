package dev.protorad.server.api;

import dev.protorad.clinical.catalog.Catalog;
import dev.protorad.server.serving.ServingModel;
import dev.protorad.testing.TinyCheckpoint;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The testing module's tiny random Llama checkpoint, loaded through the real loading path (NF4
 * quantization included), once per test JVM. Its answers are arbitrary but come from real forward
 * passes over the real tokenizer and catalog.
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

  private static ServingModel load() {
    try {
      Path dir = TinyCheckpoint.write(Files.createTempDirectory("protorad-tiny-model"));
      return ServingModel.load(dir, Catalog.loadDefault(), 0.5);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
