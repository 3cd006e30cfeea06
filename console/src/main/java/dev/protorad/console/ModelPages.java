package dev.protorad.console;

import dev.protorad.api.v1.AdapterVersion;
import dev.protorad.api.v1.AdapterVersionState;
import dev.protorad.api.v1.FineTuneEvent;
import dev.protorad.api.v1.FineTuneJob;
import dev.protorad.api.v1.GetAdapterRequest;
import dev.protorad.api.v1.GetAdapterResponse;
import dev.protorad.api.v1.ListAdaptersRequest;
import dev.protorad.api.v1.ListFineTuneJobsRequest;
import dev.protorad.api.v1.SetAdapterAliasRequest;
import dev.protorad.api.v1.SetAdapterAliasResponse;
import dev.protorad.client.ProtoradClient;
import dev.protorad.client.ProtoradException;
import io.grpc.Status;
import io.javalin.http.Context;
import io.javalin.http.HttpStatus;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * The ML engineer's and lead's model page: adapter versions with their lineage (parent, job,
 * dataset, creator) and metrics, and alias moves, each shown for confirmation before it is made.
 */
final class ModelPages {

  private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9._-]{0,63}");
  private static final Pattern ALIAS = Pattern.compile("[a-z][a-z0-9-]{0,31}");

  private final ConsoleServer console;

  ModelPages(ConsoleServer console) {
    this.console = console;
  }

  void list(Context ctx) {
    Optional<ConsoleServer.Caller> caller = console.caller(ctx);
    if (caller.isEmpty()) {
      return;
    }
    var versions =
        caller
            .get()
            .client()
            .listAdapters(
                ListAdaptersRequest.newBuilder().setPageSize(500).setIncludeArchived(true).build())
            .getVersionsList();
    String body =
        Html.table(
                "versions",
                List.of("Version", "Aliases", "State", "Made", "By", "Parent", "Job", "Metrics"),
                versions.stream().map(ModelPages::row).toList())
            + aliasForm(caller.get().session())
            + jobs(caller.get());
    ConsoleServer.page(ctx, HttpStatus.OK, "Models", body, caller.get());
  }

  /** The first step of an alias move: which adapter, alias and version. */
  private static String aliasForm(Session session) {
    return "<h2>Move an alias</h2><form method=\"post\" action=\"/models/alias\" id=\"alias-form\">"
        + Html.csrf(session)
        + "<label>Adapter <input name=\"name\" id=\"alias-name\" required></label> "
        + "<label>Alias <input name=\"alias\" id=\"alias-alias\" required></label> "
        + "<label>Version <input name=\"version\" id=\"alias-version\" type=\"number\" min=\"1\""
        + " required></label> "
        + "<button type=\"submit\" id=\"alias-next\">Review the move</button></form>";
  }

  private static List<String> row(AdapterVersion v) {
    return List.of(
        VersionPages.link(v.getRef()),
        Html.text(String.join(", ", v.getAliasesList())),
        v.getState() == AdapterVersionState.ADAPTER_VERSION_STATE_ARCHIVED ? "archived" : "active",
        ReviewPages.time(v.getCreateTime().getSeconds()),
        Html.text(v.getCreatedBy()),
        Html.text(v.getParent()),
        Html.text(v.getJobId()),
        metrics(v.getMetricsMap()));
  }

  /** Training jobs, for those who may run them; nothing for the others. */
  private static String jobs(ConsoleServer.Caller caller) {
    return visibleJobs(caller).map(ModelPages::jobTable).orElse("");
  }

  /** The latest training jobs; empty when the caller may not see them. */
  private static Optional<List<FineTuneJob>> visibleJobs(ConsoleServer.Caller caller) {
    try {
      return Optional.of(
          caller
              .client()
              .listFineTuneJobs(ListFineTuneJobsRequest.newBuilder().setPageSize(50).build())
              .getJobsList());
    } catch (ProtoradException e) {
      if (e.code() == Status.Code.PERMISSION_DENIED) {
        return Optional.empty();
      }
      throw e;
    }
  }

  private static String jobTable(List<FineTuneJob> jobs) {
    return "<h2>Training jobs</h2>"
        + Html.table(
            "jobs",
            List.of("Job", "Adapter", "By", "Phase", "Step", "Loss", ""),
            jobs.stream().map(ModelPages::row).toList());
  }

  private static List<String> row(FineTuneJob j) {
    FineTuneEvent e = j.getLatest();
    return List.of(
        "<code>" + Html.text(j.getJobId()) + "</code>",
        Html.text(j.getAdapterName()),
        Html.text(j.getCreatedBy()),
        Html.text(phase(e)),
        e.getStep() + " / " + e.getTotalSteps(),
        String.format(Locale.ROOT, "%.4f", e.getLoss()),
        "<a href=\"/models/jobs/" + Html.text(j.getJobId()) + "\">Loss chart</a>");
  }

  /** A job's live loss chart: the page polls {@link #latest} and plots each new step. */
  void job(Context ctx) {
    Optional<ConsoleServer.Caller> caller = console.caller(ctx);
    if (caller.isEmpty()) {
      return;
    }
    FineTuneJob j = find(caller.get(), ctx.pathParam("id"));
    String registered = j.getLatest().getAdapterVersion();
    String body =
        "<p>"
            + Html.text(j.getAdapterName())
            + " by "
            + Html.text(j.getCreatedBy())
            + ": <span id=\"job-phase\">"
            + Html.text(phase(j.getLatest()))
            + "</span>"
            + (registered.isEmpty() ? "" : ", registered as " + VersionPages.link(registered))
            + "</p><div id=\"loss-chart\" data-job=\""
            + Html.text(j.getJobId())
            + "\" data-history=\""
            + Html.text(history(caller.get(), registered))
            + "\"></div><script src=\"/static/echarts.min.js\"></script>"
            + "<script src=\"/static/loss-chart.js\"></script>";
    ConsoleServer.page(ctx, HttpStatus.OK, "Training job " + j.getJobId(), body, caller.get());
  }

  /**
   * The loss of every step of a finished job, as a JSON array, from the evaluation its version
   * recorded; {@code []} while the job runs (the chart then grows as it polls).
   */
  private static String history(ConsoleServer.Caller caller, String registered) {
    return registered.isEmpty()
        ? "[]"
        : jsonArray(version(caller.client(), registered).getEvaluation().getTrainingLossList());
  }

  /** {@code losses} as a JSON array, a value that is not finite as 0. */
  private static String jsonArray(List<Double> losses) {
    return losses.stream()
        .map(loss -> String.valueOf(Double.isFinite(loss) ? loss : 0))
        .collect(Collectors.joining(",", "[", "]"));
  }

  /** The job's latest state as JSON: phase, step, total steps, loss. */
  void latest(Context ctx) {
    Optional<ConsoleServer.Caller> caller = console.caller(ctx);
    if (caller.isEmpty()) {
      return;
    }
    FineTuneEvent e = find(caller.get(), ctx.pathParam("id")).getLatest();
    ctx.contentType("application/json")
        .result(
            String.format(
                Locale.ROOT,
                "{\"phase\":\"%s\",\"step\":%d,\"total\":%d,\"loss\":%s}",
                phase(e),
                e.getStep(),
                e.getTotalSteps(),
                Float.isFinite(e.getLoss()) ? Float.toString(e.getLoss()) : "null"));
  }

  private static FineTuneJob find(ConsoleServer.Caller caller, String id) {
    return caller
        .client()
        .listFineTuneJobs(ListFineTuneJobsRequest.newBuilder().setPageSize(500).build())
        .getJobsList()
        .stream()
        .filter(j -> j.getJobId().equals(id))
        .findFirst()
        .orElseThrow(() -> new ConsoleServer.NotFound("no such training job"));
  }

  private static String phase(FineTuneEvent e) {
    return e.getPhase().name().replace("JOB_PHASE_", "").toLowerCase(Locale.ROOT);
  }

  /** Shows what the move would do; nothing changes until it is confirmed. */
  void confirmAlias(Context ctx) {
    Optional<ConsoleServer.Caller> caller = console.caller(ctx);
    if (caller.isEmpty()) {
      return;
    }
    Move move = move(ctx);
    var client = caller.get().client();
    AdapterVersion target = version(client, move.name() + "@" + move.version()).getVersion();
    String current = current(client, move);
    String body =
        "<p id=\"confirm-text\">Move <code>"
            + Html.text(move.name() + "@" + move.alias())
            + "</code> from <code>"
            + Html.text(current)
            + "</code> to <code>"
            + Html.text(target.getRef())
            + "</code>? Requests naming the alias are answered by the new version at once.</p>"
            + "<form method=\"post\" action=\"/models/alias/confirm\">"
            + Html.csrf(caller.get().session())
            + hidden("name", move.name())
            + hidden("alias", move.alias())
            + hidden("version", Integer.toString(move.version()))
            + "<button type=\"submit\" id=\"alias-confirm\">Move the alias</button> "
            + "<a href=\"/models\">Cancel</a></form>";
    ConsoleServer.page(ctx, HttpStatus.OK, "Confirm the alias move", body, caller.get());
  }

  /** The version the alias names now, or {@code nothing yet}. */
  private static String current(ProtoradClient client, Move move) {
    try {
      return version(client, move.name() + "@" + move.alias()).getVersion().getRef();
    } catch (ProtoradException e) {
      if (e.code() != Status.Code.NOT_FOUND) {
        throw e;
      }
      return "nothing yet";
    }
  }

  private static GetAdapterResponse version(ProtoradClient client, String ref) {
    return client.getAdapter(GetAdapterRequest.newBuilder().setRef(ref).build());
  }

  void moveAlias(Context ctx) {
    Optional<ConsoleServer.Caller> caller = console.caller(ctx);
    if (caller.isEmpty()) {
      return;
    }
    Move move = move(ctx);
    SetAdapterAliasResponse moved =
        caller
            .get()
            .client()
            .setAdapterAlias(
                SetAdapterAliasRequest.newBuilder()
                    .setName(move.name())
                    .setAlias(move.alias())
                    .setVersion(move.version())
                    .build());
    String body =
        "<p id=\"moved\"><code>"
            + Html.text(move.name() + "@" + move.alias())
            + "</code> now names <code>"
            + Html.text(moved.getVersion().getRef())
            + "</code>"
            + (moved.getPreviousVersion() == 0
                ? ""
                : " (was version " + moved.getPreviousVersion() + ")")
            + ".</p><p><a href=\"/models\">Back to models</a></p>";
    ConsoleServer.page(ctx, HttpStatus.OK, "Alias moved", body, caller.get());
  }

  private record Move(String name, String alias, int version) {}

  private static Move move(Context ctx) {
    String name = Optional.ofNullable(ctx.formParam("name")).orElse("").trim();
    String alias = Optional.ofNullable(ctx.formParam("alias")).orElse("").trim();
    String version = Optional.ofNullable(ctx.formParam("version")).orElse("").trim();
    if (!NAME.matcher(name).matches() || !ALIAS.matcher(alias).matches()) {
      throw new ConsoleServer.BadRequest("adapter name or alias malformed");
    }
    try {
      int v = Integer.parseInt(version);
      if (v < 1) {
        throw new NumberFormatException();
      }
      return new Move(name, alias, v);
    } catch (NumberFormatException e) {
      throw new ConsoleServer.BadRequest("version: a number from 1");
    }
  }

  private static String hidden(String name, String value) {
    return "<input type=\"hidden\" name=\"" + name + "\" value=\"" + Html.text(value) + "\">";
  }

  private static String metrics(Map<String, Double> metrics) {
    return metrics.entrySet().stream()
        .sorted(Map.Entry.comparingByKey())
        .map(m -> Html.text(m.getKey()) + " " + String.format(Locale.ROOT, "%.3f", m.getValue()))
        .collect(Collectors.joining(", "));
  }
}
