package dev.protorad.server.serving;

import static java.util.Objects.requireNonNull;

import dev.protorad.clinical.catalog.Catalog;
import dev.protorad.engine.ModelConfig;
import dev.protorad.engine.checkpoint.BaseCheckpoint;
import dev.protorad.engine.checkpoint.BaseStream;
import dev.protorad.engine.checkpoint.LoadOptions;
import dev.protorad.engine.model.EngineSettings;
import dev.protorad.engine.model.LabelScorer;
import dev.protorad.engine.model.LlamaModel;
import dev.protorad.engine.model.LlamaTokenizer;
import dev.protorad.engine.model.PromptTemplate;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;

/**
 * The loaded base model with its tokenizer and the predictor over the catalog: what the server
 * holds once start-up has loaded the checkpoint (NF4-quantizing it if it is FP).
 */
public final class ServingModel implements AutoCloseable {

  private final Path dir;
  private final LlamaModel model;
  private final LlamaTokenizer tokenizer;
  private final ProtocolPredictor predictor;
  private final String fingerprint;

  private ServingModel(
      Path dir,
      LlamaModel model,
      LlamaTokenizer tokenizer,
      ProtocolPredictor predictor,
      String fingerprint) {
    this.dir = dir;
    this.model = model;
    this.tokenizer = tokenizer;
    this.predictor = predictor;
    this.fingerprint = fingerprint;
  }

  /**
   * Loads the Hugging Face checkpoint in {@code dir} and prepares scoring over {@code catalog}. The
   * base streams onto the device one layer at a time ({@link BaseStream}): the process never holds
   * it whole in Java arrays.
   */
  public static ServingModel load(Path dir, Catalog catalog, double reviewThreshold)
      throws IOException {
    requireNonNull(dir, "dir");
    requireNonNull(catalog, "catalog");
    EngineSettings.applyDefaults();
    LlamaModel model;
    String fingerprint;
    Path tokenizerJson;
    try (BaseStream stream = BaseCheckpoint.stream(dir, LoadOptions.defaults())) {
      model = build(LlamaModel.builder(stream));
      fingerprint = stream.fingerprint();
      tokenizerJson = stream.tokenizerJson();
    }
    try {
      LlamaTokenizer tokenizer = LlamaTokenizer.load(tokenizerJson);
      LabelScorer scorer = LabelScorer.create(model, tokenizer, PromptTemplate.forNewAdapter());
      ProtocolPredictor predictor =
          ProtocolPredictor.create(scorer, catalog, fingerprint, reviewThreshold);
      return new ServingModel(dir, model, tokenizer, predictor, fingerprint);
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

  /** The architecture of the base. */
  public ModelConfig config() {
    return model.config();
  }

  /**
   * Loads the base again, in Java arrays, for a fine-tuning run: the serving model holds it only on
   * the device.
   */
  public BaseCheckpoint loadCheckpoint() throws IOException {
    return BaseCheckpoint.load(dir, LoadOptions.defaults());
  }

  public LlamaTokenizer tokenizer() {
    return tokenizer;
  }

  public LlamaModel model() {
    return model;
  }

  public ProtocolPredictor predictor() {
    return predictor;
  }

  /** Fingerprint of the base checkpoint, recorded with every prediction. */
  public String fingerprint() {
    return fingerprint;
  }

  @Override
  public void close() {
    model.close();
    tokenizer.close();
  }
}
