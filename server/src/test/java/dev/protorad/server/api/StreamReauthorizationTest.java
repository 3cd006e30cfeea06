package dev.protorad.server.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.protorad.api.v1.AssignProtocolRequest;
import dev.protorad.api.v1.AssignProtocolsRequest;
import dev.protorad.api.v1.AssignProtocolsResponse;
import dev.protorad.api.v1.ProtocolServiceGrpc;
import dev.protorad.audit.AuditEvent;
import dev.protorad.audit.AuditQuery;
import dev.protorad.policy.PolicyHolder;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** An open {@code AssignProtocols} stream is authorized again on each message. */
class StreamReauthorizationTest {

  @TempDir Path dir;
  private final GovernanceFixture fixture = new GovernanceFixture();
  private Path policyFile;
  private PolicyHolder holder;
  private GovernedServer governed;

  @BeforeEach
  void start() throws Exception {
    policyFile = dir.resolve("policy.yaml");
    Files.writeString(policyFile, fixture.yaml());
    holder = PolicyHolder.load(policyFile);
    governed = GovernedServer.start(dir, holder);
  }

  @AfterEach
  void stop() throws Exception {
    governed.close();
    holder.close();
  }

  private static AssignProtocolsRequest item(String id) {
    return AssignProtocolsRequest.newBuilder()
        .setRequestId(id)
        .setRequest(
            AssignProtocolRequest.newBuilder()
                .setOrderId("S-" + id)
                .setNote("RLQ pain, fever, r/o appendicitis")
                .build())
        .build();
  }

  @Test
  void revokedKey_endsAnOpenStream_onItsNextMessage_andTheDenialIsAudited() throws Exception {
    var stub =
        GovernedServer.withKey(
            ProtocolServiceGrpc.newStub(governed.channel), fixture.keyByRole.get("clinician"));
    LinkedBlockingQueue<AssignProtocolsResponse> answers = new LinkedBlockingQueue<>();
    CompletableFuture<Status> ended = new CompletableFuture<>();
    StreamObserver<AssignProtocolsRequest> requests =
        stub.assignProtocols(
            new StreamObserver<>() {
              @Override
              public void onNext(AssignProtocolsResponse value) {
                answers.add(value);
              }

              @Override
              public void onError(Throwable t) {
                ended.complete(Status.fromThrowable(t));
              }

              @Override
              public void onCompleted() {
                ended.complete(Status.OK);
              }
            });

    requests.onNext(item("before"));
    AssignProtocolsResponse first = answers.poll(60, TimeUnit.SECONDS);
    assertThat(first).isNotNull();
    assertThat(first.getResponse().hasLabel()).isTrue();

    Files.writeString(
        policyFile,
        fixture
            .yaml()
            .replace(
                dev.protorad.policy.ApiKeys.hash(fixture.keyByRole.get("clinician")),
                dev.protorad.policy.ApiKeys.hash("prk_revoked-and-replaced-key-000000000000")));
    assertThat(holder.reload().outcome()).isEqualTo(PolicyHolder.Outcome.APPLIED);
    requests.onNext(item("after"));

    Status status = ended.get(60, TimeUnit.SECONDS);
    assertThat(status.getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
    assertThat(answers).isEmpty();
    AuditEvent denial =
        governed.audit.query(AuditQuery.builder().pageSize(1000).build()).events().stream()
            .filter(e -> e.details().action().endsWith("AssignProtocols"))
            .filter(e -> e.details().statusCode().equals("UNAUTHENTICATED"))
            .findFirst()
            .orElseThrow();
    assertThat(denial.details().outcome().name()).isEqualTo("DENIED");
  }
}
