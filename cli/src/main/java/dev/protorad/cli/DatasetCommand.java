package dev.protorad.cli;

import dev.protorad.clinical.catalog.Catalog;
import dev.protorad.clinical.catalog.CatalogException;
import dev.protorad.training.data.DatasetValidator;
import dev.protorad.training.data.Example;
import dev.protorad.training.data.Split;
import dev.protorad.training.data.SyntheticDataset;
import dev.protorad.training.data.SyntheticNotes;
import dev.protorad.training.data.ValidatedDataset;
import dev.protorad.training.data.WrittenCorpus;
import dev.protorad.training.eval.EvalMetrics;
import dev.protorad.training.eval.EvalReport;
import dev.protorad.training.eval.EvaluatedNote;
import dev.protorad.training.eval.LabelProbability;
import dev.protorad.training.eval.Metrics;
import dev.protorad.training.eval.TfidfLogisticBaseline;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * {@code protorad dataset}: synthesize, validate and baseline training datasets, and export
 * reviewed predictions as one.
 *
 * <p>Exit codes: 0 success; 1 the dataset has errors; 2 bad arguments (one-line message on stderr).
 * Output never contains note text, except the dataset files written.
 */
@Command(
    name = "dataset",
    mixinStandardHelpOptions = true,
    description =
        "Synthesize, validate and baseline JSONL training datasets; export reviewed predictions"
            + " as one.",
    subcommands = {
      DatasetCommand.Synth.class,
      DatasetCommand.Validate.class,
      DatasetCommand.Baseline.class,
      DatasetCommand.Corpus.class,
      FeedbackCommand.class
    })
public final class DatasetCommand implements Callable<Integer> {

  @Spec private CommandSpec spec;

  @Option(
      names = "--catalog",
      description = "Catalog YAML file (default: the bundled catalog).",
      scope = CommandLine.ScopeType.INHERIT)
  private Path catalogFile;

  /** Creates the command; wire it with {@code new CommandLine(new DatasetCommand())}. */
  public DatasetCommand() {}

  /**
   * A command line for this command whose parse errors print one line (no usage block) and exit
   * with {@link ExitCodes#USAGE}.
   */
  public static CommandLine commandLine() {
    CommandLine cl = new CommandLine(new DatasetCommand());
    cl.setParameterExceptionHandler(
        (ex, args) -> {
          ex.getCommandLine().getErr().println("dataset: " + ex.getMessage());
          return ExitCodes.USAGE;
        });
    return cl;
  }

  @Override
  public Integer call() {
    spec.commandLine()
        .getErr()
        .println(
            "dataset: missing subcommand (expected: synth, validate, baseline, corpus or"
                + " feedback)");
    return ExitCodes.USAGE;
  }

  Catalog catalog() {
    return catalogFile == null ? Catalog.loadDefault() : Catalog.load(catalogFile);
  }

  /** Prints a one-line error and returns {@link ExitCodes#USAGE}. */
  static int usage(CommandSpec spec, @Nullable String message) {
    spec.commandLine().getErr().println("dataset " + spec.name() + ": " + message);
    return ExitCodes.USAGE;
  }

  /** {@code dataset synth --n N --seed S --out FILE.jsonl}. */
  @Command(
      name = "synth",
      mixinStandardHelpOptions = true,
      description = "Generate a synthetic labeled dataset.")
  static final class Synth implements Callable<Integer> {
    @Spec private CommandSpec spec;
    @ParentCommand private DatasetCommand parent;

    @Option(names = "--n", required = true, description = "Number of notes (>= 1).")
    private int n;

    @Option(
        names = "--seed",
        defaultValue = "7",
        description = "Random seed (default: ${DEFAULT-VALUE}).")
    private long seed;

    @Option(names = "--out", required = true, description = "Output JSONL file.")
    private Path out;

    @Override
    public Integer call() {
      if (n < 1) {
        return usage(spec, "--n: " + n + " (expected: >= 1)");
      }
      Path dir = out.toAbsolutePath().getParent();
      if (dir != null && !Files.isDirectory(dir)) {
        return usage(spec, "--out: directory does not exist (expected: an existing directory)");
      }
      Catalog catalog;
      try {
        catalog = parent.catalog();
      } catch (CatalogException | UncheckedIOException e) {
        return usage(spec, "--catalog: " + e.getMessage());
      }
      SyntheticDataset data = SyntheticNotes.builder(catalog).seed(seed).build().generate(n);
      data.writeJsonl(out);
      printSummary(spec.commandLine().getOut(), data, catalog);
      return 0;
    }

    private static void printSummary(PrintWriter w, SyntheticDataset data, Catalog catalog) {
      w.println("notes: " + data.notes().size());
      w.println(
          "splits: "
              + data.countsBySplit().entrySet().stream()
                  .map(e -> e.getKey().jsonName() + "=" + e.getValue())
                  .collect(Collectors.joining(", ")));
      w.println(
          "label coverage: "
              + data.countsByLabel().size()
              + "/"
              + catalog.size()
              + " overall; per split: "
              + coverageBySplit(data));
      w.println("styles: " + counts(data.countsByStyle()));
      w.println("scenarios: " + counts(data.countsByScenario()));
      w.printf(
          Locale.ROOT,
          "all caps: %.1f%%, multi-line: %.1f%%, over 400 chars: %.1f%%, under 40 chars: %.1f%%%n",
          100 * data.share(g -> allCaps(g.example().note())),
          100 * data.share(g -> g.example().note().contains("\n")),
          100 * data.share(g -> g.example().note().length() > 400),
          100 * data.share(g -> g.example().note().length() < 40));
    }

    private static String coverageBySplit(SyntheticDataset data) {
      return Arrays.stream(Split.values())
          .map(s -> s.jsonName() + "=" + labelsCovered(data, s))
          .collect(Collectors.joining(", "));
    }

    /** {@code name=count} per key, the names lower-cased, comma-separated. */
    private static String counts(Map<? extends Enum<?>, ?> counts) {
      return counts.entrySet().stream()
          .map(e -> e.getKey().name().toLowerCase(Locale.ROOT) + "=" + e.getValue())
          .collect(Collectors.joining(", "));
    }

    private static long labelsCovered(SyntheticDataset data, Split split) {
      return data.examples(split).stream().map(Example::label).distinct().count();
    }

    private static boolean allCaps(String note) {
      return note.chars().anyMatch(Character::isLetter)
          && note.equals(note.toUpperCase(Locale.ROOT));
    }
  }

  /** {@code dataset validate FILE.jsonl [--skip-invalid]}. */
  @Command(
      name = "validate",
      mixinStandardHelpOptions = true,
      description = "Validate a JSONL dataset.")
  static final class Validate implements Callable<Integer> {
    @Spec private CommandSpec spec;
    @ParentCommand private DatasetCommand parent;

    @Parameters(index = "0", paramLabel = "FILE", description = "JSONL dataset.")
    private Path file;

    @Option(
        names = "--skip-invalid",
        description = "Skip invalid lines and report them; exit 0 while valid records remain.")
    private boolean skipInvalid;

    @Option(
        names = "--max-errors",
        defaultValue = "100",
        description = "Errors listed (default: ${DEFAULT-VALUE}).")
    private int maxErrors;

    @Override
    public Integer call() {
      if (!Files.isRegularFile(file)) {
        return usage(spec, "FILE: not a readable file (expected: a JSONL dataset)");
      }
      ValidatedDataset result;
      try {
        result = DatasetValidator.of(parent.catalog()).validate(file, skipInvalid);
      } catch (CatalogException | UncheckedIOException e) {
        return usage(spec, e.getMessage());
      }
      PrintWriter out = spec.commandLine().getOut();
      out.print(result.report().render(maxErrors));
      out.flush();
      boolean failed = skipInvalid ? result.records().isEmpty() : result.report().hasErrors();
      return failed ? ExitCodes.FAILURE : 0;
    }
  }

  /** {@code dataset corpus [--dir DIR] [--calibration-dir DIR] --out FILE.jsonl}. */
  @Command(
      name = "corpus",
      mixinStandardHelpOptions = true,
      description =
          "Assemble the written training corpus (every *.jsonl file of --dir, in name order) into"
              + " one dataset with explicit splits: one note in ten test, one in ten validation,"
              + " the rest train, by a hash of the note; then every note of the written"
              + " calibration set (--calibration-dir), all in the validation split. The"
              + " validation split is the calibration split of the review gate: no adapter trains"
              + " on it.")
  static final class Corpus implements Callable<Integer> {
    @Spec private CommandSpec spec;
    @ParentCommand private DatasetCommand parent;

    @Option(
        names = "--dir",
        defaultValue = "data/corpus/notes",
        description = "Folder of the corpus files (default: ${DEFAULT-VALUE}).")
    private Path dir;

    @Option(
        names = "--calibration-dir",
        defaultValue = "data/calibration/notes",
        description =
            "Folder of the written calibration set, added to the validation split; left out when"
                + " the folder does not exist (default: ${DEFAULT-VALUE}).")
    private Path calibrationDir;

    @Option(names = "--out", required = true, description = "Output JSONL file.")
    private Path out;

    @Override
    public Integer call() throws IOException {
      if (!Files.isDirectory(dir)) {
        return usage(spec, "--dir: not a directory (expected: the corpus folder)");
      }
      ValidatedDataset corpus;
      ValidatedDataset calibration;
      try {
        corpus = WrittenCorpus.read(dir, parent.catalog());
        calibration =
            Files.isDirectory(calibrationDir)
                ? WrittenCorpus.read(calibrationDir, parent.catalog())
                : null;
      } catch (CatalogException | UncheckedIOException e) {
        return usage(spec, e.getMessage());
      }
      if (refused(corpus) || (calibration != null && refused(calibration))) {
        return ExitCodes.FAILURE;
      }
      List<Example> extra = calibration == null ? List.of() : calibration.examples();
      Map<Split, Integer> counts = WrittenCorpus.write(corpus.examples(), extra, out);
      spec.commandLine()
          .getOut()
          .printf(
              Locale.ROOT,
              "wrote %d notes to %s (train %d, validation %d of them %d from the calibration set,"
                  + " test %d)%n",
              corpus.examples().size() + extra.size(),
              out,
              counts.get(Split.TRAIN),
              counts.get(Split.VALIDATION),
              extra.size(),
              counts.get(Split.TEST));
      return 0;
    }

    private boolean refused(ValidatedDataset set) {
      if (set.report().hasErrors()) {
        spec.commandLine().getErr().print(set.report().render(20));
      }
      return set.report().hasErrors();
    }
  }

  /** {@code dataset baseline --data FILE.jsonl}. */
  @Command(
      name = "baseline",
      mixinStandardHelpOptions = true,
      description = "Train and evaluate the TF-IDF + logistic regression baseline.")
  static final class Baseline implements Callable<Integer> {
    @Spec private CommandSpec spec;
    @ParentCommand private DatasetCommand parent;

    @Option(names = "--data", required = true, description = "JSONL dataset with a split field.")
    private Path data;

    @Option(
        names = "--epochs",
        defaultValue = "15",
        description = "SGD epochs (default: ${DEFAULT-VALUE}).")
    private int epochs;

    @Option(
        names = "--seed",
        defaultValue = "7",
        description = "Training seed (default: ${DEFAULT-VALUE}).")
    private long seed;

    @Option(
        names = "--skip-invalid",
        description = "Skip invalid lines instead of refusing the dataset.")
    private boolean skipInvalid;

    @Override
    public Integer call() {
      if (!Files.isRegularFile(data)) {
        return usage(spec, "--data: not a readable file (expected: a JSONL dataset)");
      }
      if (epochs < 1) {
        return usage(spec, "--epochs: " + epochs + " (expected: >= 1)");
      }
      Catalog catalog;
      ValidatedDataset result;
      try {
        catalog = parent.catalog();
        result = DatasetValidator.of(catalog).validate(data, skipInvalid);
      } catch (CatalogException | UncheckedIOException e) {
        return usage(spec, e.getMessage());
      }
      PrintWriter out = spec.commandLine().getOut();
      if (result.records().isEmpty()) {
        out.print(result.report().render(20));
        out.flush();
        spec.commandLine().getErr().println("dataset baseline: no usable records");
        return ExitCodes.FAILURE;
      }
      Map<Split, List<Example>> splits = result.bySplit();
      if (splits.getOrDefault(Split.TRAIN, List.of()).isEmpty()) {
        spec.commandLine().getErr().println("dataset baseline: no train records");
        return ExitCodes.FAILURE;
      }
      report(out, catalog, splits);
      return 0;
    }

    private void report(PrintWriter out, Catalog catalog, Map<Split, List<Example>> splits) {
      List<Example> train = splits.getOrDefault(Split.TRAIN, List.of());
      TfidfLogisticBaseline model = TfidfLogisticBaseline.train(train, epochs, seed);
      out.println(
          "train: "
              + train.size()
              + ", validation: "
              + splits.getOrDefault(Split.VALIDATION, List.of()).size()
              + ", test: "
              + splits.getOrDefault(Split.TEST, List.of()).size());
      for (Split s : List.of(Split.VALIDATION, Split.TEST)) {
        List<Example> eval = splits.getOrDefault(s, List.of());
        if (eval.isEmpty()) {
          continue;
        }
        EvalMetrics baseline = Metrics.compute(catalog, model.evaluate(eval, 10));
        EvalMetrics majority = Metrics.compute(catalog, majority(train, eval));
        out.print(
            EvalReport.builder(s.jsonName() + " split")
                .column("baseline", baseline)
                .column("majority", majority)
                .build()
                .render());
        out.println();
      }
    }

    private static List<EvaluatedNote> majority(List<Example> train, List<Example> eval) {
      Map<String, Long> counts =
          train.stream().collect(Collectors.groupingBy(Example::label, Collectors.counting()));
      String top =
          counts.entrySet().stream()
              .sorted(
                  Map.Entry.<String, Long>comparingByValue()
                      .reversed()
                      .thenComparing(Map.Entry.comparingByKey()))
              .findFirst()
              .orElseThrow()
              .getKey();
      double p = (double) counts.getOrDefault(top, 0L) / train.size();
      List<EvaluatedNote> out = new ArrayList<>();
      for (Example e : eval) {
        out.add(EvaluatedNote.of(e.label(), List.of(new LabelProbability(top, p))));
      }
      return out;
    }
  }
}
