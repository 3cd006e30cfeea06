package dev.protorad.cli;

import dev.protorad.clinical.catalog.Catalog;
import dev.protorad.clinical.catalog.CatalogException;
import dev.protorad.clinical.catalog.Protocol;
import dev.protorad.clinical.gate.ReviewGate;
import dev.protorad.clinical.gate.VersionGate;
import dev.protorad.engine.checkpoint.BaseCheckpoint;
import dev.protorad.engine.checkpoint.LoadOptions;
import dev.protorad.engine.model.EngineSettings;
import dev.protorad.engine.model.LlamaModel;
import dev.protorad.engine.model.LlamaTokenizer;
import dev.protorad.engine.model.PromptTemplate;
import dev.protorad.engine.peft.LoraAdapter;
import dev.protorad.server.adapters.AdapterStore;
import dev.protorad.training.Evaluator;
import dev.protorad.training.GatedEvaluation;
import dev.protorad.training.data.DatasetValidator;
import dev.protorad.training.data.Example;
import dev.protorad.training.data.Split;
import dev.protorad.training.data.ValidatedDataset;
import dev.protorad.training.eval.EvalCharts;
import dev.protorad.training.eval.EvalReport;
import dev.protorad.training.eval.EvaluatedNote;
import dev.protorad.training.eval.Metrics;
import dev.protorad.training.eval.TfidfLogisticBaseline;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code protorad evaluate}: the figures of an existing adapter on one split of a dataset, beside
 * the TF-IDF + logistic regression baseline trained on the same dataset's train split, without
 * training anything. The same evaluation the fine-tuner runs at the end of a job.
 */
@Command(
    name = "evaluate",
    mixinStandardHelpOptions = true,
    description =
        "Evaluate a PEFT adapter on one split of a JSONL dataset (every catalog label scored on the"
            + " NF4 base, as serving does) beside the TF-IDF + logistic regression baseline trained"
            + " on the dataset's train split.")
public final class EvaluateCommand implements Callable<Integer> {

  /** The line after the table for an adapter without a fitted review gate. */
  static final String NO_GATE =
      "review gate: none recorded (the server's review threshold applies)\n";

  @Spec CommandSpec spec;

  @Option(names = "--model", required = true, paramLabel = "DIR", description = "Base checkpoint.")
  Path model;

  @Option(
      names = "--adapter",
      required = true,
      paramLabel = "DIR",
      description =
          "PEFT adapter directory (for example models/demo-base/adapters/protocol/1); notes are"
              + " prompted with the template its metadata.json records (v2 without one).")
  Path adapter;

  @Option(
      names = "--data",
      required = true,
      paramLabel = "FILE",
      description =
          "JSONL dataset (note, label, split). Lines without a split are placed by a hash of the"
              + " note, as `dataset baseline` does.")
  Path data;

  @Option(
      names = "--split",
      defaultValue = "test",
      description = "Split to evaluate: validation or test (default: ${DEFAULT-VALUE}).")
  String split;

  @Option(
      names = "--limit",
      defaultValue = "0",
      description = "Evaluate only the split's first N lines (default: all).")
  int limit;

  @Option(names = "--no-baseline", description = "Skip the TF-IDF + LR baseline.")
  boolean noBaseline;

  @Option(
      names = "--baseline-data",
      paramLabel = "FILE",
      description =
          "Train the baseline on this JSONL dataset's train split instead of --data's (for a"
              + " --data file that holds only evaluation notes).")
  Path baselineData;

  @Option(
      names = "--template",
      paramLabel = "VERSION",
      description =
          "Prompt the notes with this template (v1, v2) instead of the one the adapter records:"
              + " to measure what a template alone changes, without training.")
  String template;

  @Option(names = "--skip-invalid", description = "Leave invalid lines out (reported).")
  boolean skipInvalid;

  @Option(names = "--report", paramLabel = "FILE", description = "Also write the table here.")
  Path report;

  @Option(
      names = "--report-dir",
      paramLabel = "DIR",
      description =
          "Write the table (report.txt) and its pictures here: reliability.png (reliability"
              + " diagram), precision-coverage.png (precision of the answers kept against the share"
              + " kept, with the review gate's operating point) and confusion.png (confusion heat"
              + " map), for the answers as served.")
  Path reportDir;

  @Override
  public Integer call() throws IOException {
    Split which =
        switch (split) {
          case "validation" -> Split.VALIDATION;
          case "test" -> Split.TEST;
          default -> null;
        };
    if (which == null) {
      return fail("--split: " + split + " (expected: validation or test)");
    }
    if (limit < 0) {
      return fail("--limit: " + limit + " (expected: >= 0)");
    }
    if (noBaseline && baselineData != null) {
      return fail("--baseline-data: given with --no-baseline (expected: one of them)");
    }
    if (template != null) {
      try {
        PromptTemplate.forVersion(template);
      } catch (IllegalArgumentException e) {
        return fail("--template: " + e.getMessage());
      }
    }
    Catalog catalog = Catalog.loadDefault();
    Map<Split, List<Example>> splits = splits(catalog, data, "--data");
    if (splits == null) {
      return ExitCodes.USAGE;
    }
    List<Example> examples = splits.get(which);
    if (limit > 0 && examples.size() > limit) {
      examples = examples.subList(0, limit);
    }
    if (examples.isEmpty()) {
      return fail("--data: no " + split + " lines");
    }
    List<Example> baselineTrain = List.of();
    if (!noBaseline) {
      String option = baselineData == null ? "--data" : "--baseline-data";
      Map<Split, List<Example>> source =
          baselineData == null ? splits : splits(catalog, baselineData, option);
      if (source == null) {
        return ExitCodes.USAGE;
      }
      baselineTrain = source.get(Split.TRAIN);
      if (baselineTrain.isEmpty()) {
        return fail(
            option
                + ": no train lines for the baseline (or pass "
                + (baselineData == null ? "--baseline-data or " : "")
                + "--no-baseline)");
      }
    }
    EngineSettings.applyDefaults();
    BaseCheckpoint base;
    try {
      base = BaseCheckpoint.load(model, LoadOptions.defaults());
    } catch (IOException e) {
      return fail("--model: " + e.getMessage());
    }
    LoraAdapter lora;
    String recorded;
    PromptTemplate prompting;
    try {
      lora = LoraAdapter.read(adapter, base.config());
      recorded = template != null ? null : AdapterStore.recordedTemplateVersion(adapter);
      prompting = PromptTemplate.select(template, recorded, false);
    } catch (IOException | IllegalArgumentException e) {
      return fail("--adapter: " + e.getMessage());
    }
    String source =
        template != null
            ? "--template"
            : recorded != null
                ? "recorded by the adapter"
                : "the default: the adapter has no " + AdapterStore.METADATA_FILE;
    spec.commandLine()
        .getErr()
        .println("prompt template " + prompting.version() + " (" + source + ")");
    Optional<VersionGate> gate;
    try {
      gate = VersionGate.load(adapter, AdapterStore.METADATA_FILE);
    } catch (IOException | IllegalArgumentException e) {
      return fail("--adapter: review gate: " + e.getMessage());
    }
    PrintWriter out = spec.commandLine().getOut();
    List<EvaluatedNote> adapterPredictions;
    try (LlamaTokenizer tokenizer = LlamaTokenizer.load(base.tokenizerJson());
        LlamaModel llama = LlamaModel.builder(base).build()) {
      Evaluator evaluator = Evaluator.of(llama, tokenizer, catalog, prompting);
      int total = examples.size();
      adapterPredictions =
          evaluator.predictions(lora, examples, () -> false, done -> progress(done, total));
      spec.commandLine().getErr().println();
    }
    EvalReport.Builder table = EvalReport.builder(split + " split");
    List<EvaluatedNote> served = adapterPredictions;
    GatedEvaluation.Result gated = null;
    if (gate.isPresent()) {
      gated =
          GatedEvaluation.of(catalog)
              .apply(examples, adapterPredictions, gate.get().lexical(), gate.get().gate());
      served = gated.served();
      table.column("served", Metrics.compute(catalog, served));
    }
    table.column("adapter", Metrics.compute(catalog, adapterPredictions));
    if (!noBaseline) {
      TfidfLogisticBaseline b = TfidfLogisticBaseline.train(baselineTrain);
      table.column("tfidf+lr", Metrics.compute(catalog, b.evaluate(examples, 3)));
    }
    String text = table.build().render() + gateLines(gated, gate);
    out.print(text);
    out.flush();
    if (report != null) {
      Files.writeString(report, text);
    }
    if (reportDir != null) {
      writePictures(text, served, gated, catalog);
    }
    return 0;
  }

  private static String gateLines(GatedEvaluation.Result gated, Optional<VersionGate> gate) {
    if (gated == null || gate.isEmpty()) {
      return NO_GATE;
    }
    ReviewGate g = gate.get().gate();
    Map<String, Long> reasons = new TreeMap<>();
    gated.reasons().forEach(rs -> rs.forEach(r -> reasons.merge(r, 1L, Long::sum)));
    return String.format(
        Locale.ROOT,
        "review gate (target precision %.2f, threshold %.4f):%n"
            + "  answered without review   %d of %d (coverage %.4f)%n"
            + "  precision of those        %.4f%n"
            + "  wrong and unreviewed      %d%n"
            + "  review reasons            %s%n",
        g.targetPrecision(),
        g.threshold(),
        gated.answered(),
        gated.served().size(),
        gated.coverage(),
        gated.precision(),
        gated.wrongUnreviewed(),
        reasons);
  }

  private void writePictures(
      String text, List<EvaluatedNote> served, GatedEvaluation.Result gated, Catalog catalog)
      throws IOException {
    Files.createDirectories(reportDir);
    Files.writeString(reportDir.resolve("report.txt"), text);
    String what = data.getFileName() + ", " + split;
    EvalCharts.reliability(
        served, "Reliability (" + what + ")", reportDir.resolve("reliability.png"));
    EvalCharts.precisionCoverage(
        served,
        gated == null ? null : new double[] {gated.coverage(), gated.precision()},
        "Precision against coverage (" + what + ")",
        reportDir.resolve("precision-coverage.png"));
    EvalCharts.confusion(
        served,
        catalog.protocols().stream().map(Protocol::id).toList(),
        "Confusion (" + what + ")",
        reportDir.resolve("confusion.png"));
    spec.commandLine().getErr().println("pictures written to " + reportDir);
  }

  /** The dataset's examples by split, or null once the refusal is printed. */
  private @Nullable Map<Split, List<Example>> splits(Catalog catalog, Path file, String option) {
    if (!Files.isRegularFile(file)) {
      fail(option + ": not a readable file (expected: a JSONL dataset)");
      return null;
    }
    ValidatedDataset dataset;
    try {
      dataset = DatasetValidator.of(catalog).validate(file, skipInvalid);
    } catch (CatalogException | UncheckedIOException e) {
      fail(option + ": " + e.getMessage());
      return null;
    }
    if (dataset.report().hasErrors() && !skipInvalid) {
      spec.commandLine().getErr().print(dataset.report().render(20));
      fail(option + ": dataset refused (or pass --skip-invalid)");
      return null;
    }
    return DatasetCommand.Baseline.bySplit(dataset.records());
  }

  private void progress(int done, int total) {
    if (done % 50 == 0 || done == total) {
      PrintWriter err = spec.commandLine().getErr();
      err.print("\rscored " + done + "/" + total);
      err.flush();
    }
  }

  private int fail(String message) {
    spec.commandLine().getErr().println("protorad evaluate: " + message);
    spec.commandLine().getErr().flush();
    return ExitCodes.USAGE;
  }
}
