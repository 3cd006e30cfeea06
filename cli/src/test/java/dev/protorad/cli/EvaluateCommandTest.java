package dev.protorad.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.protorad.clinical.catalog.Catalog;
import dev.protorad.clinical.gate.LexicalModel;
import dev.protorad.clinical.gate.VersionGate;
import dev.protorad.engine.checkpoint.BaseCheckpoint;
import dev.protorad.engine.checkpoint.LoadOptions;
import dev.protorad.engine.model.LlamaModel;
import dev.protorad.engine.model.LlamaTokenizer;
import dev.protorad.engine.model.PromptTemplate;
import dev.protorad.engine.peft.LoraAdapter;
import dev.protorad.engine.peft.LoraConfig;
import dev.protorad.engine.peft.TargetModules;
import dev.protorad.server.adapters.AdapterStore;
import dev.protorad.server.adapters.AdapterVersion;
import dev.protorad.server.adapters.Lineage;
import dev.protorad.testing.TinyCheckpoint;
import dev.protorad.training.EvalSummary;
import dev.protorad.training.Evaluator;
import dev.protorad.training.data.DatasetValidator;
import dev.protorad.training.data.Example;
import dev.protorad.training.data.Split;
import dev.protorad.training.eval.EvalCurves;
import dev.protorad.training.eval.Metrics;
import dev.protorad.training.eval.TfidfLogisticBaseline;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class EvaluateCommandTest {

  @TempDir static Path dir;

  private static Path model;
  private static Path adapter;
  private static Path data;

  private record Run(int exit, String out, String err) {}

  @BeforeAll
  static void setUp() throws Exception {
    model = TinyCheckpoint.write(dir.resolve("base"));
    BaseCheckpoint base = BaseCheckpoint.load(model, LoadOptions.defaults());
    adapter = dir.resolve("adapter");
    LoraAdapter.create(base.config(), LoraConfig.of(4, 8, TargetModules.allLinear()), 3)
        .write(adapter);
    data = dir.resolve("notes.jsonl");
    int exit =
        DatasetCommand.commandLine()
            .execute("synth", "--n", "120", "--seed", "5", "--out", data.toString());
    assertThat(exit).isZero();
  }

  private Run evaluate(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int exit =
        new CommandLine(new EvaluateCommand())
            .setOut(new PrintWriter(out))
            .setErr(new PrintWriter(err))
            .execute(args);
    return new Run(exit, out.toString(), err.toString());
  }

  /**
   * {@code evaluate} of {@code adapterDir} on {@code notes}, on the test base, with {@code extra}.
   */
  private Run evaluateOn(Path adapterDir, Path notes, String... extra) {
    return evaluate(
        concat(
            new String[] {
              "--model", model.toString(),
              "--adapter", adapterDir.toString(),
              "--data", notes.toString()
            },
            extra));
  }

  private static Map<Split, List<Example>> splitsOfData() {
    return DatasetValidator.of(Catalog.loadDefault()).validate(data, false).bySplit();
  }

  /**
   * The table the command should print: the evaluator (and baseline, if given) on {@code notes}.
   */
  private static String table(
      PromptTemplate template, List<Example> notes, @Nullable List<Example> baselineTrain)
      throws Exception {
    Catalog catalog = Catalog.loadDefault();
    BaseCheckpoint base = BaseCheckpoint.load(model, LoadOptions.defaults());
    try (LlamaTokenizer tokenizer = LlamaTokenizer.load(base.tokenizerJson());
        LlamaModel llama = LlamaModel.builder(base).build()) {
      Evaluator evaluator = Evaluator.of(llama, tokenizer, catalog, template);
      LoraAdapter lora = LoraAdapter.read(adapter, base.config());
      return TrainCommand.table(
              new EvalSummary(
                  "test",
                  evaluator.evaluate(lora, notes, () -> false),
                  baselineTrain == null
                      ? null
                      : Metrics.compute(
                          catalog, TfidfLogisticBaseline.train(baselineTrain).evaluate(notes, 3))))
          + EvaluateCommand.NO_GATE;
    }
  }

  @Test
  void evaluate_reportsTheEvaluatorAndBaselineOnTheFirstLinesOfTheSplit() throws Exception {
    Path report = dir.resolve("report.txt");

    Run run = evaluateOn(adapter, data, "--limit", "5", "--report", report.toString());

    assertThat(run.exit()).as(run.err()).isZero();
    Map<Split, List<Example>> splits = splitsOfData();
    String expected =
        table(
            PromptTemplate.DEFAULT, splits.get(Split.TEST).subList(0, 5), splits.get(Split.TRAIN));
    assertThat(run.out()).isEqualTo(expected).contains("tfidf+lr");
    assertThat(Files.readString(report)).isEqualTo(expected);
    assertThat(run.err()).contains("scored 5/5");
  }

  @Test
  void evaluate_baselineData_trainsTheBaselineOnAnotherFilesTrainSplit() throws Exception {
    Path evalOnly = dir.resolve("eval-only.jsonl");
    Files.write(
        evalOnly,
        Files.readAllLines(data).stream()
            .filter(l -> l.contains("\"split\":\"test\"") || l.contains("\"split\": \"test\""))
            .limit(5)
            .toList());
    assertThat(Files.readAllLines(evalOnly)).hasSize(5);
    Run withBaselineData = evaluateOn(adapter, evalOnly, "--baseline-data", data.toString());
    Run sameNotesInTheirFile = evaluateOn(adapter, data, "--limit", "5");
    Run noTrainLines = evaluateOn(adapter, evalOnly);
    Run both = evaluateOn(adapter, evalOnly, "--baseline-data", data.toString(), "--no-baseline");

    assertThat(withBaselineData.exit()).as(withBaselineData.err()).isZero();
    assertThat(withBaselineData.out()).contains("tfidf+lr").isEqualTo(sameNotesInTheirFile.out());
    assertThat(noTrainLines.exit()).isEqualTo(2);
    assertThat(noTrainLines.err())
        .startsWith("protorad evaluate: --data: no train lines for the baseline")
        .contains("--baseline-data");
    assertThat(both.exit()).isEqualTo(2);
    assertThat(both.err()).startsWith("protorad evaluate: --baseline-data:");
  }

  @Test
  void evaluate_template_promptsWithTheNamedTemplate_andRefusesAnUnknownOne() throws Exception {
    // The first five test notes, shouted: v2 folds them back to lower case, v1 keeps them.
    Path shouted = dir.resolve("shouted.jsonl");
    List<Example> notes = new ArrayList<>();
    List<String> lines = new ArrayList<>();
    var mapper = new ObjectMapper();
    for (Example e : splitsOfData().get(Split.TEST).subList(0, 5)) {
      Example loud = new Example(e.note().toUpperCase(Locale.ROOT), e.label());
      notes.add(loud);
      lines.add(
          mapper.writeValueAsString(
              Map.of("note", loud.note(), "label", loud.label(), "split", "test")));
    }
    Files.write(shouted, lines);
    Run v1 = evaluateOn(adapter, shouted, "--no-baseline", "--template", "v1");
    Run v2 = evaluateOn(adapter, shouted, "--no-baseline", "--template", "v2");
    Run recorded = evaluateOn(adapter, shouted, "--no-baseline");
    Run unknown = evaluateOn(adapter, shouted, "--no-baseline", "--template", "v7");
    BaseCheckpoint base = BaseCheckpoint.load(model, LoadOptions.defaults());
    AdapterVersion stored =
        AdapterStore.open(dir.resolve("store"), base.config(), base.fingerprint())
            .register(
                "older",
                LoraAdapter.read(adapter, base.config()),
                Lineage.imported(PromptTemplate.V1, "test"));
    Run fromStore = evaluateOn(stored.dir(), shouted, "--no-baseline");

    assertThat(v1.out()).as(v1.err()).isEqualTo(table(PromptTemplate.V1, notes, null));
    assertThat(v2.out()).as(v2.err()).isEqualTo(table(PromptTemplate.V2, notes, null));
    assertThat(v1.err()).startsWith("prompt template v1 (--template)");
    assertThat(v2.err()).startsWith("prompt template v2 (--template)");
    // A PEFT directory without metadata.json is prompted with the default template.
    assertThat(recorded.out()).isEqualTo(v2.out());
    assertThat(recorded.err())
        .startsWith("prompt template v2 (the default: the adapter has no metadata.json)");
    assertThat(fromStore.err()).startsWith("prompt template v1 (recorded by the adapter)");
    assertThat(fromStore.out()).isEqualTo(v1.out());
    assertThat(unknown.exit()).isEqualTo(2);
    assertThat(unknown.err())
        .startsWith("protorad evaluate: --template: prompt template: v7 (expected: one of");
  }

  private static String[] concat(String[] head, String... tail) {
    String[] out = Arrays.copyOf(head, head.length + tail.length);
    System.arraycopy(tail, 0, out, head.length, tail.length);
    return out;
  }

  @Test
  void evaluate_unknownSplit_exitsTwoNamingTheOption() {
    Run run = evaluateOn(adapter, data, "--split", "train");

    assertThat(run.exit()).isEqualTo(2);
    assertThat(run.err()).startsWith("protorad evaluate: --split: train");
  }

  @Test
  void evaluate_datasetWithErrors_isRefusedWithTheReport() throws Exception {
    Path bad = dir.resolve("bad.jsonl");
    Files.writeString(
        bad,
        Files.readAllLines(data).get(0) + "\n{\"note\": \"x\", \"label\": \"no-such-label\"}\n");

    Run run = evaluateOn(adapter, bad);

    assertThat(run.exit()).isEqualTo(2);
    assertThat(run.err()).contains("line 2").contains("protorad evaluate: --data: dataset refused");
  }

  @Test
  void evaluate_missingAdapter_exitsTwoNamingTheOption() {
    Run run = evaluateOn(dir.resolve("none"), data);

    assertThat(run.exit()).isEqualTo(2);
    assertThat(run.err()).startsWith("protorad evaluate: --adapter:");
  }

  @Test
  void evaluate_reportDir_writesTheTableThreePictures_andTheirFigures() throws Exception {
    Path reportDir = dir.resolve("pictures");

    Run run = evaluateOn(adapter, data, "--limit", "8", "--report-dir", reportDir.toString());

    assertThat(run.exit()).as(run.err()).isZero();
    assertThat(Files.readString(reportDir.resolve("report.txt"))).isEqualTo(run.out());
    for (String picture : List.of("reliability.png", "precision-coverage.png", "confusion.png")) {
      byte[] png = Files.readAllBytes(reportDir.resolve(picture));
      assertThat(png).as(picture).startsWith(0x89, 'P', 'N', 'G').hasSizeGreaterThan(2_000);
    }
    EvalCurves figures = EvalCurves.fromJson(Files.readString(reportDir.resolve(EvalCurves.FILE)));
    assertThat(figures.examples()).isEqualTo(8);
    assertThat(figures.confusion().stream().mapToInt(EvalCurves.Cell::count).sum()).isEqualTo(8);
    assertThat(figures.labels()).hasSize(Catalog.loadDefault().protocols().size());
  }

  @Test
  void calibrate_registersTheNextVersionWithAGate_thatEvaluateThenApplies() throws Exception {
    BaseCheckpoint base = BaseCheckpoint.load(model, LoadOptions.defaults());
    Path store = dir.resolve("store");
    AdapterStore.open(store, base.config(), base.fingerprint())
        .register(
            "protocol",
            LoraAdapter.read(adapter, base.config()),
            Lineage.imported(PromptTemplate.DEFAULT, "test"));
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();

    int exit =
        new CommandLine(new CalibrateCommand())
            .setOut(new PrintWriter(out))
            .setErr(new PrintWriter(err))
            .execute(
                "--model", model.toString(),
                "--adapters-dir", store.toString(),
                "--from", "protocol@1",
                "--data", data.toString(),
                "--target-precision", "0.9");

    assertThat(exit).as(err.toString()).isZero();
    assertThat(out.toString()).startsWith("protocol@2: gate fitted on ");
    Path gated = store.resolve("protocol").resolve("2");
    assertThat(gated.resolve(LexicalModel.FILE)).exists();
    String metadata = Files.readString(gated.resolve(AdapterStore.METADATA_FILE));
    assertThat(metadata).contains("\"review_gate\"", "\"parent\" : \"protocol@1\"");
    assertThat(
            VersionGate.load(gated, AdapterStore.METADATA_FILE)
                .orElseThrow()
                .gate()
                .targetPrecision())
        .isEqualTo(0.9);

    Run run = evaluateOn(gated, data, "--limit", "6", "--no-baseline");

    assertThat(run.exit()).as(run.err()).isZero();
    assertThat(run.out()).contains("served", "review gate (target precision 0.90");
  }
}
