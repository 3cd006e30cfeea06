package dev.protorad.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.protorad.engine.ModelConfig;
import dev.protorad.engine.checkpoint.BaseCheckpoint;
import dev.protorad.engine.checkpoint.LoadOptions;
import dev.protorad.engine.safetensors.SafetensorsFile;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class EngineCommandsTest {
  @TempDir Path dir;

  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();

  @Test
  void checkpointRandom_thenQuantize_thenInspect() throws Exception {
    Path fp = dir.resolve("fp");
    Path q = dir.resolve("q");

    int made =
        run(
            new CheckpointCommand(),
            "random",
            "--preset",
            "tiny",
            "--hidden",
            "64",
            "--layers",
            "2",
            "--heads",
            "2",
            "--kv-heads",
            "1",
            "--intermediate",
            "128",
            "--vocab",
            "1000",
            "--dtype",
            "bf16",
            "--shards",
            "2",
            "--seed",
            "5",
            "--out",
            fp.toString());
    int quantized = run(new QuantizeCommand(), "--model", fp.toString(), "--out", q.toString());
    int inspected = run(new InspectCommand(), q.toString());

    assertThat(made).as(err.toString()).isZero();
    assertThat(quantized).as(err.toString()).isZero();
    assertThat(inspected).as(err.toString()).isZero();
    ModelConfig c = ModelConfig.read(fp.resolve("config.json"));
    assertThat(c.numKeyValueHeads()).isEqualTo(1);
    assertThat(c.vocabSize()).isEqualTo(1000);
    assertThat(SafetensorsFile.open(q.resolve("model.safetensors")).names())
        .contains("model.layers.1.self_attn.o_proj.weight.quant_state.bitsandbytes__nf4");
    String fingerprint = BaseCheckpoint.load(fp, LoadOptions.defaults()).fingerprint();
    assertThat(out.toString())
        .contains("nf4 packed codes", "bits/parameter", "fingerprint " + fingerprint);
  }

  @Test
  void quantize_missingModel_exitsTwoWithOneLine() {
    int code =
        run(
            new QuantizeCommand(),
            "--model",
            dir.resolve("absent").toString(),
            "--out",
            dir.resolve("o").toString());

    assertThat(code).isEqualTo(2);
    assertThat(err.toString().strip()).startsWith("protorad quantize: ").doesNotContain("\n");
  }

  @Test
  void checkpointRandom_badDtype_exitsTwo() {
    int code = run(new CheckpointCommand(), "random", "--dtype", "f8", "--out", dir.toString());

    assertThat(code).isEqualTo(2);
    assertThat(err.toString()).contains("--dtype: f8 (expected: f16, bf16 or f32)");
  }

  @Test
  void checkpointRandom_badPreset_exitsTwo() {
    int code = run(new CheckpointCommand(), "random", "--preset", "huge", "--out", dir.toString());

    assertThat(code).isEqualTo(2);
    assertThat(err.toString()).contains("preset: huge (expected: tiny or llama-2-7b)");
  }

  @Test
  void inspect_missingArgument_exitsTwo() {
    assertThat(run(new InspectCommand())).isEqualTo(2);
  }

  private int run(Object command, String... args) {
    CommandLine cli = new CommandLine(command);
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));
    return cli.execute(args);
  }
}
