package dev.protorad.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.protorad.api.v1.AssignProtocolRequest;
import dev.protorad.api.v1.AssignProtocolResponse;
import dev.protorad.api.v1.GetPredictionRequest;
import dev.protorad.clinical.catalog.Catalog;
import dev.protorad.clinical.catalog.Protocol;
import dev.protorad.clinical.gate.LexicalModel;
import dev.protorad.clinical.gate.ReviewGate;
import dev.protorad.clinical.gate.ReviewReason;
import dev.protorad.clinical.gate.VersionGate;
import dev.protorad.engine.checkpoint.BaseCheckpoint;
import dev.protorad.engine.checkpoint.LoadOptions;
import dev.protorad.engine.model.PromptTemplate;
import dev.protorad.engine.peft.LoraAdapter;
import dev.protorad.engine.peft.LoraConfig;
import dev.protorad.engine.peft.TargetModules;
import dev.protorad.server.adapters.AdapterStore;
import dev.protorad.server.adapters.Lineage;
import dev.protorad.training.data.Example;
import dev.protorad.training.data.WrittenCorpus;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An adapter version with a fitted review gate, served by the real server process and called
 * through the Java client SDK: the gate's reasons reach the caller and stay with the prediction.
 */
class ReviewGateServingTest {

  @TempDir static Path dir;
  private static DemoServer server;

  @BeforeAll
  static void start() throws Exception {
    server = DemoServer.start(dir, null);
    BaseCheckpoint base = BaseCheckpoint.load(dir.resolve("model"), LoadOptions.defaults());
    AdapterStore store =
        AdapterStore.open(server.dataDir.resolve("adapters"), base.config(), base.fingerprint());
    Catalog catalog = Catalog.loadDefault();
    List<Example> corpus =
        WrittenCorpus.read(Path.of("..").resolve(WrittenCorpus.DEFAULT_DIR), catalog).examples();
    LexicalModel lexical =
        LexicalModel.train(
            corpus.stream().map(e -> new LexicalModel.Labelled(e.note(), e.label())).toList(),
            catalog.protocols().stream().map(Protocol::id).toList(),
            7);
    // The tiny random base knows nothing; the gate leans on the lexical model, as a fitted gate
    // over a weak adapter would.
    ReviewGate gate = new ReviewGate(0.1, 1.0, 0.5, 0.97, 0.34, false, 0, 0, 0);
    LoraAdapter lora =
        LoraAdapter.create(base.config(), LoraConfig.of(4, 8, TargetModules.of("q_proj")), 3);
    var version =
        store.register(
            "protocol",
            lora,
            Lineage.imported(PromptTemplate.DEFAULT, "test"),
            new VersionGate(gate, lexical));
    store.setAlias("protocol", "production", version.metadata().version());
    store.register("protocol", lora, Lineage.imported(PromptTemplate.DEFAULT, "test"));
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  private static AssignProtocolResponse assign(String orderId, String note) {
    return server
        .as("clinician")
        .assignProtocol(
            AssignProtocolRequest.newBuilder()
                .setOrderId(orderId)
                .setNote(note)
                .setTopK(3)
                .build());
  }

  @Test
  void unfamiliarNote_isAnswered_sentToReview_andSaysWhy_inTheSdkAndTheStoredPrediction() {
    AssignProtocolResponse r = assign("G-1", DemoCommand.UNFAMILIAR_NOTE);

    assertThat(r.getAdapterVersion()).isEqualTo("protocol@1");
    assertThat(r.hasLabel()).isTrue();
    assertThat(r.getNeedsReview()).isTrue();
    assertThat(r.getReviewReasonsList()).contains(ReviewReason.UNFAMILIAR_NOTE);
    var stored =
        server
            .as("clinician")
            .getPrediction(
                GetPredictionRequest.newBuilder().setPredictionId(r.getPredictionId()).build())
            .getPrediction();
    assertThat(stored.getReviewReasonsList()).isEqualTo(r.getReviewReasonsList());
  }

  @Test
  void familiarNote_isScoredWithTheGatesMixture_andNotCalledUnfamiliar() {
    AssignProtocolResponse r =
        assign("G-2", "Sudden worst headache of life while lifting weights, ?SAH. GCS 15.");

    assertThat(r.getReviewReasonsList()).doesNotContain(ReviewReason.UNFAMILIAR_NOTE);
    assertThat(r.getAlternatives(0).getLabel()).isEqualTo(r.getLabel());
    assertThat(r.getLabel().getId()).isIn("ct-head-wo", "cta-head");
  }

  @Test
  void aVersionNoAliasPointsAt_isRefusedToClinicalCallers_byNumberOrDefault() {
    AssignProtocolRequest unpromoted =
        AssignProtocolRequest.newBuilder()
            .setOrderId("G-3")
            .setNote("RLQ pain, ?appendicitis")
            .setAdapter("protocol@2")
            .build();

    assertThatThrownBy(() -> server.as("clinician").assignProtocol(unpromoted))
        .isInstanceOfSatisfying(
            dev.protorad.client.ProtoradException.class,
            e -> assertThat(e.code()).isEqualTo(io.grpc.Status.Code.PERMISSION_DENIED));
    assertThat(
            server
                .as("clinician")
                .assignProtocol(unpromoted.toBuilder().setAdapter("protocol@1").build())
                .getAdapterVersion())
        .isEqualTo("protocol@1");
    assertThat(assign("G-4", "RLQ pain, ?appendicitis").getAdapterVersion())
        .isEqualTo("protocol@1");
  }
}
