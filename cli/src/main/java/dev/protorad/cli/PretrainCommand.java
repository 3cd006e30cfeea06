package dev.protorad.cli;

import dev.protorad.clinical.catalog.Catalog;
import dev.protorad.engine.ModelConfig;
import dev.protorad.engine.model.EngineSettings;
import dev.protorad.engine.model.LlamaTokenizer;
import dev.protorad.engine.model.PromptTemplate;
import dev.protorad.training.DemoCorpus;
import dev.protorad.training.data.SyntheticDataset;
import dev.protorad.training.data.SyntheticNotes;
import dev.protorad.training.lm.PretrainOptions;
import dev.protorad.training.lm.Pretrainer;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code protorad pretrain --out DIR}: pretrains the embedded demo base, a small Llama causal LM,
 * from scratch on the project's own corpus ({@link DemoCorpus}) with the Llama-2 tokenizer.
 */
@Command(
    name = "pretrain",
    mixinStandardHelpOptions = true,
    description =
        "Pretrain a small Llama-architecture causal LM from scratch on the project's synthetic"
            + " notes and catalog, and write it in Hugging Face layout (F16, tied embeddings).")
public final class PretrainCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Option(names = "--out", required = true, description = "Directory to write the model to.")
  Path out;

  @Option(
      names = "--tokenizer",
      defaultValue = "models/llama2-tokenizer/tokenizer.json",
      description = "Llama-2 tokenizer.json (default: ${DEFAULT-VALUE}).")
  Path tokenizer;

  @Option(names = "--notes", defaultValue = "3000", description = "Synthetic notes generated.")
  int notes;

  @Option(names = "--data-seed", defaultValue = "7", description = "Seed of the synthetic notes.")
  long dataSeed;

  @Option(names = "--hidden", defaultValue = "192", description = "hidden_size.")
  int hidden;

  @Option(names = "--intermediate", defaultValue = "512", description = "intermediate_size.")
  int intermediate;

  @Option(names = "--layers", defaultValue = "3", description = "num_hidden_layers.")
  int layers;

  @Option(names = "--heads", defaultValue = "4", description = "num_attention_heads.")
  int heads;

  @Option(names = "--steps", defaultValue = "500", description = "Optimizer steps.")
  int steps;

  @Option(names = "--batch", defaultValue = "16", description = "Sequences per step.")
  int batch;

  @Option(names = "--max-tokens", defaultValue = "128", description = "Longest sequence kept.")
  int maxTokens;

  @Option(names = "--lr", defaultValue = "2e-3", description = "Peak learning rate.")
  double learningRate;

  @Option(names = "--seed", defaultValue = "1", description = "Initialisation and batch order.")
  long seed;

  @Override
  public Integer call() throws IOException {
    // One intra-op thread: on a shared CPU, PyTorch's spinning worker threads cost 40x here.
    EngineSettings.applyDefaults();
    Catalog catalog = Catalog.loadDefault();
    SyntheticDataset dataset =
        SyntheticNotes.builder(catalog).seed(dataSeed).build().generate(notes);
    String source = "SyntheticNotes(n=" + notes + ", seed=" + dataSeed + ")";
    DemoCorpus corpus = DemoCorpus.build(catalog, dataset, PromptTemplate.forBareBase(), source);
    long start = System.nanoTime();
    Pretrainer.Result r =
        Pretrainer.of(options()).run(tokenized(corpus), tokenizer, out, p -> progress(p, start));
    double seconds = (System.nanoTime() - start) / 1e9;
    Files.writeString(out.resolve("PROVENANCE.txt"), provenance(corpus, r, seconds));
    PrintWriter o = spec.commandLine().getOut();
    o.printf(
        Locale.ROOT,
        "wrote %s: %d parameters, loss %.3f -> %.3f, %d corpus tokens types, %.0f s%n",
        out,
        r.parameters(),
        r.firstLoss(),
        r.finalLoss(),
        r.vocabularyUsed(),
        seconds);
    return 0;
  }

  private List<int[]> tokenized(DemoCorpus corpus) throws IOException {
    try (LlamaTokenizer t = LlamaTokenizer.load(tokenizer)) {
      return corpus.documents().stream().map(t::encode).toList();
    }
  }

  private PretrainOptions options() {
    ModelConfig config =
        ModelConfig.of(hidden, intermediate, layers, heads, heads, 32_000, 512, true);
    return new PretrainOptions(
        config, steps, batch, maxTokens, learningRate, Math.max(1, steps / 20), 0.01, 1.0, seed);
  }

  private void progress(Pretrainer.Progress p, long start) {
    if (p.step() % 10 == 0 || p.step() == p.totalSteps()) {
      PrintWriter o = spec.commandLine().getOut();
      o.printf(
          Locale.ROOT,
          "step %d/%d loss %.4f lr %.2e %.0f tok/s %.0f s%n",
          p.step(),
          p.totalSteps(),
          p.loss(),
          p.learningRate(),
          p.tokensPerSecond(),
          (System.nanoTime() - start) / 1e9);
      o.flush();
    }
  }

  private String provenance(DemoCorpus corpus, Pretrainer.Result r, double seconds) {
    StringBuilder sb = new StringBuilder("# Pretraining corpus and run\n\n");
    corpus.provenance().forEach(p -> sb.append("- ").append(p).append('\n'));
    sb.append(
        String.format(
            Locale.ROOT,
            "%nhidden=%d intermediate=%d layers=%d heads=%d steps=%d batch=%d max_tokens=%d"
                + " lr=%s seed=%d%nloss %.4f -> %.4f (EMA), %d token types used, %.0f s%n",
            hidden,
            intermediate,
            layers,
            heads,
            steps,
            batch,
            maxTokens,
            learningRate,
            seed,
            r.firstLoss(),
            r.finalLoss(),
            r.vocabularyUsed(),
            seconds));
    return sb.toString();
  }
}
