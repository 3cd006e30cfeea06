package dev.protorad.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.protorad.api.v1.AssignProtocolRequest;
import dev.protorad.api.v1.VerifyAuditLogRequest;
import dev.protorad.testing.Postgres;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The documented least-privilege setup starts: the schema's owner runs {@code protorad audit
 * migrate --grant-to ROLE}, and the server, logging in as that role with {@code
 * audit.manage_schema: false}, answers, audits and verifies.
 */
class LeastPrivilegeAuditTest {

  @TempDir Path dir;

  @Test
  void serverAsARoleHoldingOnlyTheMigrateGrants_answersAuditsAndVerifies() throws Exception {
    String schema = "lp_" + Long.toHexString(System.nanoTime());
    String role = "srv_" + schema;
    Postgres.execute("CREATE SCHEMA " + schema, "CREATE ROLE " + role + " LOGIN");
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();

    int migrated =
        new CommandLine(new AuditCommand())
            .setOut(new PrintWriter(out))
            .setErr(new PrintWriter(err))
            .execute(
                "migrate",
                "--jdbc-url",
                Postgres.url("postgres", schema),
                "--user",
                "postgres",
                "--grant-to",
                role);

    assertThat(migrated).as(err.toString()).isZero();
    assertThat(out.toString()).contains("at version 2", "granted to " + role);
    Path config =
        Files.writeString(
            dir.resolve("protorad.yaml"),
            "audit:\n"
                + "  store: postgres\n"
                + "  jdbc_url: \""
                + Postgres.url(role, schema)
                + "\"\n"
                + "  jdbc_user: "
                + role
                + "\n"
                + "  writer_id: w1\n"
                + "  manage_schema: false\n");
    try (DemoServer server = DemoServer.start(dir, config)) {
      var answer =
          server
              .as("clinician")
              .assignProtocol(
                  AssignProtocolRequest.newBuilder()
                      .setOrderId("LP-1")
                      .setNote("RLQ pain, fever, ?appendicitis")
                      .build());
      var verify =
          server
              .as("compliance-officer")
              .verifyAuditLog(VerifyAuditLogRequest.getDefaultInstance());

      assertThat(answer.getAuditEventId()).startsWith("w1:");
      assertThat(verify.getValid()).as(verify.getProblem()).isTrue();
    }
  }

  @Test
  void migrate_installsThePurgeKeyAndFloor_andRefusesAShortFloorWithoutTheOverride()
      throws Exception {
    String schema = "lp_" + Long.toHexString(System.nanoTime());
    Postgres.execute("CREATE SCHEMA " + schema);
    Path key = dir.resolve("checkpoint.key");
    dev.protorad.audit.CheckpointKeys.generate(key);
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cli =
        new CommandLine(new AuditCommand())
            .setOut(new PrintWriter(out))
            .setErr(new PrintWriter(err));
    String url = Postgres.url("postgres", schema);

    int shortFloor =
        cli.execute(
            "migrate", "--jdbc-url", url, "--user", "postgres", "--min-retention-days", "30");
    int migrated =
        cli.execute(
            "migrate",
            "--jdbc-url",
            url,
            "--user",
            "postgres",
            "--checkpoint-key",
            key.toString(),
            "--min-retention-days",
            "2200");

    assertThat(shortFloor).isEqualTo(2);
    assertThat(err.toString()).contains("--min-retention-days: 30", "--allow-short-retention");
    assertThat(migrated).as(err.toString()).isZero();
    assertThat(out.toString()).contains("purge keys installed: 1", "minimum retention 2200 days");
    assertThat(
            Postgres.query(
                "SELECT extract(day FROM min_age)::text FROM " + schema + ".audit_purge_policy"))
        .isEqualTo("2200");
    assertThat(Postgres.query("SELECT count(*)::text FROM " + schema + ".audit_purge_keys"))
        .isEqualTo("1");
  }
}
