package dev.protorad.console;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.Descriptors;
import com.google.protobuf.Timestamp;
import dev.protorad.api.v1.AuditEvent;
import dev.protorad.api.v1.AuditOutcome;
import dev.protorad.api.v1.QueryAuditEventsRequest;
import dev.protorad.api.v1.QueryAuditEventsResponse;
import dev.protorad.api.v1.VerifyAuditLogRequest;
import dev.protorad.api.v1.VerifyAuditLogResponse;
import dev.protorad.client.ProtoradClient;
import io.javalin.http.Context;
import io.javalin.http.HttpStatus;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * The compliance officer's audit pages: search by time, principal, action, outcome, order, patient
 * reference and break-glass; the trail verified on request; the current search exported whole as
 * CSV or JSON lines. With "break-glass only" the table is the break-glass report: who, when, the
 * reason given, and what was seen (action, order, label).
 */
final class AuditPages {

  /** The search fields, as query parameters and form inputs. */
  private static final List<String[]> FIELDS =
      List.of(
          new String[] {"from", "From (date, UTC)", "date"},
          new String[] {"to", "To (date, UTC, inclusive)", "date"},
          new String[] {"principal", "Principal", "text"},
          new String[] {"action", "Action", "text"},
          new String[] {"order", "Order", "text"},
          new String[] {"patient", "Patient ref", "text"});

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int PAGE = 200;
  private static final Pattern EVENT_ID = Pattern.compile("[A-Za-z0-9:._@-]{1,200}");

  private final ConsoleServer console;

  AuditPages(ConsoleServer console) {
    this.console = console;
  }

  void search(Context ctx) {
    Optional<ConsoleServer.Caller> caller = console.caller(ctx);
    if (caller.isEmpty()) {
      return;
    }
    QueryAuditEventsRequest query = query(ctx);
    QueryAuditEventsResponse page =
        caller.get().client().queryAuditEvents(query.toBuilder().setPageSize(PAGE).build());
    StringBuilder body = new StringBuilder(form(ctx)).append(actions(ctx, caller.get()));
    body.append(
        Html.table(
            "events",
            List.of(
                "Time",
                "Principal",
                "Action",
                "Outcome",
                "Order",
                "Patient ref",
                "Label",
                "Break-glass reason",
                "Event"),
            page.getEventsList().stream().map(AuditPages::row).toList()));
    body.append("<p class=\"muted\" id=\"count\">")
        .append(page.getEventsCount())
        .append(page.getNextPageToken().isEmpty() ? " events" : " events shown; export for all")
        .append("</p>");
    ConsoleServer.page(ctx, HttpStatus.OK, "Audit trail", body.toString(), caller.get());
  }

  /** Verify the trail; export the search on the page, all its pages. */
  private static String actions(Context ctx, ConsoleServer.Caller caller) {
    String search = Html.text(ctx.queryString() == null ? "" : ctx.queryString());
    return "<form method=\"post\" action=\"/audit/verify\" class=\"inline\">"
        + Html.csrf(caller.session())
        + "<button type=\"submit\" id=\"verify\">Verify the trail</button></form> "
        + "<a id=\"export-csv\" href=\"/audit/export.csv?"
        + search
        + "\">Export CSV</a> <a id=\"export-jsonl\" href=\"/audit/export.jsonl?"
        + search
        + "\">Export JSON lines</a>";
  }

  private static List<String> row(AuditEvent e) {
    return List.of(
        ReviewPages.time(e.getEventTime().getSeconds()),
        Html.text(e.getPrincipal())
            + (e.getOnBehalfOf().isEmpty() ? "" : " for " + Html.text(e.getOnBehalfOf())),
        Html.text(e.getAction()),
        Html.text(outcome(e.getOutcome())) + " " + Html.text(e.getStatusCode()),
        Html.text(e.getOrderId()),
        Html.text(e.getPatientRef()),
        Html.text(e.getLabelId()),
        Html.text(e.getBreakGlassReason()),
        "<a class=\"event\" href=\"/audit/event?id="
            + Html.text(URLEncoder.encode(e.getEventId(), StandardCharsets.UTF_8))
            + "\"><code>"
            + Html.text(e.getEventId())
            + "</code></a>");
  }

  /** One event, every field of it, through the same audited query as the search. */
  void event(Context ctx) {
    Optional<ConsoleServer.Caller> caller = console.caller(ctx);
    if (caller.isEmpty()) {
      return;
    }
    String id = Optional.ofNullable(ctx.queryParam("id")).orElse("");
    if (!EVENT_ID.matcher(id).matches()) {
      throw new ConsoleServer.BadRequest("id: an audit event id (writer:sequence)");
    }
    List<AuditEvent> found =
        caller
            .get()
            .client()
            .queryAuditEvents(QueryAuditEventsRequest.newBuilder().setEventId(id).build())
            .getEventsList();
    if (found.isEmpty()) {
      throw new ConsoleServer.NotFound("no audit event " + id);
    }
    ConsoleServer.page(ctx, HttpStatus.OK, "Audit event", details(found.get(0)), caller.get());
  }

  /** Every field of {@code e}, in the API's order and names. */
  private static String details(AuditEvent e) {
    StringBuilder out = new StringBuilder("<dl id=\"event\">");
    AuditEvent.getDescriptor().getFields().forEach(f -> out.append(detail(e, f)));
    return out.append("</dl><p><a href=\"/audit\">Back to the search</a></p>").toString();
  }

  private static String detail(AuditEvent e, Descriptors.FieldDescriptor f) {
    return "<dt>" + Html.text(f.getName()) + "</dt><dd>" + Html.text(value(e, f)) + "</dd>";
  }

  private static String value(AuditEvent e, Descriptors.FieldDescriptor f) {
    if (f.isRepeated()) {
      List<String> items = new ArrayList<>();
      for (int i = 0; i < e.getRepeatedFieldCount(f); i++) {
        items.add(String.valueOf(e.getRepeatedField(f, i)));
      }
      return String.join(", ", items);
    }
    Object v = e.getField(f);
    if (v instanceof Timestamp t) {
      return instant(t).toString();
    }
    if (v instanceof Descriptors.EnumValueDescriptor d) {
      return d.getName();
    }
    return String.valueOf(v);
  }

  void verify(Context ctx) {
    Optional<ConsoleServer.Caller> caller = console.caller(ctx);
    if (caller.isEmpty()) {
      return;
    }
    VerifyAuditLogResponse r =
        caller.get().client().verifyAuditLog(VerifyAuditLogRequest.getDefaultInstance());
    String body =
        r.getValid()
            ? "<p id=\"verify-result\" class=\"ok\">Valid: every chain verifies.</p>"
            : "<p id=\"verify-result\" class=\"bad\">Not valid: "
                + Html.text(r.getProblem())
                + "</p>";
    ConsoleServer.page(
        ctx,
        HttpStatus.OK,
        "Audit verification",
        body + "<p><a href=\"/audit\">Back</a></p>",
        caller.get());
  }

  private static final String CSV_HEADER =
      "event_id,event_time,principal,on_behalf_of,action,outcome,status_code,order_id,"
          + "patient_ref,label_id,adapter_version,break_glass_reason,prediction_id\n";

  private static String csvLine(AuditEvent e) {
    return String.join(
        ",",
        List.of(
            cell(e.getEventId()),
            cell(instant(e.getEventTime()).toString()),
            cell(e.getPrincipal()),
            cell(e.getOnBehalfOf()),
            cell(e.getAction()),
            cell(outcome(e.getOutcome())),
            cell(e.getStatusCode()),
            cell(e.getOrderId()),
            cell(e.getPatientRef()),
            cell(e.getLabelId()),
            cell(e.getAdapterVersion()),
            cell(e.getBreakGlassReason()),
            cell(e.getPredictionId())));
  }

  void csv(Context ctx) {
    export(ctx, "audit-events.csv", "text/csv; charset=utf-8", CSV_HEADER, AuditPages::csvLine);
  }

  void jsonl(Context ctx) {
    export(ctx, "audit-events.jsonl", "application/jsonl; charset=utf-8", "", AuditPages::jsonLine);
  }

  private static String jsonLine(AuditEvent e) {
    ObjectNode n = JSON.createObjectNode();
    n.put("event_id", e.getEventId());
    n.put("event_time", instant(e.getEventTime()).toString());
    n.put("principal", e.getPrincipal());
    n.put("on_behalf_of", e.getOnBehalfOf());
    n.put("action", e.getAction());
    n.put("outcome", outcome(e.getOutcome()));
    n.put("status_code", e.getStatusCode());
    n.put("order_id", e.getOrderId());
    n.put("patient_ref", e.getPatientRef());
    n.put("label_id", e.getLabelId());
    n.put("adapter_version", e.getAdapterVersion());
    n.put("break_glass_reason", e.getBreakGlassReason());
    n.put("prediction_id", e.getPredictionId());
    n.put("record_hash", e.getRecordHash());
    return n.toString();
  }

  /**
   * The search on the page, all its pages, as a download: {@code header}, then a line per event.
   */
  private void export(
      Context ctx, String file, String type, String header, Function<AuditEvent, String> line) {
    Optional<ConsoleServer.Caller> caller = console.caller(ctx);
    if (caller.isEmpty()) {
      return;
    }
    StringBuilder out = new StringBuilder(header);
    all(caller.get().client(), query(ctx), e -> out.append(line.apply(e)).append('\n'));
    download(ctx, file, type, out.toString());
  }

  private static void all(
      ProtoradClient client, QueryAuditEventsRequest query, Consumer<AuditEvent> each) {
    String token = "";
    do {
      QueryAuditEventsResponse page =
          client.queryAuditEvents(query.toBuilder().setPageSize(1000).setPageToken(token).build());
      page.getEventsList().forEach(each);
      token = page.getNextPageToken();
    } while (!token.isEmpty());
  }

  private static void download(Context ctx, String file, String type, String body) {
    ctx.header("Content-Disposition", "attachment; filename=\"" + file + "\"");
    ctx.contentType(type).result(body);
  }

  /** A CSV cell: quoted when needed, and never read as a formula by a spreadsheet. */
  static String cell(String value) {
    String v = startsLikeFormula(value) ? "'" + value : value;
    return needsQuotes(v) ? "\"" + v.replace("\"", "\"\"") + "\"" : v;
  }

  private static boolean startsLikeFormula(String value) {
    return !value.isEmpty() && "=+-@\t\r".indexOf(value.charAt(0)) >= 0;
  }

  private static boolean needsQuotes(String value) {
    return value.contains(",")
        || value.contains("\"")
        || value.contains("\n")
        || value.contains("'");
  }

  private static String outcome(AuditOutcome o) {
    return o.name().replace("AUDIT_OUTCOME_", "").toLowerCase(Locale.ROOT);
  }

  private static String outcomePicker(String chosen) {
    StringBuilder out =
        new StringBuilder("<label>Outcome <select name=\"outcome\" id=\"q-outcome\">");
    List.of("", "allowed", "denied", "failed").forEach(o -> out.append(option(o, chosen)));
    return out.append("</select></label> ").toString();
  }

  private static String option(String outcome, String chosen) {
    return "<option value=\""
        + outcome
        + (outcome.equals(chosen) ? "\" selected>" : "\">")
        + (outcome.isEmpty() ? "any" : outcome)
        + "</option>";
  }

  private static String form(Context ctx) {
    StringBuilder out = new StringBuilder("<form method=\"get\" action=\"/audit\" id=\"search\">");
    for (String[] f : FIELDS) {
      out.append("<label>")
          .append(Html.text(f[1]))
          .append(" <input type=\"")
          .append(f[2])
          .append("\" name=\"")
          .append(f[0])
          .append("\" id=\"q-")
          .append(f[0])
          .append("\" value=\"")
          .append(Html.text(Optional.ofNullable(ctx.queryParam(f[0])).orElse("")))
          .append("\"></label> ");
    }
    out.append(outcomePicker(Optional.ofNullable(ctx.queryParam("outcome")).orElse("")))
        .append("<label><input type=\"checkbox\" name=\"break_glass\" value=\"on\"")
        .append("on".equals(ctx.queryParam("break_glass")) ? " checked" : "")
        .append(" id=\"q-break-glass\"> Break-glass only</label> ")
        .append("<button type=\"submit\" id=\"search-button\">Search</button></form>");
    return out.toString();
  }

  private static QueryAuditEventsRequest query(Context ctx) {
    QueryAuditEventsRequest.Builder q = QueryAuditEventsRequest.newBuilder();
    date(ctx, "from")
        .ifPresent(d -> q.setStartTime(timestamp(d.atStartOfDay().toInstant(ZoneOffset.UTC))));
    date(ctx, "to")
        .ifPresent(
            d -> q.setEndTime(timestamp(d.plusDays(1).atStartOfDay().toInstant(ZoneOffset.UTC))));
    text(ctx, "principal").ifPresent(q::setPrincipal);
    text(ctx, "action").ifPresent(q::setAction);
    text(ctx, "order").ifPresent(q::setOrderId);
    text(ctx, "patient").ifPresent(q::setPatientRef);
    switch (Optional.ofNullable(ctx.queryParam("outcome")).orElse("")) {
      case "allowed" -> q.setOutcome(AuditOutcome.AUDIT_OUTCOME_ALLOWED);
      case "denied" -> q.setOutcome(AuditOutcome.AUDIT_OUTCOME_DENIED);
      case "failed" -> q.setOutcome(AuditOutcome.AUDIT_OUTCOME_FAILED);
      case "" -> {}
      default -> throw new ConsoleServer.BadRequest("outcome: allowed, denied or failed");
    }
    q.setBreakGlassOnly("on".equals(ctx.queryParam("break_glass")));
    return q.build();
  }

  private static Optional<String> text(Context ctx, String name) {
    String v = ctx.queryParam(name);
    return v == null || v.isBlank() ? Optional.empty() : Optional.of(v.trim());
  }

  private static Optional<LocalDate> date(Context ctx, String name) {
    Optional<String> v = text(ctx, name);
    try {
      return v.map(LocalDate::parse);
    } catch (DateTimeParseException e) {
      throw new ConsoleServer.BadRequest(name + ": a date (expected: YYYY-MM-DD)");
    }
  }

  private static Instant instant(Timestamp t) {
    return Instant.ofEpochSecond(t.getSeconds(), t.getNanos());
  }

  private static Timestamp timestamp(Instant t) {
    return Timestamp.newBuilder().setSeconds(t.getEpochSecond()).setNanos(t.getNano()).build();
  }
}
