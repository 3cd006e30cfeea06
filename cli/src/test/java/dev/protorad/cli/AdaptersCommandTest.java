package dev.protorad.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.protorad.api.v1.GetAdapterRequest;
import dev.protorad.api.v1.ListAdaptersRequest;
import dev.protorad.engine.checkpoint.BaseCheckpoint;
import dev.protorad.engine.checkpoint.LoadOptions;
import dev.protorad.engine.peft.LoraAdapter;
import dev.protorad.engine.peft.LoraConfig;
import dev.protorad.engine.peft.TargetModules;
import dev.protorad.server.adapters.AdapterStore;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code protorad adapters import|export} against the demo server, over loopback. */
class AdaptersCommandTest {

  @TempDir Path dir;
  private DemoServer server;

  private record Run(int exit, String out, String err) {}

  @AfterEach
  void stop() throws Exception {
    if (server != null) {
      server.close();
    }
  }

  private Run adapters(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    String[] all = Arrays.copyOf(args, args.length + 4);
    System.arraycopy(
        new String[] {"--server", server.target(), "--api-key", server.keys.get("ml-lead")},
        0,
        all,
        args.length,
        4);
    int exit =
        new CommandLine(new AdaptersCommand())
            .setOut(new PrintWriter(out))
            .setErr(new PrintWriter(err))
            .execute(all);
    return new Run(exit, out.toString(), err.toString());
  }

  private String templateOf(String ref) {
    return server
        .as("ml-lead")
        .getAdapter(GetAdapterRequest.newBuilder().setRef(ref).build())
        .getVersion()
        .getPromptTemplate();
  }

  /** Starts the demo server and writes a PEFT directory (no metadata.json) for its base. */
  private Path startWithPeftFiles() throws Exception {
    server = DemoServer.start(dir, null);
    BaseCheckpoint base = BaseCheckpoint.load(dir.resolve("model"), LoadOptions.defaults());
    Path peft = dir.resolve("peft");
    LoraAdapter.create(base.config(), LoraConfig.of(4, 8, TargetModules.of("q_proj", "v_proj")), 9)
        .write(peft);
    return peft;
  }

  @Test
  void import_recordsTheTemplateTheExportNames_orTheOneGiven_orTheServerDefault() throws Exception {
    Path peft = startWithPeftFiles();
    Path exported = dir.resolve("exported");

    Run named = adapters("import", "tiny", peft.toString(), "--template", "v1");
    Run export = adapters("export", "tiny@1", exported.toString());
    Run roundTrip = adapters("import", "tiny", exported.toString());
    Run bare = adapters("import", "tiny", peft.toString());

    assertThat(named.exit()).as(named.err()).isZero();
    assertThat(export.exit()).as(export.err()).isZero();
    assertThat(exported.resolve(AdapterStore.METADATA_FILE)).exists();
    assertThat(roundTrip.exit()).as(roundTrip.err()).isZero();
    assertThat(bare.exit()).as(bare.err()).isZero();
    assertThat(List.of(templateOf("tiny@1"), templateOf("tiny@2"), templateOf("tiny@3")))
        .containsExactly("v1", "v1", "v2");
  }

  @Test
  void everySubcommand_printsItsHelp() {
    for (String sub : List.of("list", "show", "alias", "import", "export")) {
      StringWriter out = new StringWriter();
      int exit =
          new CommandLine(new AdaptersCommand())
              .setOut(new PrintWriter(out))
              .execute(sub, "--help");

      assertThat(exit).as(sub).isZero();
      assertThat(out.toString()).as(sub).contains("Usage: adapters " + sub).contains("--server");
    }
  }

  @Test
  void import_withAnUnknownTemplate_isRefusedNamingIt_andRegistersNothing() throws Exception {
    Path peft = startWithPeftFiles();
    assertThat(adapters("import", "tiny", peft.toString()).exit()).isZero();
    Path odd = dir.resolve("odd");
    assertThat(adapters("export", "tiny@1", odd.toString()).exit()).isZero();
    Path metadata = odd.resolve(AdapterStore.METADATA_FILE);
    Files.writeString(metadata, Files.readString(metadata).replace("\"v2\"", "\"v9\""));

    Run recorded = adapters("import", "tiny", odd.toString());
    Run given = adapters("import", "tiny", peft.toString(), "--template", "v9");

    assertThat(recorded.exit()).isEqualTo(2);
    assertThat(recorded.err())
        .startsWith("protorad adapters: " + odd)
        .contains("prompt template: v9 (expected: one of [v1, v2])");
    assertThat(given.exit()).isEqualTo(1);
    assertThat(given.err()).contains("INVALID_ARGUMENT").contains("v9");
    assertThat(
            server
                .as("ml-lead")
                .listAdapters(ListAdaptersRequest.getDefaultInstance())
                .getVersionsList())
        .extracting(v -> v.getRef())
        .containsExactly("tiny@1");
  }
}
