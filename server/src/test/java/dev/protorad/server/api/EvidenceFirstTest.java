package dev.protorad.server.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.protorad.api.v1.AdapterServiceGrpc;
import dev.protorad.api.v1.ExportAdapterRequest;
import dev.protorad.api.v1.SetAdapterAliasRequest;
import dev.protorad.audit.AuditEvent;
import dev.protorad.audit.AuditQuery;
import dev.protorad.audit.CheckpointKeys;
import dev.protorad.audit.FileAuditStore;
import dev.protorad.engine.checkpoint.BaseCheckpoint;
import dev.protorad.engine.model.PromptTemplate;
import dev.protorad.engine.peft.LoraAdapter;
import dev.protorad.engine.peft.LoraConfig;
import dev.protorad.engine.peft.TargetModules;
import dev.protorad.policy.PolicyEngine;
import dev.protorad.server.adapters.AdapterRef;
import dev.protorad.server.adapters.AdapterStore;
import dev.protorad.server.adapters.Lineage;
import dev.protorad.testing.TinyBase;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.MetadataUtils;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** State changes and streamed answers are audited durably before they happen or leave. */
class EvidenceFirstTest {

  @TempDir Path dir;
  private final GovernanceFixture fixture = new GovernanceFixture();
  private FileAuditStore audit;
  private AdapterStore store;
  private ProtoradServer server;
  private ManagedChannel channel;

  @BeforeEach
  void start() throws Exception {
    audit =
        FileAuditStore.builder(dir.resolve("audit"))
            .writerId("test")
            .checkpointKeys(CheckpointKeys.generateInMemory())
            .open();
    BaseCheckpoint base = TinyBase.create(4);
    store = AdapterStore.open(dir.resolve("adapters"), base.config(), base.fingerprint());
    for (int seed = 1; seed <= 2; seed++) {
      store.register(
          "tiny",
          LoraAdapter.create(base.config(), LoraConfig.of(4, 8, TargetModules.of("q_proj")), seed),
          Lineage.imported(PromptTemplate.DEFAULT, "test"));
    }
    store.setAlias("tiny", "production", 1);
    PolicyEngine policy = PolicyEngine.create(fixture.policy(), Clock.systemUTC());
    String name = InProcessServerBuilder.generateName();
    server =
        ProtoradServer.builder(InProcessServerBuilder.forName(name))
            .adapterService(new AdapterGrpcService(store))
            .governance(policy, audit)
            .build()
            .start();
    server.markServing();
    channel = InProcessChannelBuilder.forName(name).build();
  }

  @AfterEach
  void stop() throws Exception {
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    server.shutdown(Duration.ZERO);
    audit.close();
  }

  private AdapterServiceGrpc.AdapterServiceBlockingStub asMlLead() {
    Metadata h = new Metadata();
    h.put(AuthInterceptor.AUTHORIZATION, "Bearer " + fixture.keyByRole.get("ml-lead"));
    return AdapterServiceGrpc.newBlockingStub(channel)
        .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(h));
  }

  private static SetAdapterAliasRequest promoteTwo() {
    return SetAdapterAliasRequest.newBuilder()
        .setName("tiny")
        .setAlias("production")
        .setVersion(2)
        .build();
  }

  @Test
  void aliasMove_isAuditedBeforeItIsApplied_once() {
    asMlLead().setAdapterAlias(promoteTwo());

    List<AuditEvent> moves =
        audit.query(AuditQuery.builder().action("SetAdapterAlias").build()).events();
    assertThat(moves).hasSize(1);
    assertThat(moves.get(0).details().outcome().name()).isEqualTo("ALLOWED");
    assertThat(moves.get(0).details().adapterVersion()).isEqualTo("tiny@2");
    assertThat(store.get(AdapterRef.parse("tiny@production")).ref()).isEqualTo("tiny@2");
  }

  @Test
  void aliasMove_withTheAuditStoreDown_isRefusedAndNotApplied() {
    audit.close();

    assertThatThrownBy(() -> asMlLead().setAdapterAlias(promoteTwo()))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));
    assertThat(store.get(AdapterRef.parse("tiny@production")).ref()).isEqualTo("tiny@1");
  }

  @Test
  void archive_withTheAuditStoreDown_isRefusedAndNotApplied() {
    audit.close();

    assertThatThrownBy(
            () ->
                asMlLead()
                    .archiveAdapterVersion(
                        dev.protorad.api.v1.ArchiveAdapterVersionRequest.newBuilder()
                            .setRef("tiny@2")
                            .build()))
        .isInstanceOf(StatusRuntimeException.class);
    assertThat(store.get(AdapterRef.parse("tiny@2")).archived()).isFalse();
  }

  @Test
  void serverStream_withTheAuditStoreDown_sendsNothing() {
    audit.close();
    var files =
        asMlLead().exportAdapter(ExportAdapterRequest.newBuilder().setRef("tiny@1").build());

    assertThatThrownBy(files::hasNext)
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));
  }

  @Test
  void serverStream_isAuditedOnce_beforeItsFirstMessage() {
    var files =
        asMlLead().exportAdapter(ExportAdapterRequest.newBuilder().setRef("tiny@1").build());
    int messages = 0;
    while (files.hasNext()) {
      files.next();
      messages++;
    }

    assertThat(messages).isGreaterThan(1);
    List<AuditEvent> exports =
        audit.query(AuditQuery.builder().action("ExportAdapter").build()).events();
    assertThat(exports).hasSize(1);
    assertThat(exports.get(0).details().outcome().name()).isEqualTo("ALLOWED");
  }
}
