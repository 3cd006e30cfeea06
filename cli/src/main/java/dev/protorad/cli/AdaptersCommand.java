package dev.protorad.cli;

import dev.protorad.api.v1.AdapterVersion;
import dev.protorad.api.v1.GetAdapterRequest;
import dev.protorad.api.v1.ListAdaptersRequest;
import dev.protorad.api.v1.ListAdaptersResponse;
import dev.protorad.api.v1.SetAdapterAliasRequest;
import dev.protorad.client.ProtoradClient;
import dev.protorad.client.ProtoradException;
import dev.protorad.engine.model.PromptTemplate;
import dev.protorad.server.adapters.AdapterStore;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code protorad adapters list|show|alias|import|export}: the adapter store through the SDK. */
@Command(
    name = "adapters",
    mixinStandardHelpOptions = true,
    description = "List, inspect, alias, import and export adapter versions on a running server.",
    subcommands = {
      AdaptersCommand.ListCommand.class,
      AdaptersCommand.ShowCommand.class,
      AdaptersCommand.AliasCommand.class,
      AdaptersCommand.ImportCommand.class,
      AdaptersCommand.ExportCommand.class
    })
public final class AdaptersCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Override
  public Integer call() {
    spec.commandLine().usage(spec.commandLine().getOut());
    return ExitCodes.USAGE;
  }

  static String line(AdapterVersion v) {
    return String.format(
        Locale.ROOT,
        "%-28s %-8s r=%-3d %-10s %8d B  %s  %s%s",
        v.getRef(),
        v.getState().name().replace("ADAPTER_VERSION_STATE_", "").toLowerCase(Locale.ROOT),
        v.getRank(),
        v.getCreatedBy(),
        v.getSizeBytes(),
        v.getContentHash().substring(0, Math.min(12, v.getContentHash().length())),
        v.getMetricsMap().containsKey("test.accuracy")
            ? String.format(Locale.ROOT, "test acc %.3f ", v.getMetricsMap().get("test.accuracy"))
            : "",
        v.getAliasesCount() == 0 ? "" : "[" + String.join(", ", v.getAliasesList()) + "]");
  }

  static int fail(CommandSpec spec, ProtoradException e) {
    spec.commandLine().getErr().println("protorad adapters: " + e.getMessage());
    return ExitCodes.FAILURE;
  }

  @Command(name = "list", mixinStandardHelpOptions = true, description = "List adapter versions.")
  static final class ListCommand implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin ClientConnection connection;

    @Option(names = "--name", description = "Only this adapter.")
    String name;

    @Option(names = "--all", description = "Include archived versions.")
    boolean all;

    @Override
    public Integer call() throws Exception {
      return connection.run(spec, this::list);
    }

    private int list(ProtoradClient client) {
      PrintWriter out = spec.commandLine().getOut();
      String token = "";
      do {
        ListAdaptersResponse page = client.listAdapters(request(token));
        page.getVersionsList().forEach(v -> out.println(line(v)));
        token = page.getNextPageToken();
      } while (!token.isEmpty());
      out.flush();
      return 0;
    }

    private ListAdaptersRequest request(String pageToken) {
      ListAdaptersRequest.Builder r =
          ListAdaptersRequest.newBuilder().setIncludeArchived(all).setPageToken(pageToken);
      if (name != null) {
        r.setName(name);
      }
      return r.build();
    }
  }

  @Command(
      name = "show",
      mixinStandardHelpOptions = true,
      description = "Show one version with its lineage.")
  static final class ShowCommand implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin ClientConnection connection;

    @Parameters(paramLabel = "REF", description = "name, name@N or name@alias.")
    String ref;

    @Override
    public Integer call() throws Exception {
      return connection.run(spec, this::show);
    }

    private int show(ProtoradClient client) {
      PrintWriter out = spec.commandLine().getOut();
      out.println(
          client.getAdapter(GetAdapterRequest.newBuilder().setRef(ref).build()).getVersion());
      out.flush();
      return 0;
    }
  }

  @Command(
      name = "alias",
      mixinStandardHelpOptions = true,
      description = "Point an alias (production, staging) at a version.")
  static final class AliasCommand implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin ClientConnection connection;

    @Parameters(index = "0", paramLabel = "NAME")
    String name;

    @Parameters(index = "1", paramLabel = "ALIAS")
    String alias;

    @Parameters(index = "2", paramLabel = "VERSION")
    int version;

    @Override
    public Integer call() throws Exception {
      return connection.run(spec, this::setAlias);
    }

    private int setAlias(ProtoradClient client) {
      var r =
          client.setAdapterAlias(
              SetAdapterAliasRequest.newBuilder()
                  .setName(name)
                  .setAlias(alias)
                  .setVersion(version)
                  .build());
      spec.commandLine()
          .getOut()
          .printf(
              Locale.ROOT,
              "%s@%s -> %d (was %s)%n",
              name,
              alias,
              version,
              r.getPreviousVersion() == 0 ? "unset" : r.getPreviousVersion());
      return 0;
    }
  }

  @Command(
      name = "import",
      mixinStandardHelpOptions = true,
      description = "Upload PEFT files as the next version of NAME.")
  static final class ImportCommand implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin ClientConnection connection;

    @Parameters(index = "0", paramLabel = "NAME")
    String name;

    @Parameters(index = "1", paramLabel = "DIR")
    Path dir;

    @Option(
        names = "--template",
        paramLabel = "VERSION",
        description =
            "Prompt template the adapter was trained with (default: the one DIR/metadata.json"
                + " records, as exported; else the server's default).")
    String template;

    @Override
    public Integer call() throws Exception {
      String promptTemplate;
      try {
        String recorded = AdapterStore.recordedTemplateVersion(dir);
        // An explicit --template goes to the server as given (the server checks it); with none,
        // PromptTemplate.select decides on the server's side as well.
        promptTemplate =
            template != null
                ? template
                : recorded == null ? "" : PromptTemplate.select(null, recorded, false).version();
      } catch (IllegalArgumentException e) {
        spec.commandLine().getErr().println("protorad adapters: " + dir + ": " + e.getMessage());
        return ExitCodes.USAGE;
      }
      return connection.run(
          spec,
          client -> {
            spec.commandLine()
                .getOut()
                .println(line(client.importAdapter(name, dir, promptTemplate)));
            return 0;
          });
    }
  }

  @Command(
      name = "export",
      mixinStandardHelpOptions = true,
      description = "Download a version's PEFT files and metadata.")
  static final class ExportCommand implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin ClientConnection connection;

    @Parameters(index = "0", paramLabel = "REF")
    String ref;

    @Parameters(index = "1", paramLabel = "DIR")
    Path dir;

    @Override
    public Integer call() throws Exception {
      return connection.run(spec, this::export);
    }

    private int export(ProtoradClient client) throws IOException {
      spec.commandLine().getOut().println(line(client.exportAdapter(ref, dir)));
      return 0;
    }
  }
}
