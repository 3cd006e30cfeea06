package dev.protorad.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.protorad.clinical.catalog.Catalog;
import dev.protorad.testing.TinyCheckpoint;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class ScoreCommandTest {

  @TempDir Path dir;

  private record Run(int exit, String out, String err) {}

  private Run score(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int exit =
        new CommandLine(new ScoreCommand())
            .setOut(new PrintWriter(out))
            .setErr(new PrintWriter(err))
            .execute(args);
    return new Run(exit, out.toString(), err.toString());
  }

  @Test
  void score_json_givesADistributionOverEveryCatalogLabel() throws Exception {
    Path model = TinyCheckpoint.write(dir);

    Run run = score("--model", model.toString(), "--note", "r/o PE, SOB, tachy", "--json");

    assertThat(run.exit()).isZero();
    JsonNode json = new ObjectMapper().readTree(run.out());
    assertThat(json.get("template_version").asText()).isEqualTo("v1");
    List<String> ids = new ArrayList<>();
    json.get("probabilities").fieldNames().forEachRemaining(ids::add);
    assertThat(ids).containsExactlyElementsOf(Catalog.loadDefault().ids());
    double sum = 0;
    for (String id : ids) {
      sum += json.get("probabilities").get(id).asDouble();
      assertThat(json.get("log_likelihoods").get(id).asDouble()).isNegative();
    }
    assertThat(sum).isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-6));
    assertThat(json.get("top_k")).hasSize(5);
  }

  @Test
  void score_blankNote_exitsTwoNamingTheOption() throws Exception {
    Path model = TinyCheckpoint.write(dir);

    Run run = score("--model", model.toString(), "--note", "  ");

    assertThat(run.exit()).isEqualTo(2);
    assertThat(run.err()).startsWith("protorad score: --note:");
  }

  @Test
  void score_missingModel_exitsTwo() {
    Run run = score("--model", dir.resolve("nope").toString(), "--note", "x");

    assertThat(run.exit()).isEqualTo(2);
    assertThat(run.err()).startsWith("protorad score: --model:");
  }
}
