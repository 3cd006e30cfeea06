package dev.protorad.cli;

import dev.protorad.clinical.catalog.Catalog;
import dev.protorad.clinical.gate.ReviewGate;
import dev.protorad.clinical.gate.VersionGate;
import dev.protorad.engine.model.BaseModel;
import dev.protorad.engine.model.PromptTemplate;
import dev.protorad.engine.peft.LoraAdapter;
import dev.protorad.server.adapters.AdapterMetadata;
import dev.protorad.server.adapters.AdapterRef;
import dev.protorad.server.adapters.AdapterStore;
import dev.protorad.server.adapters.AdapterVersion;
import dev.protorad.server.adapters.Lineage;
import dev.protorad.server.jobs.FineTuneJobs;
import dev.protorad.training.Evaluator;
import dev.protorad.training.GatedEvaluation;
import dev.protorad.training.data.DatasetValidator;
import dev.protorad.training.data.Example;
import dev.protorad.training.data.Split;
import dev.protorad.training.data.ValidatedDataset;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code protorad calibrate}: fits the review gate of an adapter version and registers the
 * version's LoRA factors again, with the gate, as the next version (versions are immutable). The
 * lexical model is trained on the dataset's train split; the gate is fitted on its validation
 * split, which training never sees.
 */
@Command(
    name = "calibrate",
    mixinStandardHelpOptions = true,
    description =
        "Fit the review gate of an adapter version: train the lexical model on the dataset's train"
            + " split, score the validation split (the calibration split) with the adapter, choose"
            + " the mixture, the unfamiliar-note share and the confidence threshold that reaches"
            + " --target-precision, and register the same LoRA factors with the gate as the next"
            + " version (its parent is --from).")
public final class CalibrateCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Mixin BaseModelOption model;

  @Option(
      names = "--adapters-dir",
      required = true,
      paramLabel = "DIR",
      description = "Adapter store (for example models/demo-base/adapters).")
  Path adaptersDir;

  @Option(
      names = "--from",
      required = true,
      paramLabel = "REF",
      description = "The version to calibrate: name@N or name@alias.")
  String from;

  @Option(
      names = "--data",
      required = true,
      paramLabel = "FILE",
      description =
          "JSONL dataset (note, label, split): its train split fits the lexical model, its"
              + " validation split the gate. Lines without a split are placed by a hash of the note.")
  Path data;

  @Option(
      names = "--target-precision",
      defaultValue = "0.97",
      description =
          "Precision the answers sent without review must reach (default: ${DEFAULT-VALUE}).")
  double targetPrecision;

  @Option(names = "--skip-invalid", description = "Leave invalid lines out (reported).")
  boolean skipInvalid;

  @Option(names = "--seed", defaultValue = "7", description = "Lexical model seed.")
  long seed;

  @Option(
      names = "--alias",
      paramLabel = "NAME",
      description = "Also point this alias (for example production) at the new version.")
  String alias;

  @Override
  public Integer call() throws Exception {
    try {
      if (!(targetPrecision > 0 && targetPrecision < 1)) {
        throw new UsageError(
            "--target-precision: " + targetPrecision + " (expected: between 0 and 1)");
      }
      Catalog catalog = Catalog.loadDefault();
      Map<Split, List<Example>> splits = splits(catalog);
      try (BaseModel base = model.load(spec)) {
        if (base == null) {
          return ExitCodes.USAGE;
        }
        AdapterStore store = AdapterStore.open(adaptersDir, base.config(), base.fingerprint());
        AdapterVersion parent = parent(store);
        LoraAdapter lora = factors(store, parent);
        PromptTemplate template =
            PromptTemplate.select(null, parent.metadata().promptTemplateVersion(), false);
        VersionGate fitted = fit(base, catalog, lora, template, splits);
        AdapterVersion gated =
            store.register(parent.metadata().name(), lora, lineage(parent, template), fitted);
        if (alias != null) {
          store.setAlias(parent.metadata().name(), alias, gated.metadata().version());
        }
        print(gated, fitted.gate(), splits.getOrDefault(Split.VALIDATION, List.of()).size());
      }
      return 0;
    } catch (UsageError e) {
      return ExitCodes.usage(spec, e.getMessage());
    }
  }

  /** The dataset's train and validation splits; refused unless both hold lines. */
  private Map<Split, List<Example>> splits(Catalog catalog) {
    if (!Files.isRegularFile(data)) {
      throw new UsageError("--data: not a readable file (expected: a JSONL dataset)");
    }
    ValidatedDataset dataset = DatasetValidator.of(catalog).validate(data, skipInvalid);
    if (dataset.report().hasErrors() && !skipInvalid) {
      spec.commandLine().getErr().print(dataset.report().render(20));
      throw new UsageError("--data: dataset refused (or pass --skip-invalid)");
    }
    Map<Split, List<Example>> splits = dataset.bySplit();
    if (splits.getOrDefault(Split.TRAIN, List.of()).isEmpty()
        || splits.getOrDefault(Split.VALIDATION, List.of()).isEmpty()) {
      throw new UsageError("--data: needs train and validation lines (expected: both splits)");
    }
    return splits;
  }

  private AdapterVersion parent(AdapterStore store) {
    try {
      return store.get(AdapterRef.parse(from));
    } catch (NoSuchElementException | IllegalArgumentException e) {
      throw new UsageError("--from: " + e.getMessage());
    }
  }

  private LoraAdapter factors(AdapterStore store, AdapterVersion parent) throws IOException {
    try {
      return store.load(AdapterRef.parse(parent.ref()));
    } catch (NoSuchElementException | IllegalArgumentException e) {
      throw new UsageError("--from: " + e.getMessage());
    }
  }

  private VersionGate fit(
      BaseModel base,
      Catalog catalog,
      LoraAdapter lora,
      PromptTemplate template,
      Map<Split, List<Example>> splits) {
    List<Example> train = splits.getOrDefault(Split.TRAIN, List.of());
    List<Example> calibration = splits.getOrDefault(Split.VALIDATION, List.of());
    PrintWriter err = spec.commandLine().getErr();
    err.println("lexical model: " + train.size() + " training notes");
    int total = calibration.size();
    VersionGate fitted =
        GatedEvaluation.of(catalog)
            .fit(
                Evaluator.of(base.model(), base.tokenizer(), catalog, template),
                lora,
                train,
                calibration,
                seed,
                targetPrecision,
                () -> false,
                done -> {
                  if (done % 50 == 0 || done == total) {
                    err.print("\rcalibration notes scored " + done + "/" + total);
                    err.flush();
                  }
                });
    err.println();
    return fitted;
  }

  private Lineage lineage(AdapterVersion parent, PromptTemplate template) throws IOException {
    AdapterMetadata m = parent.metadata();
    Map<String, String> hp = new HashMap<>(m.hyperParameters());
    hp.put("review_gate.data_hash", FineTuneJobs.sha256(Files.readAllBytes(data)));
    hp.put("review_gate.seed", Long.toString(seed));
    return new Lineage(
        m.datasetHash(),
        hp,
        template,
        m.metrics(),
        System.getProperty("user.name", "local"),
        "",
        parent.ref());
  }

  private void print(AdapterVersion gated, ReviewGate gate, int calibrationNotes) {
    PrintWriter out = spec.commandLine().getOut();
    out.printf(
        Locale.ROOT,
        "%s: gate fitted on %d calibration notes: mixture a=%.2f b=%.2f, threshold %.4f,"
            + " unfamiliar share > %.2f, disagreement %s; %.1f%% answered without review at"
            + " precision %.4f (target %.2f)%n",
        gated.ref(),
        calibrationNotes,
        gate.adapterWeight(),
        gate.lexicalWeight(),
        gate.threshold(),
        gate.unfamiliarShare(),
        gate.disagreementReviewed() ? "reviewed" : "not reviewed",
        100 * gate.calibrationCoverage(),
        gate.calibrationPrecision(),
        targetPrecision);
    out.flush();
  }
}
