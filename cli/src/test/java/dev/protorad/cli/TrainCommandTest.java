package dev.protorad.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.protorad.engine.model.PromptTemplate;
import dev.protorad.server.adapters.AdapterStore;
import dev.protorad.testing.TinyCheckpoint;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class TrainCommandTest {

  @TempDir static Path dir;

  private static Path model;
  private static Path data;

  private record Run(int exit, String out, String err) {}

  @BeforeAll
  static void setUp() throws Exception {
    model = TinyCheckpoint.write(dir.resolve("base"));
    data = dir.resolve("notes.jsonl");
    int exit =
        DatasetCommand.commandLine()
            .execute("synth", "--n", "120", "--seed", "5", "--out", data.toString());
    assertThat(exit).isZero();
  }

  private static Run train(Path adapters, String... extra) {
    List<String> args =
        new ArrayList<>(
            List.of(
                "--local", model.toString(),
                "--adapters-dir", adapters.toString(),
                "--data", data.toString(),
                "--adapter", "tiny",
                "--rank", "4",
                "--alpha", "8",
                "--batch-size", "4",
                "--max-steps", "3",
                "--validation-limit", "4",
                "--test-limit", "4"));
    args.addAll(List.of(extra));
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int exit =
        new CommandLine(new TrainCommand())
            .setOut(new PrintWriter(out))
            .setErr(new PrintWriter(err))
            .execute(args.toArray(String[]::new));
    return new Run(exit, out.toString(), err.toString());
  }

  @Test
  void trainLocal_startFrom_registersTheNextVersionWithItsParent(@TempDir Path adapters)
      throws Exception {
    assertThat(train(adapters).exit()).isZero();

    Run run = train(adapters, "--start-from", "tiny@1");

    assertThat(run.exit()).as(run.err()).isZero();
    assertThat(run.out()).contains("registered tiny@2");
    assertThat(Files.readString(adapters.resolve("tiny/2/metadata.json")))
        .contains("\"parent\" : \"tiny@1\"");
    assertThat(Files.readString(adapters.resolve("tiny/1/metadata.json"))).doesNotContain("parent");
  }

  @Test
  void trainLocal_template_trainsWithAndRecordsTheNamedTemplate(@TempDir Path adapters)
      throws Exception {
    Run byDefault = train(adapters);
    Run older = train(adapters, "--template", "v1");
    Run unknown = train(adapters, "--template", "v9");

    assertThat(byDefault.exit()).as(byDefault.err()).isZero();
    assertThat(older.exit()).as(older.err()).isZero();
    assertThat(AdapterStore.recordedTemplateVersion(adapters.resolve("tiny/1")))
        .isEqualTo(PromptTemplate.V2.version());
    assertThat(AdapterStore.recordedTemplateVersion(adapters.resolve("tiny/2")))
        .isEqualTo(PromptTemplate.V1.version());
    assertThat(unknown.exit()).isEqualTo(2);
    assertThat(unknown.err()).contains("--template: prompt template: v9 (expected: one of");
    assertThat(adapters.resolve("tiny/3")).doesNotExist();
  }

  @Test
  void trainRemote_template_isRefused() {
    StringWriter err = new StringWriter();
    int exit =
        new CommandLine(new TrainCommand())
            .setErr(new PrintWriter(err))
            .execute("--data", data.toString(), "--adapter", "tiny", "--template", "v1");

    assertThat(exit).isEqualTo(2);
    assertThat(err.toString()).contains("--template needs --local");
  }

  @Test
  void trainLocal_startFromMissingOrMismatched_exitsTwoAndRegistersNothing(@TempDir Path adapters)
      throws Exception {
    assertThat(train(adapters).exit()).isZero();

    Run missing = train(adapters, "--start-from", "tiny@9");
    Run otherTargets =
        train(adapters, "--start-from", "tiny@1", "--target-modules", "q_proj,v_proj");
    Run malformed = train(adapters, "--start-from", "Tiny");

    assertThat(missing.exit()).isEqualTo(2);
    assertThat(missing.err()).contains("adapter version not found: tiny@9");
    assertThat(otherTargets.exit()).isEqualTo(2);
    assertThat(otherTargets.err())
        .contains("start_from")
        .contains("targets all-linear")
        .contains("q_proj, v_proj");
    assertThat(malformed.exit()).isEqualTo(2);
    assertThat(malformed.err()).contains("--start-from:");
    assertThat(adapters.resolve("tiny/2")).doesNotExist();
  }
}
