package dev.protorad.engine.model;

import static java.util.Objects.requireNonNull;

import dev.protorad.engine.ModelConfig;
import dev.protorad.engine.checkpoint.BaseCheckpoint;
import dev.protorad.engine.checkpoint.BaseStream;
import dev.protorad.engine.checkpoint.LoadOptions;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.function.UnaryOperator;

/**
 * A base checkpoint loaded for use: the one loader the server, the commands and the benchmarks
 * share. It applies the engine's settings, streams the base onto the device one layer at a time
 * ({@link BaseStream}: the Java heap never holds it whole), and loads its tokenizer. Closing it
 * frees both.
 */
public final class BaseModel implements AutoCloseable {

  private final Path dir;
  private final LlamaModel model;
  private final LlamaTokenizer tokenizer;
  private final String fingerprint;

  private BaseModel(Path dir, LlamaModel model, LlamaTokenizer tokenizer, String fingerprint) {
    this.dir = dir;
    this.model = model;
    this.tokenizer = tokenizer;
    this.fingerprint = fingerprint;
  }

  /** Loads the Hugging Face checkpoint in {@code dir} with the builder's defaults. */
  public static BaseModel load(Path dir) throws IOException {
    return load(dir, UnaryOperator.identity());
  }

  /**
   * Loads the Hugging Face checkpoint in {@code dir}; {@code configure} adjusts the model's builder
   * (for example {@code b -> b.preferGpu(false)}).
   *
   * @throws IOException when the checkpoint or its tokenizer cannot be read, with the loader's
   *     message (it names the file and what is wrong)
   */
  public static BaseModel load(Path dir, UnaryOperator<LlamaModel.Builder> configure)
      throws IOException {
    requireNonNull(dir, "dir");
    requireNonNull(configure, "configure");
    EngineSettings.applyDefaults();
    LlamaModel model;
    String fingerprint;
    Path tokenizerJson;
    try (BaseStream stream = BaseCheckpoint.stream(dir, LoadOptions.defaults())) {
      model = build(configure.apply(LlamaModel.builder(stream)));
      fingerprint = stream.fingerprint();
      tokenizerJson = stream.tokenizerJson();
    }
    try {
      return new BaseModel(dir, model, LlamaTokenizer.load(tokenizerJson), fingerprint);
    } catch (IOException | RuntimeException e) {
      model.close();
      throw e;
    }
  }

  private static LlamaModel build(LlamaModel.Builder builder) throws IOException {
    try {
      return builder.build();
    } catch (UncheckedIOException e) {
      throw e.getCause();
    }
  }

  /**
   * Loads the base again, in Java arrays, for a fine-tuning run: this model holds it only on the
   * device.
   */
  public BaseCheckpoint loadCheckpoint() throws IOException {
    return BaseCheckpoint.load(dir, LoadOptions.defaults());
  }

  /** The checkpoint directory. */
  public Path dir() {
    return dir;
  }

  /** The architecture of the base. */
  public ModelConfig config() {
    return model.config();
  }

  /** Fingerprint of the base checkpoint's weights. */
  public String fingerprint() {
    return fingerprint;
  }

  public LlamaModel model() {
    return model;
  }

  public LlamaTokenizer tokenizer() {
    return tokenizer;
  }

  @Override
  public void close() {
    model.close();
    tokenizer.close();
  }
}
