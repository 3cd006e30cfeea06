package dev.protorad.console;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.protorad.api.v1.AdapterEvaluation;
import dev.protorad.api.v1.AdapterVersion;
import dev.protorad.api.v1.AdapterVersionState;
import dev.protorad.api.v1.GetAdapterRequest;
import dev.protorad.api.v1.GetAdapterResponse;
import dev.protorad.api.v1.OperatingPoint;
import dev.protorad.api.v1.ReliabilityBin;
import io.javalin.http.Context;
import io.javalin.http.HttpStatus;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * One adapter version: its lineage, settings and metrics, and the pictures of the evaluation its
 * training recorded (a reliability diagram, precision against coverage with the review gate's
 * operating point, a confusion map and the training loss), drawn in the browser by the bundled
 * ECharts from the figures the page carries.
 */
final class VersionPages {

  private static final Pattern REF = Pattern.compile("[a-z0-9][a-z0-9._-]{0,63}@[1-9][0-9]{0,8}");
  private static final ObjectMapper JSON = new ObjectMapper();

  private final ConsoleServer console;

  VersionPages(ConsoleServer console) {
    this.console = console;
  }

  /** The link to a version's page. */
  static String link(String ref) {
    String[] parts = ref.split("@", 2);
    return "<a href=\"/models/versions/"
        + Html.text(parts[0])
        + "/"
        + Html.text(parts.length > 1 ? parts[1] : "")
        + "\"><code>"
        + Html.text(ref)
        + "</code></a>";
  }

  void show(Context ctx) {
    Optional<ConsoleServer.Caller> caller = console.caller(ctx);
    if (caller.isEmpty()) {
      return;
    }
    String ref = ctx.pathParam("name") + "@" + ctx.pathParam("version");
    if (!REF.matcher(ref).matches()) {
      throw new ConsoleServer.BadRequest("adapter version malformed (expected: name@number)");
    }
    GetAdapterResponse got =
        caller.get().client().getAdapter(GetAdapterRequest.newBuilder().setRef(ref).build());
    AdapterVersion v = got.getVersion();
    String body =
        lineage(v)
            + (got.hasEvaluation()
                ? evaluation(got.getEvaluation())
                : "<p id=\"no-evaluation\" class=\"muted\">This version recorded no evaluation"
                    + " (imported, or registered before evaluations were kept). <code>protorad"
                    + " evaluate --report-dir</code> draws its pictures from a dataset.</p>")
            + table("metrics", "Metrics", "Metric", numbers(v.getMetricsMap()))
            + table(
                "hyper-parameters",
                "Training settings",
                "Setting",
                new TreeMap<>(v.getHyperParametersMap()));
    ConsoleServer.page(ctx, HttpStatus.OK, "Adapter " + ref, body, caller.get());
  }

  private static String lineage(AdapterVersion v) {
    StringBuilder out = new StringBuilder("<dl id=\"lineage\">");
    item(out, "Aliases", Html.text(String.join(", ", v.getAliasesList())));
    item(
        out,
        "State",
        v.getState() == AdapterVersionState.ADAPTER_VERSION_STATE_ARCHIVED ? "archived" : "active");
    item(out, "Made", ReviewPages.time(v.getCreateTime().getSeconds()));
    item(out, "By", Html.text(v.getCreatedBy()));
    item(out, "Parent", v.getParent().isEmpty() ? "none" : link(v.getParent()));
    item(out, "Job", Html.text(v.getJobId()));
    item(out, "Prompt template", Html.text(v.getPromptTemplate()));
    item(out, "Dataset", "<code>" + Html.text(v.getDatasetHash()) + "</code>");
    item(out, "Base", "<code>" + Html.text(v.getBaseFingerprint()) + "</code>");
    item(out, "Content hash", "<code>" + Html.text(v.getContentHash()) + "</code>");
    item(
        out,
        "LoRA",
        String.format(
            Locale.ROOT,
            "rank %d, alpha %s, on %s",
            v.getRank(),
            v.getAlpha(),
            Html.text(String.join(", ", v.getTargetModulesList()))));
    return out.append("</dl>").toString();
  }

  private static Map<String, String> numbers(Map<String, Double> metrics) {
    Map<String, String> out = new TreeMap<>();
    metrics.forEach((k, x) -> out.put(k, String.format(Locale.ROOT, "%.4f", x)));
    return out;
  }

  private static void item(StringBuilder out, String term, String html) {
    out.append("<dt>").append(term).append("</dt><dd>").append(html).append("</dd>");
  }

  private static String table(String id, String heading, String what, Map<String, String> rows) {
    return "<h2>"
        + Html.text(heading)
        + "</h2>"
        + Html.table(
            id,
            List.of(what, "Value"),
            rows.entrySet().stream()
                .map(r -> List.of(Html.text(r.getKey()), Html.text(r.getValue())))
                .toList());
  }

  private static String evaluation(AdapterEvaluation e) {
    StringBuilder out = new StringBuilder("<h2>Evaluation</h2>");
    if (e.getExamples() > 0) {
      out.append("<p id=\"evaluation-split\">On ")
          .append(e.getExamples())
          .append(" notes of the ")
          .append(Html.text(e.getSplit()))
          .append(" split, which training did not learn from.</p>")
          .append(chart("reliability-chart", reliability(e)))
          .append(chart("coverage-chart", coverage(e)))
          .append(chart("confusion-chart", confusion(e)))
          .append(binTable(e));
    }
    if (e.getTrainingLossCount() > 0) {
      out.append(chart("loss-history-chart", loss(e)));
    }
    return out.append("<script src=\"/static/echarts.min.js\"></script>")
        .append("<script src=\"/static/eval-charts.js\"></script>")
        .toString();
  }

  /** A chart's container, its figures in a data attribute (no inline script under the CSP). */
  private static String chart(String id, ObjectNode data) {
    return "<div class=\"chart\" id=\""
        + id
        + "\" data-chart=\""
        + Html.text(data.toString())
        + "\"></div>";
  }

  private static ObjectNode reliability(AdapterEvaluation e) {
    ObjectNode data = JSON.createObjectNode();
    ArrayNode bins = data.putArray("bins");
    for (ReliabilityBin b : e.getReliabilityList()) {
      bins.addArray().add(b.getMeanConfidence()).add(b.getAccuracy()).add(b.getCount());
    }
    return data;
  }

  private static ObjectNode coverage(AdapterEvaluation e) {
    ObjectNode data = JSON.createObjectNode();
    ArrayNode curve = data.putArray("curve");
    for (OperatingPoint p : e.getPrecisionCoverageList()) {
      curve.addArray().add(p.getCoverage()).add(p.getPrecision()).add(p.getThreshold());
    }
    if (e.hasReviewGate()) {
      OperatingPoint g = e.getReviewGate();
      data.putArray("gate").add(g.getCoverage()).add(g.getPrecision()).add(g.getThreshold());
    }
    return data;
  }

  private static ObjectNode confusion(AdapterEvaluation e) {
    ObjectNode data = JSON.createObjectNode();
    ArrayNode labels = data.putArray("labels");
    e.getLabelsList().forEach(labels::add);
    ArrayNode cells = data.putArray("cells");
    e.getConfusionList()
        .forEach(c -> cells.addArray().add(c.getPredicted()).add(c.getGold()).add(c.getCount()));
    return data;
  }

  private static ObjectNode loss(AdapterEvaluation e) {
    ObjectNode data = JSON.createObjectNode();
    ArrayNode loss = data.putArray("loss");
    e.getTrainingLossList().forEach(loss::add);
    return data;
  }

  /** The reliability diagram's figures as text, for reading without the chart. */
  private static String binTable(AdapterEvaluation e) {
    return "<details><summary>Reliability figures</summary>"
        + Html.table(
            "reliability-bins",
            List.of("Mean confidence", "Accuracy", "Notes"),
            e.getReliabilityList().stream()
                .map(
                    b ->
                        List.of(
                            String.format(Locale.ROOT, "%.3f", b.getMeanConfidence()),
                            String.format(Locale.ROOT, "%.3f", b.getAccuracy()),
                            Integer.toString(b.getCount())))
                .toList())
        + "</details>";
  }
}
