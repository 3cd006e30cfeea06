package dev.protorad.server.serving;

import static java.util.Objects.requireNonNull;

import dev.protorad.server.catalog.Catalog;
import dev.protorad.server.engine.checkpoint.BaseCheckpoint;
import dev.protorad.server.engine.checkpoint.LoadOptions;
import dev.protorad.server.engine.model.EngineSettings;
import dev.protorad.server.engine.model.LabelScorer;
import dev.protorad.server.engine.model.LlamaModel;
import dev.protorad.server.engine.model.LlamaTokenizer;
import dev.protorad.server.engine.model.PromptTemplate;
import java.io.IOException;
import java.nio.file.Path;

/**
 * The loaded base model with its tokenizer and the predictor over the catalog: what the server
 * holds once start-up has loaded the checkpoint (NF4-quantizing it if it is FP).
 */
public final class ServingModel implements AutoCloseable {

  private final BaseCheckpoint checkpoint;
  private final LlamaModel model;
  private final LlamaTokenizer tokenizer;
  private final ProtocolPredictor predictor;
  private final String fingerprint;

  private ServingModel(
      BaseCheckpoint checkpoint,
      LlamaModel model,
      LlamaTokenizer tokenizer,
      ProtocolPredictor predictor,
      String fingerprint) {
    this.checkpoint = checkpoint;
    this.model = model;
    this.tokenizer = tokenizer;
    this.predictor = predictor;
    this.fingerprint = fingerprint;
  }

  /** Loads the Hugging Face checkpoint in {@code dir} and prepares scoring over {@code catalog}. */
  public static ServingModel load(Path dir, Catalog catalog, double reviewThreshold)
      throws IOException {
    requireNonNull(dir, "dir");
    requireNonNull(catalog, "catalog");
    EngineSettings.applyDefaults();
    BaseCheckpoint checkpoint = BaseCheckpoint.load(dir, LoadOptions.defaults());
    LlamaTokenizer tokenizer = LlamaTokenizer.load(checkpoint.tokenizerJson());
    LlamaModel model = LlamaModel.builder(checkpoint).build();
    LabelScorer scorer = LabelScorer.create(model, tokenizer, PromptTemplate.DEFAULT);
    String fingerprint = checkpoint.fingerprint();
    ProtocolPredictor predictor =
        ProtocolPredictor.create(scorer, catalog, fingerprint, reviewThreshold);
    return new ServingModel(checkpoint, model, tokenizer, predictor, fingerprint);
  }

  /** The loaded (NF4) base, shared with fine-tuning. */
  public BaseCheckpoint checkpoint() {
    return checkpoint;
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
