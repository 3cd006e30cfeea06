package dev.protorad.cli;

import static java.util.Objects.requireNonNull;

import dev.protorad.api.v1.AssignProtocolRequest;
import dev.protorad.api.v1.AssignProtocolResponse;
import dev.protorad.api.v1.AuditEvent;
import dev.protorad.api.v1.FineTuneEvent;
import dev.protorad.api.v1.HyperParameters;
import dev.protorad.api.v1.JobPhase;
import dev.protorad.api.v1.QueryAuditEventsRequest;
import dev.protorad.api.v1.SetAdapterAliasRequest;
import dev.protorad.api.v1.StartFineTuneRequest;
import dev.protorad.api.v1.TrainingExample;
import dev.protorad.api.v1.VerifyAuditLogResponse;
import dev.protorad.client.ProtoradClient;
import dev.protorad.client.ProtoradException;
import dev.protorad.clinical.catalog.Catalog;
import dev.protorad.server.app.ServerProcess;
import dev.protorad.server.config.ServerConfig;
import dev.protorad.training.data.Split;
import dev.protorad.training.data.SyntheticNotes;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code protorad demo}: starts the server on the embedded defaults with a demo policy, tours what
 * is built through the Java client SDK, and keeps serving.
 */
@Command(
    name = "demo",
    mixinStandardHelpOptions = true,
    description = {
      "Start the server with a demo policy (credentials per role in"
          + " <data-dir>/demo-credentials.json), tour it as different users, and keep serving.",
      "With --no-serve, stop after the tour (exit 0).",
      "`demo token` prints an end-user token for the demo gateway."
    },
    subcommands = DemoCommand.Token.class)
final class DemoCommand implements Callable<Integer> {

  @Mixin ServerOptions options = new ServerOptions();

  @Option(
      names = "--console-port",
      paramLabel = "PORT",
      description = "HTTP port of the web console served after the tour (default 8088; 0: any).")
  Integer consolePort;

  @Option(names = "--no-serve", description = "Stop after the tour instead of serving.")
  boolean noServe;

  @Override
  public Integer call() throws Exception {
    options.applyDemoDefaults();
    step("Preparing the demo policy and credentials in " + options.dataDir);
    Map<String, String> keys = DemoSetup.prepare(options.dataDir);
    ServerConfig config = options.resolve(System.getenv());
    ServerProcess process = new ServerProcess(config, System.out);
    step(
        options.modelDir == null
            ? "Starting the server without a model (no embedded base found in "
                + ServerOptions.EMBEDDED_MODEL
                + ")"
            : "Starting the server on the base model in " + options.modelDir);
    int port = process.start().port();
    ManagedChannel channel =
        ManagedChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
    try {
      tour(channel, keys, options.dataDir, options.modelDir != null);
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    if (noServe) {
      process.stop();
    } else {
      serve(process, config, port, keys);
    }
    return 0;
  }

  private void serve(
      ServerProcess process, ServerConfig resolved, int port, Map<String, String> keys)
      throws Exception {
    ServerConfig config =
        resolved.withConsole(
            resolved
                .console()
                .enabledOn(consolePort != null ? consolePort : resolved.console().port()));
    ConsoleLauncher console = ConsoleLauncher.startIfEnabled(config, port, keys);
    step(
        "Serving on 127.0.0.1:"
            + port
            + ". Credentials: "
            + options.dataDir.resolve(DemoSetup.CREDENTIALS_FILE)
            + "  (Ctrl-C to stop)");
    System.out.println("  Try: ./scripts/python_client_check.py 127.0.0.1:" + port);
    if (console != null) {
      System.out.println("  Console: " + console.url() + "  (sign in with any demo role)");
    }
    try {
      process.serveUntilSignalled();
    } finally {
      if (console != null) {
        console.close();
      }
    }
  }

  private static void tour(
      ManagedChannel channel, Map<String, String> keys, Path dataDir, boolean modelLoaded)
      throws Exception {
    step("Health check from the Java client SDK");
    System.out.println("  health: " + client(channel, key(keys, "clinician")).health());
    clinicianNotes(channel, keys);
    whoMaySeeLabels(channel, keys, dataDir);
    if (modelLoaded) {
      fineTuneAndPromote(channel, keys);
    }
    complianceReview(channel, keys);
  }

  private static void clinicianNotes(ManagedChannel channel, Map<String, String> keys) {
    step("A clinician submits notes; labels, confidence and rule flags come back");
    ProtoradClient clinician = client(channel, key(keys, "clinician"));
    for (int i = 0; i < NOTES.size(); i++) {
      AssignProtocolRequest next = order("DEMO-100" + (i + 1), NOTES.get(i));
      attempt(() -> printAnswer(clinician.assignProtocol(next)));
    }
    step(
        "A note unlike the notes the adapter was trained on is still answered, but sent to review"
            + " with its reasons");
    attempt(() -> printAnswer(clinician.assignProtocol(order("DEMO-1099", UNFAMILIAR_NOTE))));
  }

  private static void whoMaySeeLabels(
      ManagedChannel channel, Map<String, String> keys, Path dataDir) throws Exception {
    AssignProtocolRequest order = order("DEMO-1001", NOTES.get(0));
    step("Order intake submits a note: it gets a prediction id, but no label (no label:read)");
    attempt(() -> printAnswer(client(channel, key(keys, "order-intake")).assignProtocol(order)));
    step("The clinicians' gateway forwards Dr. Lee (end-user JWT, role clinician)");
    ProtoradClient gateway =
        ProtoradClient.builder(channel)
            .apiKey(key(keys, "gateway"))
            .endUserToken(DemoSetup.endUserToken(dataDir, "dr.lee", "clinician"))
            .build();
    attempt(() -> printAnswer(gateway.assignProtocol(order)));
    step("A compliance officer submits a note: denied, and the denial is audited");
    attempt(() -> client(channel, key(keys, "compliance-officer")).assignProtocol(order));
    step("Someone with an unknown key tries: unauthenticated, also audited");
    attempt(() -> client(channel, "prk_this-key-does-not-exist").assignProtocol(order));
  }

  private static void complianceReview(ManagedChannel channel, Map<String, String> keys) {
    ProtoradClient compliance = client(channel, key(keys, "compliance-officer"));
    readAuditTrail(compliance);
    verifyAuditTrail(compliance);
  }

  private static void readAuditTrail(ProtoradClient compliance) {
    step("The compliance officer reads the audit trail (no note text in it: only an HMAC)");
    List<AuditEvent> events =
        compliance
            .queryAuditEvents(QueryAuditEventsRequest.newBuilder().setPageSize(1000).build())
            .getEventsList();
    events.stream().skip(Math.max(0, events.size() - 5)).forEach(DemoCommand::printEvent);
  }

  private static void verifyAuditTrail(ProtoradClient compliance) {
    step("The compliance officer verifies the hash chain and signed checkpoints");
    VerifyAuditLogResponse verify =
        compliance.verifyAuditLog(dev.protorad.api.v1.VerifyAuditLogRequest.getDefaultInstance());
    System.out.printf(
        "  valid: %s (%d events, %d checkpoints checked)%n",
        verify.getValid(), verify.getEventsChecked(), verify.getCheckpointsChecked());
  }

  /**
   * An ML engineer fine-tunes a small new adapter version through the training RPC (progress
   * streamed), the ML lead points the staging alias at it; a request naming staging gets it, one
   * naming no adapter still gets production.
   */
  private static void fineTuneAndPromote(ManagedChannel channel, Map<String, String> keys) {
    step("An ML engineer fine-tunes a new 'protocol' adapter version (QLoRA on the shared base)");
    FineTuneEvent last;
    try {
      last =
          client(channel, key(keys, "ml-engineer"))
              .startFineTune(fineTuneRequest(), DemoCommand::showProgress);
    } catch (ProtoradException e) {
      System.out.println("\n  -> " + e.code());
      return;
    }
    System.out.println();
    if (last.getPhase() != JobPhase.JOB_PHASE_DONE) {
      System.out.println("  job ended " + last.getPhase() + ": " + last.getError());
      return;
    }
    String version = last.getAdapterVersion();
    System.out.println("  registered " + version);
    promoteToStaging(channel, keys, version);
  }

  /** 240 synthetic notes, 30 steps: a tour-sized job. */
  private static StartFineTuneRequest fineTuneRequest() {
    List<TrainingExample> examples =
        SyntheticNotes.builder(Catalog.loadDefault())
            .seed(11)
            .build()
            .generate(240)
            .examples(Split.TRAIN)
            .stream()
            .map(e -> TrainingExample.newBuilder().setNote(e.note()).setLabel(e.label()).build())
            .toList();
    return StartFineTuneRequest.newBuilder()
        .setAdapterName(ServerProcess.DEFAULT_ADAPTER)
        .addAllExamples(examples)
        .setHyperParameters(HyperParameters.newBuilder().setMaxSteps(30).setEpochs(1).setSeed(7))
        .build();
  }

  private static void promoteToStaging(
      ManagedChannel channel, Map<String, String> keys, String version) {
    // A 30-step adapter is for the tour, not for patients: it goes to staging, and production
    // keeps answering requests that name no adapter.
    step("The ML lead promotes it to staging: protocol@staging -> " + version);
    attempt(
        () ->
            client(channel, key(keys, "ml-lead"))
                .setAdapterAlias(
                    SetAdapterAliasRequest.newBuilder()
                        .setName(ServerProcess.DEFAULT_ADAPTER)
                        .setAlias("staging")
                        .setVersion(Integer.parseInt(version.substring(version.indexOf('@') + 1)))
                        .build()));
    step("A request naming protocol@staging is answered by the new version");
    ProtoradClient clinician = client(channel, key(keys, "clinician"));
    AssignProtocolRequest staged =
        order("DEMO-2001", NOTES.get(0)).toBuilder()
            .setAdapter(ServerProcess.DEFAULT_ADAPTER + "@staging")
            .build();
    attempt(() -> printAnsweredBy(clinician.assignProtocol(staged)));
    step("A request without an adapter still uses protocol@production");
    attempt(() -> printAnsweredBy(clinician.assignProtocol(order("DEMO-2002", NOTES.get(0)))));
  }

  private static void printAnsweredBy(AssignProtocolResponse r) {
    printAnswer(r);
    System.out.println("  answered by " + r.getAdapterVersion());
  }

  private static void showProgress(FineTuneEvent e) {
    if (e.getPhase() == JobPhase.JOB_PHASE_TRAINING && e.getTotalSteps() > 0) {
      System.out.print("\r  " + ProgressLine.render(e));
      System.out.flush();
    }
  }

  private static final List<String> NOTES =
      List.of(
          "58F, RLQ pain x2d, fever, WBC 14. r/o appendicitis. Cr 0.8.",
          "72M on apixaban, fall w/ head strike, now confused. Eval for ICH.",
          "34F, 12 wks pregnant, acute SOB and pleuritic CP, HR 118. r/o PE.",
          "61M h/o CKD4 (eGFR 22), flank pain, hematuria. eval for stone.");

  /** A referral written in German: words the default adapter's training notes never used. */
  static final String UNFAMILIAR_NOTE =
      "Patientin klagt seit gestern ueber krampfartige Schmerzen im rechten Unterbauch,"
          + " Fieber und Erbrechen. Bitte um Abklaerung.";

  private static AssignProtocolRequest order(String orderId, String note) {
    return AssignProtocolRequest.newBuilder()
        .setOrderId(orderId)
        .setPatientRef("PT-42")
        .setNote(note)
        .setTopK(3)
        .build();
  }

  private static void printAnswer(AssignProtocolResponse r) {
    String label =
        r.hasLabel()
            ? String.format(Locale.ROOT, "%s (%.2f)", r.getLabel().getName(), r.getConfidence())
            : "(label hidden)";
    System.out.printf(
        "  %s  %-34s review=%s%s flags=%s audit=%s%n",
        r.getPredictionId().substring(0, 8),
        label,
        r.getNeedsReview(),
        r.getReviewReasonsList().isEmpty() ? "" : " " + r.getReviewReasonsList(),
        r.getFlagsList(),
        r.getAuditEventId());
  }

  /** {@code demo token}: a JWT as the demo gateway's identity provider would issue it. */
  @Command(
      name = "token",
      mixinStandardHelpOptions = true,
      description = {
        "Print a 5-minute end-user JWT signed with the demo gateway's key"
            + " (<data-dir>/demo-gateway-key.json), for the demo-gateway principal to forward:",
        "  PROTORAD_END_USER_TOKEN=$(protorad demo token --user dr.lee)"
      })
  static final class Token implements Callable<Integer> {
    @Option(
        names = "--data-dir",
        paramLabel = "DIR",
        description = "Demo data directory (default: data/demo).")
    Path dataDir = ServerOptions.DEMO_DATA_DIR;

    @Option(names = "--user", required = true, description = "The end user (the token's sub).")
    String user;

    @Option(
        names = "--role",
        defaultValue = "clinician",
        description =
            "Role claimed: clinician, radiologist or technologist (default: ${DEFAULT-VALUE}).")
    String role;

    @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
      if (!Files.exists(dataDir.resolve(DemoSetup.GATEWAY_KEY_FILE))) {
        spec.commandLine()
            .getErr()
            .println(
                "demo token: no "
                    + DemoSetup.GATEWAY_KEY_FILE
                    + " in "
                    + dataDir
                    + " (expected: a data directory prepared by `protorad demo`)");
        return ExitCodes.USAGE;
      }
      spec.commandLine().getOut().println(DemoSetup.endUserToken(dataDir, user, role));
      return 0;
    }
  }

  private static void printEvent(AuditEvent e) {
    System.out.printf(
        "  #%-4d %-45s %-8s %-18s %s %s%n",
        e.getSequence(),
        e.getAction(),
        e.getOutcome().name().replace("AUDIT_OUTCOME_", ""),
        e.getStatusCode(),
        e.getPrincipal(),
        e.getOnBehalfOf().isEmpty() ? "" : "for " + e.getOnBehalfOf());
  }

  private static void attempt(Runnable call) {
    try {
      call.run();
    } catch (ProtoradException e) {
      System.out.println("  -> " + e.code());
    }
  }

  private static ProtoradClient client(ManagedChannel channel, String key) {
    return ProtoradClient.builder(channel).apiKey(key).build();
  }

  private static void step(String text) {
    System.out.println("==> " + text);
    System.out.flush();
  }

  private static String key(Map<String, String> keys, String role) {
    return requireNonNull(keys.get(role), () -> "demo key for " + role);
  }
}
