package dev.protorad.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.protorad.api.v1.AuditEvent;
import dev.protorad.api.v1.QueryAuditEventsRequest;
import dev.protorad.client.examples.ComplianceExample;
import dev.protorad.client.examples.GatewayExample;
import dev.protorad.client.examples.InternalServiceExample;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Runs each client SDK example's entry point against the demo setup served in-process, and checks
 * what it printed against what the server recorded. One server serves the whole class.
 */
class SdkExamplesTest {

  private static final Pattern AUDIT_EVENT = Pattern.compile("audit event: +(\\S+)");

  @TempDir static Path dir;
  private static DemoServer server;
  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();

  @BeforeAll
  static void start() throws Exception {
    server = DemoServer.start(dir, null);
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  private interface Entry {
    int run(String[] args, Map<String, String> env, PrintWriter out, PrintWriter err);
  }

  private int run(Entry example, Map<String, String> env, String... args) {
    out.getBuffer().setLength(0);
    err.getBuffer().setLength(0);
    return example.run(args, env, new PrintWriter(out, true), new PrintWriter(err, true));
  }

  private AuditEvent auditEvent(String eventId) {
    return server
        .as("compliance-officer")
        .queryAuditEvents(QueryAuditEventsRequest.newBuilder().setPageSize(1000).build())
        .getEventsList()
        .stream()
        .filter(e -> e.getEventId().equals(eventId))
        .findFirst()
        .orElseThrow();
  }

  private static String group(Pattern p, String text) {
    Matcher m = p.matcher(text);
    assertThat(m.find()).as(text).isTrue();
    return m.group(1);
  }

  @Test
  void internalService_withAClinicianKey_printsTheLabeledPrediction_recordedAsThatService() {
    int code =
        run(
            InternalServiceExample::run,
            Map.of("PROTORAD_API_KEY", server.keys.get("clinician")),
            server.target(),
            "--order-id",
            "EX-1");

    assertThat(code).as(err.toString()).isZero();
    assertThat(out.toString())
        .contains("health SERVING")
        .contains("order:         EX-1")
        .containsPattern("label: +[a-z0-9-]+ \\(.+\\), confidence [01]\\.\\d\\d");
    AuditEvent event = auditEvent(group(AUDIT_EVENT, out.toString()));
    assertThat(event.getPrincipal()).isEqualTo(DemoSetup.principal("clinician"));
    assertThat(event.getOrderId()).isEqualTo("EX-1");
  }

  @Test
  void internalService_withoutLabelRead_saysTheLabelIsHidden() {
    int code =
        run(
            InternalServiceExample::run,
            Map.of(),
            server.target(),
            "--api-key",
            server.keys.get("order-intake"));

    assertThat(code).as(err.toString()).isZero();
    assertThat(out.toString()).contains("label:         hidden (this caller lacks label:read)");
  }

  @Test
  void internalService_deniedOrWithoutKey_exitsNonZeroWithOneLine() {
    int denied =
        run(
            InternalServiceExample::run,
            Map.of("PROTORAD_API_KEY", server.keys.get("compliance-officer")),
            server.target());
    String deniedErr = err.toString();
    int noKey = run(InternalServiceExample::run, Map.of(), server.target());

    assertThat(denied).isEqualTo(1);
    assertThat(deniedErr.strip())
        .startsWith("internal-service: call failed: PERMISSION_DENIED")
        .doesNotContain("\n");
    assertThat(noKey).isEqualTo(2);
    assertThat(err.toString())
        .startsWith("internal-service: --api-key: missing (or set PROTORAD_API_KEY)\nusage: ");
  }

  @Test
  void gateway_predictionIsAttributedToTheAssertedUserInTheAuditTrail() throws Exception {
    String token = DemoSetup.endUserToken(server.dataDir, "dr.lee", "clinician");

    int code =
        run(
            GatewayExample::run,
            Map.of(
                "PROTORAD_API_KEY", server.keys.get("gateway"), "PROTORAD_END_USER_TOKEN", token),
            server.target(),
            "--order-id",
            "EX-GW-1");

    assertThat(code).as(err.toString()).isZero();
    assertThat(out.toString()).contains("on behalf of dr.lee").contains("order:         EX-GW-1");
    AuditEvent event = auditEvent(group(AUDIT_EVENT, out.toString()));
    assertThat(event.getPrincipal()).isEqualTo(DemoSetup.principal("gateway"));
    assertThat(event.getOnBehalfOf()).isEqualTo("dr.lee");
    assertThat(event.getOrderId()).isEqualTo("EX-GW-1");
  }

  @Test
  void gateway_tokenFromAnotherKeyOrNoToken_exitsNonZero() {
    int forged =
        run(
            GatewayExample::run,
            Map.of("PROTORAD_API_KEY", server.keys.get("gateway")),
            server.target(),
            "--end-user-token",
            "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJtYWxsb3J5In0.c2ln");
    String forgedErr = err.toString();
    int missing =
        run(
            GatewayExample::run,
            Map.of("PROTORAD_API_KEY", server.keys.get("gateway")),
            server.target());

    assertThat(forged).isEqualTo(1);
    assertThat(forgedErr).startsWith("gateway: call failed: UNAUTHENTICATED");
    assertThat(missing).isEqualTo(2);
    assertThat(err.toString())
        .contains("--end-user-token: missing (or set PROTORAD_END_USER_TOKEN)");
  }

  @Test
  void compliance_listsTheGatewayEventForTheUser_andVerifies() throws Exception {
    String token = DemoSetup.endUserToken(server.dataDir, "dr.kim", "radiologist");
    run(
        GatewayExample::run,
        Map.of("PROTORAD_API_KEY", server.keys.get("gateway"), "PROTORAD_END_USER_TOKEN", token),
        server.target());
    assertThat(out.toString()).doesNotContain("RLQ pain");
    String eventId = group(AUDIT_EVENT, out.toString());

    int code =
        run(
            ComplianceExample::run,
            Map.of("PROTORAD_API_KEY", server.keys.get("compliance-officer")),
            server.target(),
            "--principal",
            "dr.kim");

    assertThat(code).as(err.toString()).isZero();
    assertThat(out.toString())
        .containsPattern("AssignProtocol +ALLOWED +OK +demo-gateway for dr\\.kim  \\[" + eventId)
        .contains("compliance: 1 events listed")
        .containsPattern("VerifyAuditLog: OK \\(\\d+ events, \\d+ checkpoints checked\\)")
        .doesNotContain("RLQ pain");
  }

  @Test
  void compliance_withAClinicianKey_isDenied() {
    int code =
        run(
            ComplianceExample::run,
            Map.of("PROTORAD_API_KEY", server.keys.get("clinician")),
            server.target());

    assertThat(code).isEqualTo(1);
    assertThat(err.toString()).startsWith("compliance: call failed: PERMISSION_DENIED");
  }

  @Test
  void launcher_dispatchesToTheExamples() {
    StringWriter o = new StringWriter();
    StringWriter e = new StringWriter();

    int help = launch(o, e, "example", "gateway", "--help");
    int submit =
        launch(
            o,
            e,
            "example",
            "internal-service",
            server.target(),
            "--api-key",
            server.keys.get("order-intake"));
    int compliance =
        launch(
            o,
            e,
            "example",
            "compliance",
            server.target(),
            "--api-key",
            server.keys.get("compliance-officer"),
            "--limit",
            "1");
    int unknown = launch(o, e, "example", "compliance", server.target(), "--bogus");

    assertThat(help).isZero();
    assertThat(submit).as(e.toString()).isZero();
    assertThat(compliance).as(e.toString()).isZero();
    assertThat(unknown).isEqualTo(2);
    assertThat(o.toString())
        .startsWith("gateway HOST:PORT [--api-key GATEWAY_KEY]")
        .contains("internal-service: AssignProtocol answered")
        .contains("compliance: 1 events listed")
        .contains("VerifyAuditLog: OK");
    assertThat(e.toString()).contains("compliance: --bogus: unknown option");
  }

  /** One launcher run, as {@code ./protorad ARGS} makes it. */
  private static int launch(StringWriter out, StringWriter err, String... args) {
    return new CommandLine(new Main())
        .setOut(new PrintWriter(out, true))
        .setErr(new PrintWriter(err, true))
        .execute(args);
  }

  @Test
  void demoToken_printsATokenTheGatewayExampleCanUse() {
    StringWriter o = new StringWriter();
    CommandLine cl = new CommandLine(new Main()).setOut(new PrintWriter(o, true));

    int code =
        cl.execute("demo", "token", "--data-dir", server.dataDir.toString(), "--user", "dr.park");
    int used =
        run(
            GatewayExample::run,
            Map.of(
                "PROTORAD_API_KEY",
                server.keys.get("gateway"),
                "PROTORAD_END_USER_TOKEN",
                o.toString().strip()),
            server.target());

    assertThat(code).isZero();
    assertThat(used).as(err.toString()).isZero();
    assertThat(out.toString()).contains("on behalf of dr.park");
  }
}
