package dev.protorad.server.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Timestamp;
import dev.protorad.api.v1.AssignProtocolRequest;
import dev.protorad.api.v1.AssignProtocolResponse;
import dev.protorad.api.v1.CatalogProtocol;
import dev.protorad.api.v1.GetCatalogRequest;
import dev.protorad.api.v1.GetPredictionNoteRequest;
import dev.protorad.api.v1.ListPredictionsRequest;
import dev.protorad.api.v1.ListPredictionsResponse;
import dev.protorad.api.v1.Prediction;
import dev.protorad.api.v1.ProtocolServiceGrpc;
import dev.protorad.api.v1.ReviewDecision;
import dev.protorad.api.v1.ReviewPredictionRequest;
import dev.protorad.audit.AuditEvent;
import dev.protorad.audit.AuditQuery;
import dev.protorad.clinical.catalog.Catalog;
import dev.protorad.server.serving.NoteVault;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a review console reads over the API: the worklist (ListPredictions with filters and pages),
 * the catalog a correction picks from, and a prediction's kept note, to radiologists only, each
 * read audited before the note leaves. Real model, policy, audit store and prediction database.
 */
class ReviewApiTest {

  private static final String NOTE =
      "58F RUQ pain after fatty meals, murphy sign +. r/o cholecystitis";

  @TempDir Path dir;
  private final GovernanceFixture fixture = new GovernanceFixture();
  private GovernedServer governed;

  @BeforeEach
  void start() throws Exception {
    governed =
        GovernedServer.keepingNotes(
            dir,
            fixture.policy(),
            NoteVault.of(Map.of("n1", new byte[NoteVault.KEY_BYTES]), "n1", new SecureRandom()));
  }

  @AfterEach
  void stop() throws Exception {
    governed.close();
  }

  private ProtocolServiceGrpc.ProtocolServiceBlockingStub as(String role) {
    return GovernedServer.withKey(
        ProtocolServiceGrpc.newBlockingStub(governed.channel), fixture.keyByRole.get(role));
  }

  private List<AssignProtocolResponse> assign(int n) {
    List<AssignProtocolResponse> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(
          as("clinician")
              .assignProtocol(
                  AssignProtocolRequest.newBuilder()
                      .setOrderId("ORD-" + i)
                      .setPatientRef("PT-" + i)
                      .setNote(NOTE + " #" + i)
                      .setTopK(3)
                      .build()));
    }
    return out;
  }

  private List<String> allIds(ListPredictionsRequest.Builder request, int pageSize) {
    List<String> ids = new ArrayList<>();
    String token = "";
    do {
      ListPredictionsResponse page =
          as("radiologist")
              .listPredictions(request.setPageSize(pageSize).setPageToken(token).build());
      assertThat(page.getPredictionsCount())
          .isLessThanOrEqualTo(pageSize == 0 ? PredictionListing.DEFAULT_PAGE_SIZE : pageSize);
      page.getPredictionsList().forEach(p -> ids.add(p.getPredictionId()));
      token = page.getNextPageToken();
    } while (!token.isEmpty());
    return ids;
  }

  private static Status.Code code(Runnable call) {
    try {
      call.run();
      return Status.Code.OK;
    } catch (StatusRuntimeException e) {
      return e.getStatus().getCode();
    }
  }

  @Test
  void listPredictions_pagesOldestFirst_andFiltersByReviewOrderAdapterAndTime() {
    List<AssignProtocolResponse> made = assign(5);
    List<String> madeIds = made.stream().map(AssignProtocolResponse::getPredictionId).toList();

    assertThat(allIds(ListPredictionsRequest.newBuilder(), 2)).containsExactlyElementsOf(madeIds);
    assertThat(allIds(ListPredictionsRequest.newBuilder(), 0)).containsExactlyElementsOf(madeIds);

    as("radiologist")
        .reviewPrediction(
            ReviewPredictionRequest.newBuilder()
                .setPredictionId(madeIds.get(1))
                .setDecision(ReviewDecision.REVIEW_DECISION_ACCEPT)
                .build());
    assertThat(allIds(ListPredictionsRequest.newBuilder().setReviewed(true), 2))
        .containsExactly(madeIds.get(1));
    assertThat(allIds(ListPredictionsRequest.newBuilder().setReviewed(false), 2))
        .containsExactly(madeIds.get(0), madeIds.get(2), madeIds.get(3), madeIds.get(4));

    List<String> flagged = allIds(ListPredictionsRequest.newBuilder().setNeedsReview(true), 2);
    List<String> clear = allIds(ListPredictionsRequest.newBuilder().setNeedsReview(false), 2);
    assertThat(Stream.concat(flagged.stream(), clear.stream()))
        .containsExactlyInAnyOrderElementsOf(madeIds);
    for (AssignProtocolResponse r : made) {
      assertThat(r.getNeedsReview() ? flagged : clear).contains(r.getPredictionId());
    }

    assertThat(allIds(ListPredictionsRequest.newBuilder().setOrderId("ORD-3"), 2))
        .containsExactly(madeIds.get(3));
    String adapter = made.get(0).getAdapterVersion();
    assertThat(allIds(ListPredictionsRequest.newBuilder().setAdapter(adapter), 3)).hasSize(5);
    assertThat(allIds(ListPredictionsRequest.newBuilder().setAdapter("other-name"), 3)).isEmpty();
    Timestamp later = ProtoTimes.of(Instant.now().plusSeconds(3600));
    assertThat(allIds(ListPredictionsRequest.newBuilder().setCreatedAfter(later), 3)).isEmpty();
    assertThat(allIds(ListPredictionsRequest.newBuilder().setCreatedBefore(later), 3))
        .containsExactlyElementsOf(madeIds);
  }

  @Test
  void listPredictions_givesTopLabels_andRefusesBadArgumentsAndRolesWithoutPredictionRead() {
    AssignProtocolResponse made = assign(1).get(0);

    Prediction listed =
        as("technologist")
            .listPredictions(ListPredictionsRequest.getDefaultInstance())
            .getPredictions(0);
    assertThat(listed.getAlternativesList()).isEqualTo(made.getAlternativesList());
    assertThat(listed.getLabel()).isEqualTo(made.getLabel());
    assertThat(listed.toString()).doesNotContain("cholecystitis");

    Timestamp now = ProtoTimes.of(Instant.now());
    for (ListPredictionsRequest bad :
        List.of(
            ListPredictionsRequest.newBuilder().setPageSize(501).build(),
            ListPredictionsRequest.newBuilder().setPageSize(-1).build(),
            ListPredictionsRequest.newBuilder().setPageToken("not a token").build(),
            ListPredictionsRequest.newBuilder().setAdapter("Bad Name").build(),
            ListPredictionsRequest.newBuilder()
                .setCreatedAfter(now)
                .setCreatedBefore(now)
                .build())) {
      assertThat(code(() -> as("radiologist").listPredictions(bad)))
          .as(bad.toString())
          .isEqualTo(Status.Code.INVALID_ARGUMENT);
    }
    for (String role : List.of("order-intake", "ml-engineer", "compliance-officer")) {
      assertThat(code(() -> as(role).listPredictions(ListPredictionsRequest.getDefaultInstance())))
          .as(role)
          .isEqualTo(Status.Code.PERMISSION_DENIED);
    }
  }

  @Test
  void getCatalog_givesEveryProtocolWithRegionAndIndications_toLabelReaders() {
    List<CatalogProtocol> protocols =
        as("radiologist").getCatalog(GetCatalogRequest.getDefaultInstance()).getProtocolsList();

    Catalog catalog = Catalog.loadDefault();
    assertThat(protocols)
        .extracting(p -> p.getLabel().getId())
        .containsExactlyElementsOf(catalog.ids());
    assertThat(protocols)
        .allSatisfy(
            p -> {
              assertThat(p.getRegion()).isEqualTo(catalog.get(p.getLabel().getId()).region());
              assertThat(p.getIndicationsList())
                  .isEqualTo(catalog.get(p.getLabel().getId()).indications());
            });
    assertThat(
            code(() -> as("compliance-officer").getCatalog(GetCatalogRequest.getDefaultInstance())))
        .isEqualTo(Status.Code.PERMISSION_DENIED);
  }

  @Test
  void getPredictionNote_toRadiologistsOnly_eachReadAuditedWithoutTheNote() throws Exception {
    AssignProtocolResponse made = assign(1).get(0);
    GetPredictionNoteRequest request =
        GetPredictionNoteRequest.newBuilder().setPredictionId(made.getPredictionId()).build();

    assertThat(as("radiologist").getPredictionNote(request).getNote()).isEqualTo(NOTE + " #0");
    for (String role : List.of("clinician", "technologist", "compliance-officer", "ml-lead")) {
      assertThat(code(() -> as(role).getPredictionNote(request)))
          .as(role)
          .isEqualTo(Status.Code.PERMISSION_DENIED);
    }
    assertThat(
            code(
                () ->
                    as("radiologist")
                        .getPredictionNote(
                            GetPredictionNoteRequest.newBuilder().setPredictionId("nope").build())))
        .isEqualTo(Status.Code.NOT_FOUND);

    List<AuditEvent> reads =
        governed.audit.query(AuditQuery.builder().pageSize(1000).build()).events().stream()
            .filter(e -> e.details().action().endsWith("/GetPredictionNote"))
            .toList();
    AuditEvent allowed =
        reads.stream().filter(e -> e.details().statusCode().equals("OK")).findFirst().orElseThrow();
    assertThat(allowed.details().predictionId()).isEqualTo(made.getPredictionId());
    assertThat(allowed.details().orderId()).isEqualTo("ORD-0");
    assertThat(allowed.details().principal())
        .isEqualTo(GovernanceFixture.principalOf("radiologist"));
    assertThat(reads).hasSize(6);
    try (Stream<Path> files = Files.walk(dir.resolve("audit"))) {
      for (Path f : files.filter(Files::isRegularFile).toList()) {
        assertThat(new String(Files.readAllBytes(f), java.nio.charset.StandardCharsets.ISO_8859_1))
            .doesNotContain("cholecystitis");
      }
    }

    governed.predictions.deleteNotesBefore(Instant.now().plusSeconds(60));
    assertThat(code(() -> as("radiologist").getPredictionNote(request)))
        .isEqualTo(Status.Code.NOT_FOUND);
  }
}
