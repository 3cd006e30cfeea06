package dev.protorad.client.examples;

import com.google.protobuf.Timestamp;
import dev.protorad.api.v1.AuditEvent;
import dev.protorad.api.v1.QueryAuditEventsRequest;
import dev.protorad.api.v1.QueryAuditEventsResponse;
import dev.protorad.api.v1.VerifyAuditLogRequest;
import dev.protorad.api.v1.VerifyAuditLogResponse;
import dev.protorad.client.ProtoradClient;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Map;

/**
 * A compliance officer reading and verifying the audit trail ({@code audit:read}, {@code
 * audit:verify}): lists matching events page by page, oldest first, then checks the hash chains and
 * signed checkpoints. The trail holds an HMAC of each note, never its text.
 *
 * <pre>
 * PROTORAD_API_KEY=prk_… java -cp … dev.protorad.client.examples.ComplianceExample \
 *     127.0.0.1:50051 --principal dr.lee
 * </pre>
 */
public final class ComplianceExample {

  static final String NAME = "compliance";
  static final String USAGE =
      NAME
          + " HOST:PORT [--api-key KEY] [--principal ID] [--order-id ID] [--since ISO-8601]"
          + " [--limit N] [--tls]\n"
          + "  Lists audit events (principal or on-behalf-of user, order, time filters; at most"
          + " --limit, default 50)\n"
          + "  and verifies the audit trail. --api-key defaults to $PROTORAD_API_KEY, HOST:PORT"
          + " to $PROTORAD_TARGET.\n"
          + "  Exit 1 when a call fails or the trail does not verify, 2 on bad arguments.";
  private static final List<String> OPTIONS =
      List.of("--api-key", "--principal", "--order-id", "--since", "--limit");
  private static final int MAX_PAGE = 1000;

  private ComplianceExample() {}

  public static void main(String[] args) {
    System.exit(
        run(
            args,
            System.getenv(),
            new PrintWriter(System.out, false, StandardCharsets.UTF_8),
            new PrintWriter(System.err, false, StandardCharsets.UTF_8)));
  }

  /** Runs the example and returns its exit status. */
  public static int run(String[] args, Map<String, String> env, PrintWriter out, PrintWriter err) {
    return ExampleRunner.run(
        NAME,
        USAGE,
        OPTIONS,
        args,
        env,
        out,
        err,
        (a, channel) -> {
          ProtoradClient client =
              ProtoradClient.builder(channel)
                  .apiKey(a.required("--api-key", "PROTORAD_API_KEY"))
                  .build();
          int limit = limit(a);
          QueryAuditEventsRequest query = query(a);
          out.println(
              NAME + ": audit events on " + a.target() + " (oldest first, at most " + limit + ")");
          int shown = list(client, query, limit, out);
          out.println(NAME + ": " + shown + " events listed");
          VerifyAuditLogResponse v =
              client.verifyAuditLog(VerifyAuditLogRequest.getDefaultInstance());
          if (v.getValid()) {
            out.printf(
                "%s: VerifyAuditLog: OK (%d events, %d checkpoints checked)%n",
                NAME, v.getEventsChecked(), v.getCheckpointsChecked());
            return 0;
          }
          out.printf(
              "%s: VerifyAuditLog: FAILED at writer %s sequence %d: %s%n",
              NAME, v.getFirstBadWriterId(), v.getFirstBadSequence(), v.getProblem());
          return ExampleRunner.FAILED;
        });
  }

  private static int list(
      ProtoradClient client, QueryAuditEventsRequest query, int limit, PrintWriter out) {
    int shown = 0;
    String token = "";
    do {
      QueryAuditEventsResponse page =
          client.queryAuditEvents(
              query.toBuilder()
                  .setPageSize(Math.min(MAX_PAGE, limit - shown))
                  .setPageToken(token)
                  .build());
      for (AuditEvent e : page.getEventsList()) {
        out.println(line(e));
        shown++;
      }
      token = page.getNextPageToken();
    } while (!token.isEmpty() && shown < limit);
    return shown;
  }

  static String line(AuditEvent e) {
    return String.format(
        "  #%-5d %s %-44s %-7s %-18s %s%s%s",
        e.getSequence(),
        Instant.ofEpochSecond(e.getEventTime().getSeconds()),
        e.getAction(),
        e.getOutcome().name().replace("AUDIT_OUTCOME_", ""),
        e.getStatusCode(),
        e.getPrincipal(),
        e.getOnBehalfOf().isEmpty() ? "" : " for " + e.getOnBehalfOf(),
        e.getEventId().isEmpty() ? "" : "  [" + e.getEventId() + "]");
  }

  private static QueryAuditEventsRequest query(ExampleArgs a) throws ExampleArgs.UsageException {
    QueryAuditEventsRequest.Builder q = QueryAuditEventsRequest.newBuilder();
    a.value("--principal", "PROTORAD_AUDIT_PRINCIPAL").ifPresent(q::setPrincipal);
    a.value("--order-id", "PROTORAD_ORDER_ID").ifPresent(q::setOrderId);
    if (a.value("--since", "PROTORAD_SINCE").isPresent()) {
      String since = a.value("--since", "PROTORAD_SINCE").get();
      try {
        Instant t = Instant.parse(since);
        q.setStartTime(Timestamp.newBuilder().setSeconds(t.getEpochSecond()).setNanos(t.getNano()));
      } catch (DateTimeParseException e) {
        throw new ExampleArgs.UsageException(
            "--since: '" + since + "' (expected: an instant such as 2026-11-01T00:00:00Z)");
      }
    }
    return q.build();
  }

  private static int limit(ExampleArgs a) throws ExampleArgs.UsageException {
    String text = a.value("--limit", "PROTORAD_LIMIT").orElse("50");
    try {
      int limit = Integer.parseInt(text);
      if (limit >= 1 && limit <= 100_000) {
        return limit;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw new ExampleArgs.UsageException("--limit: '" + text + "' (expected: 1..100000)");
  }
}
