package dev.protorad.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.protorad.api.v1.AuditServiceGrpc;
import dev.protorad.api.v1.VerifyAuditLogRequest;
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
    ServerConfig config =
        ServerConfig.defaults()
            .withPort(0)
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
}
