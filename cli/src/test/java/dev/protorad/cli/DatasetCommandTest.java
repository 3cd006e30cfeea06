package dev.protorad.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class DatasetCommandTest {

  @TempDir Path dir;

  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();

  private int run(String... args) {
    CommandLine cl = new CommandLine(new DatasetCommand());
    cl.setOut(new PrintWriter(out, true));
    cl.setErr(new PrintWriter(err, true));
    return cl.execute(args);
  }

  @Test
  void synth_writesJsonlAndPrintsSplitsAndCoverage() throws Exception {
    Path file = dir.resolve("d.jsonl");

    int code = run("synth", "--n", "150", "--seed", "3", "--out", file.toString());

    assertThat(code).isZero();
    assertThat(Files.readAllLines(file)).hasSize(150);
    assertThat(out.toString())
        .contains("notes: 150")
        .containsPattern("splits: train=\\d+, validation=\\d+, test=\\d+")
        .contains("label coverage: 60/60")
        .contains("styles: terse=");
  }

  @Test
  void synth_nonPositiveN_exits2WithOneLine() {
    int code = run("synth", "--n", "0", "--out", dir.resolve("d.jsonl").toString());

    assertThat(code).isEqualTo(2);
    assertThat(err.toString().strip()).isEqualTo("dataset synth: --n: 0 (expected: >= 1)");
  }

  @Test
  void synth_missingOut_exits2() {
    assertThat(run("synth", "--n", "5")).isEqualTo(2);
    assertThat(err.toString()).contains("--out");
  }

  @Test
  void commandLine_parseError_printsOneLineAndExits2() {
    StringWriter e = new StringWriter();
    CommandLine cl = DatasetCommand.commandLine();
    cl.setErr(new PrintWriter(e, true));

    int code = cl.execute("synth", "--n", "many", "--out", "x.jsonl");

    assertThat(code).isEqualTo(2);
    assertThat(e.toString().strip()).doesNotContain("\n").startsWith("dataset: ");
  }

  @Test
  void validate_cleanFile_exits0() throws Exception {
    Path file = dir.resolve("d.jsonl");
    run("synth", "--n", "80", "--out", file.toString());

    int code = run("validate", file.toString());

    assertThat(code).isZero();
    assertThat(out.toString()).contains("lines: 80, valid: 80, errors: 0");
  }

  @Test
  void validate_fileWithErrors_exits1AndReportsLines() throws Exception {
    Path file = dir.resolve("bad.jsonl");
    Files.writeString(
        file,
        "{\"note\": \"r/o PE\", \"label\": \"cta-chest-pe\"}\n{\"note\": \"knee\", \"label\": \"mri-knee\"}\n");

    int strict = run("validate", file.toString());
    int skipping = run("validate", file.toString(), "--skip-invalid");

    assertThat(strict).isEqualTo(1);
    assertThat(skipping).isZero();
    assertThat(out.toString()).contains("line 2: UNKNOWN_LABEL").contains("skipped lines: 1");
  }

  @Test
  void validate_missingFile_exits2() {
    int code = run("validate", dir.resolve("absent.jsonl").toString());

    assertThat(code).isEqualTo(2);
    assertThat(err.toString().strip()).startsWith("dataset validate: FILE:");
  }

  @Test
  void baseline_generatedFile_printsMetricsTable() throws Exception {
    Path file = dir.resolve("d.jsonl");
    run("synth", "--n", "600", "--seed", "5", "--out", file.toString());

    int code = run("baseline", "--data", file.toString(), "--epochs", "5");

    assertThat(code).isZero();
    assertThat(out.toString())
        .contains("test split")
        .containsPattern("metric\\s+baseline\\s+majority")
        .contains("exact-match accuracy")
        .contains("macro-F1")
        .contains("contrast-decision acc")
        .contains("ECE (10 bins)");
  }

  @Test
  void corpus_addsEveryCalibrationNoteToTheValidationSplit() throws Exception {
    Path corpus =
        notes("corpus", "Sudden worst headache of life, ?SAH", "Fall on outstretched hand");
    Path calibration = notes("calibration", "Thunderclap headache two hours ago");
    Path file = dir.resolve("all.jsonl");

    int code = corpus(corpus, calibration, file);

    assertThat(code).isZero();
    var lines = Files.readAllLines(file);
    assertThat(lines).hasSize(3);
    assertThat(lines.get(2)).contains("Thunderclap").contains("\"split\":\"validation\"");
    assertThat(out.toString()).contains("wrote 3 notes").contains("of them 1 from the calibration");
  }

  @Test
  void corpus_withoutACalibrationFolder_writesTheCorpusAlone() throws Exception {
    Path corpus = notes("corpus", "Sudden worst headache of life, ?SAH");
    Path file = dir.resolve("all.jsonl");

    int code = corpus(corpus, dir.resolve("absent"), file);

    assertThat(code).isZero();
    assertThat(Files.readAllLines(file)).hasSize(1);
  }

  @Test
  void corpus_invalidCalibrationNote_exits1AndWritesNothing() throws Exception {
    Path corpus = notes("corpus", "Sudden worst headache of life, ?SAH");
    Path calibration = dir.resolve("calibration");
    Files.createDirectories(calibration);
    Files.writeString(
        calibration.resolve("x.jsonl"), "{\"note\": \"headache\", \"label\": \"no-such-id\"}\n");
    Path file = dir.resolve("all.jsonl");

    int code = corpus(corpus, calibration, file);

    assertThat(code).isEqualTo(1);
    assertThat(file).doesNotExist();
    assertThat(err.toString()).contains("line 1");
  }

  private int corpus(Path corpus, Path calibration, Path out) {
    return run(
        "corpus",
        "--dir",
        corpus.toString(),
        "--calibration-dir",
        calibration.toString(),
        "--out",
        out.toString());
  }

  private Path notes(String name, String... notes) throws Exception {
    Path folder = dir.resolve(name);
    Files.createDirectories(folder);
    StringBuilder b = new StringBuilder();
    for (String n : notes) {
      b.append("{\"note\": \"").append(n).append("\", \"label\": \"ct-head-wo\"}\n");
    }
    Files.writeString(folder.resolve("ct-head-wo.jsonl"), b);
    return folder;
  }

  @Test
  void noSubcommand_exits2() {
    assertThat(run()).isEqualTo(2);
    assertThat(err.toString()).contains("missing subcommand");
  }
}
