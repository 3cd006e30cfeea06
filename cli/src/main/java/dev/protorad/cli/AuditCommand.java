package dev.protorad.cli;

import com.google.protobuf.util.JsonFormat;
import com.google.protobuf.util.Timestamps;
import dev.protorad.api.v1.AuditEvent;
import dev.protorad.api.v1.AuditOutcome;
import dev.protorad.api.v1.QueryAuditEventsRequest;
import dev.protorad.api.v1.QueryAuditEventsResponse;
import dev.protorad.api.v1.VerifyAuditLogRequest;
import dev.protorad.api.v1.VerifyAuditLogResponse;
import dev.protorad.audit.AuditSchema;
import dev.protorad.audit.AuditVerifier;
import dev.protorad.audit.CheckpointKeys;
import dev.protorad.audit.FileAuditStore;
import dev.protorad.audit.VerifyResult;
import dev.protorad.client.ProtoradClient;
import dev.protorad.server.api.ProtoTimes;
import dev.protorad.server.config.AuditConfig;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.function.Consumer;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code protorad audit query|verify|export}: the compliance officer's view of the audit trail.
 * Query and export go through a running server (so the reads are themselves authorized and
 * audited); verify does too, or reads a file-store directory offline with the public checkpoint
 * key, writing nothing. Migrate applies the PostgreSQL store's schema migrations as the schema's
 * owner and grants the server's role what it needs.
 */
@Command(
    name = "audit",
    mixinStandardHelpOptions = true,
    description = "Query, verify and export the audit trail.",
    subcommands = {
      AuditCommand.Query.class,
      AuditCommand.Verify.class,
      AuditCommand.Export.class,
      AuditCommand.Migrate.class
    })
final class AuditCommand implements Runnable {

  @Override
  public void run() {
    System.out.println("Usage: protorad audit query|verify|export|migrate [options] (see --help)");
  }

  /** Filters shared by query and export. */
  static final class Filters {
    @Option(names = "--since", paramLabel = "TIME", description = "ISO-8601 instant, inclusive.")
    Instant since;

    @Option(names = "--until", paramLabel = "TIME", description = "ISO-8601 instant, exclusive.")
    Instant until;

    @Option(names = "--principal", description = "Principal or on-behalf-of user.")
    String principal = "";

    @Option(names = "--action", description = "RPC name, e.g. AssignProtocol.")
    String action = "";

    @Option(
        names = "--outcome",
        description = "allowed, denied or failed.",
        converter = OutcomeConverter.class)
    AuditOutcome outcome = AuditOutcome.AUDIT_OUTCOME_UNSPECIFIED;

    @Option(names = "--order-id", description = "Order id.")
    String orderId = "";

    @Option(names = "--patient-ref", description = "Patient reference.")
    String patientRef = "";

    @Option(names = "--adapter", description = "Adapter name or name@version.")
    String adapter = "";

    @Option(names = "--break-glass", description = "Only emergency-access events.")
    boolean breakGlass;

    QueryAuditEventsRequest.Builder request() {
      QueryAuditEventsRequest.Builder r =
          QueryAuditEventsRequest.newBuilder()
              .setPrincipal(principal)
              .setAction(action)
              .setOutcome(outcome)
              .setOrderId(orderId)
              .setPatientRef(patientRef)
              .setAdapter(adapter)
              .setBreakGlassOnly(breakGlass)
              .setPageSize(1000);
      if (since != null) {
        r.setStartTime(ProtoTimes.of(since));
      }
      if (until != null) {
        r.setEndTime(ProtoTimes.of(until));
      }
      return r;
    }
  }

  static final class OutcomeConverter implements picocli.CommandLine.ITypeConverter<AuditOutcome> {
    @Override
    public AuditOutcome convert(String value) {
      return switch (value.toLowerCase(Locale.ROOT)) {
        case "allowed" -> AuditOutcome.AUDIT_OUTCOME_ALLOWED;
        case "denied" -> AuditOutcome.AUDIT_OUTCOME_DENIED;
        case "failed" -> AuditOutcome.AUDIT_OUTCOME_FAILED;
        default ->
            throw new picocli.CommandLine.TypeConversionException(
                "'" + value + "' (expected: allowed, denied or failed)");
      };
    }
  }

  @Command(name = "query", mixinStandardHelpOptions = true, description = "List matching events.")
  static final class Query implements Callable<Integer> {
    @Mixin ClientConnection connection = new ClientConnection();
    @Mixin Filters filters = new Filters();

    @Override
    public Integer call() throws Exception {
      System.out.println(printEvents(System.out) + " event(s)");
      return 0;
    }

    /** Prints the matching events as a table, a header then a row each; returns how many. */
    private long printEvents(PrintStream out) throws Exception {
      out.printf(
          "%-22s %-24s %-9s %-18s %-26s %s%n",
          "event", "time", "outcome", "status", "action", "principal");
      return connection.identified().call(c -> eachEvent(c, filters.request(), e -> print(out, e)));
    }

    private static void print(PrintStream out, AuditEvent e) {
      String action = e.getAction().substring(e.getAction().lastIndexOf('/') + 1);
      out.printf(
          "%-22s %-24s %-9s %-18s %-26s %s%s%n",
          e.getEventId(),
          Instant.ofEpochSecond(0, Timestamps.toNanos(e.getEventTime())),
          e.getOutcome().name().replace("AUDIT_OUTCOME_", "").toLowerCase(Locale.ROOT),
          e.getStatusCode(),
          action,
          e.getPrincipal(),
          e.getOnBehalfOf().isEmpty() ? "" : " for " + e.getOnBehalfOf());
    }
  }

  @Command(
      name = "export",
      mixinStandardHelpOptions = true,
      description = "Write matching events as JSON lines.")
  static final class Export implements Callable<Integer> {
    @Mixin ClientConnection connection = new ClientConnection();
    @Mixin Filters filters = new Filters();

    @Option(names = "--out", required = true, paramLabel = "FILE", description = "JSONL file.")
    Path out;

    @Override
    public Integer call() throws Exception {
      try (BufferedWriter w = Files.newBufferedWriter(out, StandardCharsets.UTF_8)) {
        System.out.println(writeEvents(w) + " event(s) written to " + out);
      }
      return 0;
    }

    /** Writes the matching events to {@code w}, one JSON object a line; returns how many. */
    private long writeEvents(BufferedWriter w) throws Exception {
      JsonFormat.Printer json = JsonFormat.printer().omittingInsignificantWhitespace();
      return connection
          .identified()
          .call(c -> eachEvent(c, filters.request(), e -> writeLine(w, json, e)));
    }

    private static void writeLine(BufferedWriter w, JsonFormat.Printer json, AuditEvent e) {
      try {
        w.write(json.print(e));
        w.newLine();
      } catch (IOException ex) {
        throw new java.io.UncheckedIOException(ex);
      }
    }
  }

  @Command(
      name = "verify",
      mixinStandardHelpOptions = true,
      description = {
        "Check the hash chains and signed checkpoints; exit 0 when valid, 1 when not.",
        "Through the server by default; with --dir, offline over a file-store directory."
      })
  static final class Verify implements Callable<Integer> {
    @ArgGroup(exclusive = false)
    Offline offline;

    @Mixin ClientConnection connection = new ClientConnection();

    static final class Offline {
      @Option(names = "--dir", required = true, paramLabel = "DIR", description = "Segment dir.")
      Path dir;

      @Option(
          names = "--public-key",
          required = true,
          paramLabel = "FILE",
          description = "Checkpoint public key(s) (PEM), e.g. keys/audit-checkpoint.pem.pub.")
      List<Path> publicKeys;

      @Option(
          names = "--checkpoint-interval",
          defaultValue = "" + FileAuditStore.DEFAULT_CHECKPOINT_INTERVAL,
          description = "Interval the writer used (default ${DEFAULT-VALUE}).")
      long interval;
    }

    @Override
    public Integer call() throws Exception {
      return offline != null ? verifyOffline() : verifyThroughServer();
    }

    private int verifyOffline() throws IOException {
      VerifyResult r =
          AuditVerifier.verifyDirectory(
              offline.dir, CheckpointKeys.verifyOnly(offline.publicKeys), offline.interval);
      return report(
          r.valid(),
          r.eventsChecked(),
          r.checkpointsChecked(),
          r.firstBadWriter(),
          r.firstBadSequence(),
          r.problem());
    }

    private int verifyThroughServer() throws Exception {
      VerifyAuditLogResponse r =
          connection
              .identified()
              .call(c -> c.verifyAuditLog(VerifyAuditLogRequest.getDefaultInstance()));
      return report(
          r.getValid(),
          r.getEventsChecked(),
          r.getCheckpointsChecked(),
          r.getFirstBadWriterId(),
          r.getFirstBadSequence(),
          r.getProblem());
    }

    private static int report(
        boolean valid,
        long events,
        long checkpoints,
        String writer,
        long sequence,
        String problem) {
      if (valid) {
        System.out.printf("valid: %d events, %d checkpoints checked%n", events, checkpoints);
        return 0;
      }
      System.out.printf(
          "INVALID: first bad record %s:%d (%s); %d events checked%n",
          writer, sequence, problem, events);
      return ExitCodes.FAILURE;
    }
  }

  private static long eachEvent(
      ProtoradClient client, QueryAuditEventsRequest.Builder request, Consumer<AuditEvent> sink) {
    long n = 0;
    String token = "";
    do {
      QueryAuditEventsResponse page = client.queryAuditEvents(request.setPageToken(token).build());
      page.getEventsList().forEach(sink);
      n += page.getEventsCount();
      token = page.getNextPageToken();
    } while (!token.isEmpty());
    return n;
  }

  /** {@code protorad audit migrate}: the PostgreSQL schema, as its owner. */
  @Command(
      name = "migrate",
      mixinStandardHelpOptions = true,
      description = {
        "Apply the PostgreSQL audit schema's migrations (Flyway) as the role that owns the schema,"
            + " and grant the server's role SELECT and INSERT on the tables, USAGE on their"
            + " sequences, SELECT on the purge policy and EXECUTE on the purge function; nothing"
            + " else.",
        "Then run the server as that role with audit.manage_schema: false."
      })
  static final class Migrate implements Callable<Integer> {
    @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

    @Mixin OwnerLogin login;

    @Option(
        names = "--checkpoint-key",
        paramLabel = "FILE",
        description =
            "A server's checkpoint signing key (audit.checkpoint_key_file); repeat for replicas"
                + " with their own keys. Installs the purge key derived from it, which the server's"
                + " role cannot read; without one installed, retention purges are refused.")
    List<Path> checkpointKeys = new ArrayList<>();

    @Option(
        names = "--min-retention-days",
        paramLabel = "DAYS",
        description =
            "The youngest an event may be, by the database's clock, when purged (default: keep"
                + " the current value, "
                + AuditConfig.MIN_RETENTION_DAYS
                + " days on a new schema).")
    Long minRetentionDays;

    @Option(
        names = "--allow-short-retention",
        description =
            "Accept --min-retention-days below six years ("
                + AuditConfig.MIN_RETENTION_DAYS
                + " days).")
    boolean allowShortRetention;

    @Override
    public Integer call() {
      try {
        checkOptions();
        return migrate(purgeKeys());
      } catch (UsageError e) {
        return ExitCodes.usage(spec, e.getMessage());
      }
    }

    private void checkOptions() {
      if (login.urlProblem().isPresent()) {
        throw new UsageError(login.urlProblem().get());
      }
      if (minRetentionDays != null
          && (minRetentionDays < 0
              || (minRetentionDays < AuditConfig.MIN_RETENTION_DAYS && !allowShortRetention))) {
        throw new UsageError(
            "--min-retention-days: "
                + minRetentionDays
                + " (expected: >= "
                + AuditConfig.MIN_RETENTION_DAYS
                + ", or --allow-short-retention)");
      }
    }

    private List<CheckpointKeys> purgeKeys() {
      return checkpointKeys.stream().map(Migrate::purgeKey).toList();
    }

    private static CheckpointKeys purgeKey(Path file) {
      try {
        return CheckpointKeys.load(file);
      } catch (IOException | IllegalArgumentException e) {
        throw new UsageError("--checkpoint-key " + file + ": " + e.getMessage());
      }
    }

    private int migrate(List<CheckpointKeys> keys) {
      AuditSchema.PurgePolicy policy =
          new AuditSchema.PurgePolicy(
              java.util.Optional.ofNullable(minRetentionDays).map(Duration::ofDays), keys);
      try {
        AuditSchema.Result r = AuditSchema.migrate(login.dataSource(), login.serverRole(), policy);
        spec.commandLine()
            .getOut()
            .printf(
                "audit schema %s at version %s (%d migrations applied)%s%s%s%n",
                r.schema(),
                r.version(),
                r.migrationsApplied(),
                login.serverRole().map(role -> "; granted to " + role).orElse(""),
                keys.isEmpty() ? "" : "; purge keys installed: " + keys.size(),
                minRetentionDays == null
                    ? ""
                    : "; minimum retention " + minRetentionDays + " days");
        return 0;
      } catch (IllegalArgumentException | dev.protorad.audit.AuditUnavailableException e) {
        spec.commandLine().getErr().println("protorad audit migrate: " + e.getMessage());
        return ExitCodes.FAILURE;
      }
    }
  }
}
