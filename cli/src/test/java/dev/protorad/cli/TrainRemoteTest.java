package dev.protorad.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code protorad train --server}: a dataset past gRPC's 4 MiB message limit goes up in chunks, and
 * the job on the running server trains on the splits its lines name.
 */
class TrainRemoteTest {

  private static final String[] LABELS = {"ct-head-wo", "ct-chest-w", "us-pelvis"};

  @TempDir Path dir;

  @Test
  void aDatasetOverTheMessageLimit_trainsThroughARunningServer_withItsSplitsKept()
      throws Exception {
    Path data = dir.resolve("big.jsonl");
    StringBuilder jsonl = new StringBuilder();
    String history = "history of hypertension, diabetes and prior surgery; ".repeat(300);
    for (int i = 0; i < 280; i++) {
      String split = i % 10 < 8 ? "train" : i % 10 == 8 ? "validation" : "test";
      jsonl.append(
          String.format(
              "{\"note\":\"order %d, %s\",\"label\":\"%s\",\"split\":\"%s\"}%n",
              i, history, LABELS[i % 3], split));
    }
    Files.writeString(data, jsonl, StandardCharsets.UTF_8);
    assertThat(Files.size(data)).isGreaterThan(4L << 20);

    try (DemoServer server = DemoServer.start(dir, null)) {
      StringWriter out = new StringWriter();
      StringWriter err = new StringWriter();
      int exit =
          new CommandLine(new TrainCommand())
              .setOut(new PrintWriter(out))
              .setErr(new PrintWriter(err))
              .execute(
                  "--server", server.target(),
                  "--api-key", server.keys.get("ml-engineer"),
                  "--data", data.toString(),
                  "--adapter", "remote",
                  "--rank", "4",
                  "--alpha", "8",
                  "--batch-size", "2",
                  "--max-steps", "2",
                  "--max-prompt-tokens", "48");

      assertThat(exit).as(err.toString()).isZero();
      assertThat(out.toString())
          .contains("uploaded 280 examples (224 train, 28 validation, 28 test, 0 unsplit;")
          .contains("splits: 224 train, 28 validation, 28 test")
          .contains("remote@1");
    }
  }
}
