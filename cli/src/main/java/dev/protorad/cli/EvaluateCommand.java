package dev.protorad.cli;

import dev.protorad.clinical.catalog.Catalog;
import dev.protorad.clinical.catalog.CatalogException;
import dev.protorad.clinical.catalog.Protocol;
import dev.protorad.clinical.gate.ReviewGate;
import dev.protorad.clinical.gate.VersionGate;
import dev.protorad.engine.model.BaseModel;
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
import dev.protorad.training.eval.EvalCurves;
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
import picocli.CommandLine.Mixin;
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

  @Mixin BaseModelOption model;

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
              + " map), for the answers as served, and the figures they are drawn from"
              + " (evaluation.json).")
  Path reportDir;

  @Override
  public Integer call() throws IOException {
    try {
      Split which = checkOptions();
      Catalog catalog = Catalog.loadDefault();
      Map<Split, List<Example>> splits = splits(catalog, data, "--data");
      List<Example> examples = examples(splits, which);
      List<Example> baselineTrain = noBaseline ? List.of() : baselineTrain(catalog, splits);
      try (BaseModel base = model.load(spec)) {
        if (base == null) {
          return ExitCodes.USAGE;
        }
        Adapter read = readAdapter(base);
        List<EvaluatedNote> predictions = predict(base, catalog, read, examples);
        report(catalog, examples, predictions, read.gate(), baselineTrain);
      }
      return 0;
    } catch (UsageError e) {
      return ExitCodes.usage(spec, e.getMessage());
    }
  }

  /** The adapter's factors, the template it is prompted with and its review gate, if any. */
  private record Adapter(LoraAdapter lora, PromptTemplate prompting, Optional<VersionGate> gate) {}

  private Split checkOptions() {
    Split which =
        switch (split) {
          case "validation" -> Split.VALIDATION;
          case "test" -> Split.TEST;
          default -> throw new UsageError("--split: " + split + " (expected: validation or test)");
        };
    if (limit < 0) {
      throw new UsageError("--limit: " + limit + " (expected: >= 0)");
    }
    if (noBaseline && baselineData != null) {
      throw new UsageError("--baseline-data: given with --no-baseline (expected: one of them)");
    }
    if (template != null) {
      try {
        PromptTemplate.forVersion(template);
      } catch (IllegalArgumentException e) {
        throw new UsageError("--template: " + e.getMessage());
      }
    }
    return which;
  }

  private List<Example> examples(Map<Split, List<Example>> splits, Split which) {
    List<Example> examples = splits.getOrDefault(which, List.of());
    if (limit > 0 && examples.size() > limit) {
      examples = examples.subList(0, limit);
    }
    if (examples.isEmpty()) {
      throw new UsageError("--data: no " + split + " lines");
    }
    return examples;
  }

  private List<Example> baselineTrain(Catalog catalog, Map<Split, List<Example>> splits) {
    String option = baselineData == null ? "--data" : "--baseline-data";
    Map<Split, List<Example>> source =
        baselineData == null ? splits : splits(catalog, baselineData, option);
    List<Example> train = source.getOrDefault(Split.TRAIN, List.of());
    if (train.isEmpty()) {
      throw new UsageError(
          option
              + ": no train lines for the baseline (or pass "
              + (baselineData == null ? "--baseline-data or " : "")
              + "--no-baseline)");
    }
    return train;
  }

  private Adapter readAdapter(BaseModel base) {
    LoraAdapter lora;
    String recorded;
    PromptTemplate prompting;
    try {
      lora = AdapterStore.read(adapter, base.config());
      recorded = template != null ? null : AdapterStore.recordedTemplateVersion(adapter);
      prompting = PromptTemplate.select(template, recorded, false);
    } catch (IOException | IllegalArgumentException e) {
      throw new UsageError("--adapter: " + e.getMessage());
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
    try {
      return new Adapter(lora, prompting, VersionGate.load(adapter, AdapterStore.METADATA_FILE));
    } catch (IOException | IllegalArgumentException e) {
      throw new UsageError("--adapter: review gate: " + e.getMessage());
    }
  }

  private List<EvaluatedNote> predict(
      BaseModel base, Catalog catalog, Adapter read, List<Example> examples) {
    Evaluator evaluator = Evaluator.of(base.model(), base.tokenizer(), catalog, read.prompting());
    int total = examples.size();
    List<EvaluatedNote> predictions =
        evaluator.predictions(read.lora(), examples, () -> false, done -> progress(done, total));
    spec.commandLine().getErr().println();
    return predictions;
  }

  private void report(
      Catalog catalog,
      List<Example> examples,
      List<EvaluatedNote> adapterPredictions,
      Optional<VersionGate> gate,
      List<Example> baselineTrain)
      throws IOException {
    GatedEvaluation.Result gated =
        gate.isEmpty()
            ? null
            : GatedEvaluation.of(catalog)
                .apply(examples, adapterPredictions, gate.get().lexical(), gate.get().gate());
    List<EvaluatedNote> served = gated == null ? adapterPredictions : gated.served();
    String text =
        table(catalog, examples, adapterPredictions, gated, baselineTrain) + gateLines(gated, gate);
    PrintWriter out = spec.commandLine().getOut();
    out.print(text);
    out.flush();
    if (report != null) {
      Files.writeString(report, text);
    }
    if (reportDir != null) {
      EvalCurves.Point point =
          gated == null
              ? null
              : new EvalCurves.Point(
                  gated.coverage(), gated.precision(), gate.get().gate().threshold());
      writePictures(text, served, point, catalog);
    }
  }

  /** Served (when gated), adapter and baseline columns side by side. */
  private String table(
      Catalog catalog,
      List<Example> examples,
      List<EvaluatedNote> adapterPredictions,
      GatedEvaluation.@Nullable Result gated,
      List<Example> baselineTrain) {
    EvalReport.Builder table = EvalReport.builder(split + " split");
    if (gated != null) {
      table.column("served", Metrics.compute(catalog, gated.served()));
    }
    table.column("adapter", Metrics.compute(catalog, adapterPredictions));
    if (!noBaseline) {
      TfidfLogisticBaseline b = TfidfLogisticBaseline.train(baselineTrain);
      table.column("tfidf+lr", Metrics.compute(catalog, b.evaluate(examples, 3)));
    }
    return table.build().render();
  }

  private static String gateLines(
      GatedEvaluation.@Nullable Result gated, Optional<VersionGate> gate) {
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
      String text,
      List<EvaluatedNote> served,
      EvalCurves.@Nullable Point gatePoint,
      Catalog catalog)
      throws IOException {
    Files.createDirectories(reportDir);
    Files.writeString(reportDir.resolve("report.txt"), text);
    String what = data.getFileName() + ", " + split;
    EvalCurves curves =
        EvalCurves.of(
            split.toString(),
            served,
            catalog.protocols().stream().map(Protocol::id).toList(),
            gatePoint,
            List.of());
    Files.writeString(reportDir.resolve(EvalCurves.FILE), curves.toJson());
    EvalCharts.reliability(
        curves, "Reliability (" + what + ")", reportDir.resolve("reliability.png"));
    EvalCharts.precisionCoverage(
        curves,
        "Precision against coverage (" + what + ")",
        reportDir.resolve("precision-coverage.png"));
    EvalCharts.confusion(curves, "Confusion (" + what + ")", reportDir.resolve("confusion.png"));
    spec.commandLine().getErr().println("pictures written to " + reportDir);
  }

  /**
   * The dataset's examples by split; refused (after its error report) when it does not validate.
   */
  private Map<Split, List<Example>> splits(Catalog catalog, Path file, String option) {
    if (!Files.isRegularFile(file)) {
      throw new UsageError(option + ": not a readable file (expected: a JSONL dataset)");
    }
    ValidatedDataset dataset;
    try {
      dataset = DatasetValidator.of(catalog).validate(file, skipInvalid);
    } catch (CatalogException | UncheckedIOException e) {
      throw new UsageError(option + ": " + e.getMessage());
    }
    if (dataset.report().hasErrors() && !skipInvalid) {
      spec.commandLine().getErr().print(dataset.report().render(20));
      throw new UsageError(option + ": dataset refused (or pass --skip-invalid)");
    }
    return dataset.bySplit();
  }

  private void progress(int done, int total) {
    if (done % 50 == 0 || done == total) {
      PrintWriter err = spec.commandLine().getErr();
      err.print("\rscored " + done + "/" + total);
      err.flush();
    }
  }
}
