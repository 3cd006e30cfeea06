package dev.protorad.server.serving;

import static java.util.Objects.requireNonNull;

import dev.protorad.clinical.catalog.Catalog;
import dev.protorad.engine.ModelConfig;
import dev.protorad.engine.checkpoint.BaseCheckpoint;
import dev.protorad.engine.model.BaseModel;
import dev.protorad.engine.model.LabelScorer;
import dev.protorad.engine.model.LlamaModel;
import dev.protorad.engine.model.LlamaTokenizer;
import dev.protorad.engine.model.PromptTemplate;
import java.io.IOException;
import java.nio.file.Path;

/**
 * The loaded base model with its tokenizer and the predictor over the catalog: what the server
 * holds once start-up has loaded the checkpoint (NF4-quantizing it if it is FP).
 */
public final class ServingModel implements AutoCloseable {

  private final BaseModel base;
  private final ProtocolPredictor predictor;

  private ServingModel(BaseModel base, ProtocolPredictor predictor) {
    this.base = base;
    this.predictor = predictor;
  }

  /**
   * Loads the Hugging Face checkpoint in {@code dir} ({@link BaseModel}: streamed onto the device,
   * never held whole in Java arrays) and prepares scoring over {@code catalog}.
   */
  public static ServingModel load(Path dir, Catalog catalog, double reviewThreshold)
      throws IOException {
    requireNonNull(dir, "dir");
    requireNonNull(catalog, "catalog");
    BaseModel base = BaseModel.load(dir);
    try {
      LabelScorer scorer =
          LabelScorer.create(base.model(), base.tokenizer(), PromptTemplate.forNewAdapter());
      return new ServingModel(
          base, ProtocolPredictor.create(scorer, catalog, base.fingerprint(), reviewThreshold));
    } catch (RuntimeException e) {
      base.close();
      throw e;
    }
  }

  /** The architecture of the base. */
  public ModelConfig config() {
    return base.config();
  }

  /**
   * Loads the base again, in Java arrays, for a fine-tuning run: the serving model holds it only on
   * the device.
   */
  public BaseCheckpoint loadCheckpoint() throws IOException {
    return base.loadCheckpoint();
  }

  public LlamaTokenizer tokenizer() {
    return base.tokenizer();
  }

  public LlamaModel model() {
    return base.model();
  }

  public ProtocolPredictor predictor() {
    return predictor;
  }

  /** Fingerprint of the base checkpoint, recorded with every prediction. */
  public String fingerprint() {
    return base.fingerprint();
  }

  @Override
  public void close() {
    base.close();
  }
}
