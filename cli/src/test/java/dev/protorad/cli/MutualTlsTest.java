package dev.protorad.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.protorad.api.v1.AuditServiceGrpc;
import dev.protorad.api.v1.VerifyAuditLogRequest;
import dev.protorad.client.ProtoradChannels;
import dev.protorad.client.ProtoradClient;
import dev.protorad.client.ProtoradException;
import dev.protorad.server.app.ServerProcess;
import dev.protorad.server.config.ServerConfig;
import dev.protorad.server.config.TlsConfig;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContextBuilder;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * TLS with client certificates on the real Netty transport: a certificate issued by the trusted CA
 * maps to its policy principal; no certificate is unauthenticated; a certificate from another CA
 * never completes the handshake. The CAs are made in the test.
 */
class MutualTlsTest {

  @TempDir Path dir;
  private TestPki pki;
  private ServerProcess process;
  private int port;
  private int healthPort;

  @BeforeEach
  void start() throws Exception {
    pki = TestPki.create("ProtoRad Test CA");
    TestPki.Issued server = pki.issue("CN=protorad-server");
    server.writeCertificate(dir.resolve("server.pem"));
    server.writeKey(dir.resolve("server.key"));
    pki.ca().writeCertificate(dir.resolve("ca.pem"));
    Path data = Files.createDirectories(dir.resolve("data"));
    Files.writeString(
        data.resolve("policy.yaml"),
        """
        version: 1
        principals:
          - id: auditor
            kind: service
            roles: [compliance-officer]
            certificates:
              subjects: ["CN=auditor, O=Hospital"]
        """);
    try (java.net.ServerSocket free = new java.net.ServerSocket(0)) {
      healthPort = free.getLocalPort();
    }
    ServerConfig config =
        ServerConfig.defaults()
            .withPort(0)
            .withHealthPort(healthPort)
            .withDataDir(data)
            .withTls(
                new TlsConfig(
                    Optional.of(dir.resolve("server.pem")),
                    Optional.of(dir.resolve("server.key")),
                    Optional.of(dir.resolve("ca.pem")),
                    "optional"));
    process = new ServerProcess(config, new PrintStream(new ByteArrayOutputStream()));
    port = process.start().port();
  }

  @AfterEach
  void stop() throws Exception {
    process.stop();
  }

  private ManagedChannel channel(TestPki.Issued client) throws Exception {
    SslContextBuilder ssl = GrpcSslContexts.forClient().trustManager(pki.ca().certificate());
    if (client != null) {
      ssl.keyManager(client.keys().getPrivate(), client.certificate());
    }
    return NettyChannelBuilder.forAddress("localhost", port).sslContext(ssl.build()).build();
  }

  private Status.Code verifyAs(TestPki.Issued client) throws Exception {
    ManagedChannel channel = channel(client);
    try {
      AuditServiceGrpc.newBlockingStub(channel)
          .withDeadlineAfter(20, TimeUnit.SECONDS)
          .verifyAuditLog(VerifyAuditLogRequest.getDefaultInstance());
      return Status.Code.OK;
    } catch (StatusRuntimeException e) {
      return e.getStatus().getCode();
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  @Test
  void clientCertificate_fromTrustedCa_mapsToItsPrincipal() throws Exception {
    assertThat(verifyAs(pki.issue("CN=auditor, O=Hospital"))).isEqualTo(Status.Code.OK);
  }

  @Test
  void noClientCertificate_isUnauthenticated() throws Exception {
    assertThat(verifyAs(null)).isEqualTo(Status.Code.UNAUTHENTICATED);
  }

  @Test
  void trustedCertificate_ofUnknownSubject_isUnauthenticated() throws Exception {
    assertThat(verifyAs(pki.issue("CN=someone-else, O=Hospital")))
        .isEqualTo(Status.Code.UNAUTHENTICATED);
  }

  @Test
  void certificate_fromAnotherCa_isNeverAccepted() throws Exception {
    TestPki rogue = TestPki.create("Rogue CA");

    // The client offers only certificates the server's CA list names, so the rogue one is not
    // even sent; the call is then as anonymous as one without a certificate.
    assertThat(verifyAs(rogue.issue("CN=auditor, O=Hospital")))
        .isEqualTo(Status.Code.UNAUTHENTICATED);
  }

  @Test
  void cliCommands_speakMutualTls_withCaCertAndKeyFiles() throws Exception {
    TestPki.Issued auditor = pki.issue("CN=auditor, O=Hospital");
    auditor.writeCertificate(dir.resolve("auditor.pem"));
    auditor.writeKey(dir.resolve("auditor.key"));
    String server = "localhost:" + port;
    String ca = dir.resolve("ca.pem").toString();

    Run verified =
        cli(
            "audit",
            "verify",
            "--server",
            server,
            "--ca",
            ca,
            "--cert",
            dir.resolve("auditor.pem").toString(),
            "--key",
            dir.resolve("auditor.key").toString());
    Run anonymous = cli("audit", "verify", "--server", server, "--ca", ca, "--api-key", "prk_x");
    Run plaintext =
        cli("audit", "verify", "--server", server, "--cert", dir.resolve("auditor.pem").toString());

    assertThat(verified.exit()).as(verified.err()).isZero();
    assertThat(anonymous.exit()).isEqualTo(1);
    assertThat(anonymous.err()).contains("UNAUTHENTICATED");
    assertThat(plaintext.exit()).isEqualTo(ExitCodes.USAGE);
    assertThat(plaintext.err()).contains("--cert and --key");
  }

  @Test
  void sdkChannels_verifyTheServerAndPresentTheClientCertificate() throws Exception {
    TestPki.Issued auditor = pki.issue("CN=auditor, O=Hospital");
    auditor.writeCertificate(dir.resolve("auditor.pem"));
    auditor.writeKey(dir.resolve("auditor.key"));
    ManagedChannel channel =
        ProtoradChannels.open(
            "localhost:" + port,
            ProtoradChannels.Tls.verifying(dir.resolve("ca.pem"))
                .withClientCertificate(dir.resolve("auditor.pem"), dir.resolve("auditor.key")));
    try {
      assertThat(
              ProtoradClient.builder(channel)
                  .build()
                  .verifyAuditLog(VerifyAuditLogRequest.getDefaultInstance())
                  .getValid())
          .isTrue();
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    TestPki rogue = TestPki.create("Rogue CA");
    rogue.ca().writeCertificate(dir.resolve("rogue.pem"));
    ManagedChannel untrusting =
        ProtoradChannels.open(
            "localhost:" + port, ProtoradChannels.Tls.verifying(dir.resolve("rogue.pem")));
    try {
      assertThatThrownBy(
              () ->
                  ProtoradClient.builder(untrusting)
                      .maxAttempts(1)
                      .build()
                      .verifyAuditLog(VerifyAuditLogRequest.getDefaultInstance()))
          .isInstanceOfSatisfying(
              ProtoradException.class,
              e -> assertThat(e.code()).isEqualTo(Status.Code.UNAVAILABLE));
    } finally {
      untrusting.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  private record Run(int exit, String out, String err) {}

  private static Run cli(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int exit =
        Main.commandLine().setOut(new PrintWriter(out)).setErr(new PrintWriter(err)).execute(args);
    return new Run(exit, out.toString(), err.toString());
  }

  @Test
  void healthPort_answersHealthInPlaintext_andNothingElse() throws Exception {
    ManagedChannel plain =
        io.grpc.ManagedChannelBuilder.forAddress("localhost", healthPort).usePlaintext().build();
    try {
      assertThat(ProtoradClient.builder(plain).build().health())
          .isEqualTo(io.grpc.health.v1.HealthCheckResponse.ServingStatus.SERVING);
      assertThatThrownBy(
              () ->
                  AuditServiceGrpc.newBlockingStub(plain)
                      .withDeadlineAfter(20, TimeUnit.SECONDS)
                      .verifyAuditLog(VerifyAuditLogRequest.getDefaultInstance()))
          .isInstanceOfSatisfying(
              StatusRuntimeException.class,
              e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNIMPLEMENTED));
    } finally {
      plain.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }
}
