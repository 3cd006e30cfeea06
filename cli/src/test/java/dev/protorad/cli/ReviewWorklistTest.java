package dev.protorad.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.protorad.api.v1.AssignProtocolRequest;
import dev.protorad.api.v1.AuditEvent;
import dev.protorad.api.v1.CatalogProtocol;
import dev.protorad.api.v1.GetPredictionNoteRequest;
import dev.protorad.api.v1.ListPredictionsRequest;
import dev.protorad.api.v1.Prediction;
import dev.protorad.api.v1.QueryAuditEventsRequest;
import dev.protorad.api.v1.ReviewDecision;
import dev.protorad.api.v1.ReviewPredictionRequest;
import dev.protorad.api.v1.VerifyAuditLogRequest;
import dev.protorad.client.ProtoradClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A radiologist clears the review worklist through the SDK against a real server: the worklist
 * (needs review, not reviewed), each note read and audited, the catalog for corrections; then the
 * compliance officer finds every note read under the radiologist's name and the trail verifies.
 */
class ReviewWorklistTest {

  @TempDir Path dir;

  @Test
  void aRadiologistClearsTheWorklist_andEveryNoteReadIsInTheTrail() throws Exception {
    // Every answer below this confidence goes to review: all of them, on the tiny test model.
    Path config =
        Files.writeString(dir.resolve("protorad.yaml"), "model:\n  review_threshold: 1.0\n");
    try (DemoServer server = DemoServer.start(dir, config)) {
      ProtoradClient clinician = server.as("clinician");
      Map<String, String> notes = new HashMap<>();
      for (int i = 0; i < 12; i++) {
        String note = "pt " + i + " with RLQ pain and fever, r/o appendicitis, Cr 0.8";
        String id =
            clinician
                .assignProtocol(
                    AssignProtocolRequest.newBuilder().setOrderId("WL-" + i).setNote(note).build())
                .getPredictionId();
        notes.put(id, note);
      }

      ProtoradClient radiologist = server.as("radiologist");
      ListPredictionsRequest worklist =
          ListPredictionsRequest.newBuilder().setNeedsReview(true).setReviewed(false).build();
      List<Prediction> waiting = radiologist.listPredictions(worklist).getPredictionsList();
      List<CatalogProtocol> catalog = radiologist.getCatalog().getProtocolsList();
      assertThat(waiting).hasSize(12);
      for (Prediction p : waiting) {
        assertThat(
                radiologist
                    .getPredictionNote(
                        GetPredictionNoteRequest.newBuilder()
                            .setPredictionId(p.getPredictionId())
                            .build())
                    .getNote())
            .isEqualTo(notes.get(p.getPredictionId()));
        boolean right = p.getLabel().getId().startsWith("ct-abdomen");
        ReviewPredictionRequest.Builder review =
            ReviewPredictionRequest.newBuilder().setPredictionId(p.getPredictionId());
        if (right) {
          review.setDecision(ReviewDecision.REVIEW_DECISION_ACCEPT);
        } else {
          review
              .setDecision(ReviewDecision.REVIEW_DECISION_CORRECT)
              .setCorrectedLabelId(pick(catalog, "ct-abdomen-pelvis-w"));
        }
        radiologist.reviewPrediction(review.build());
      }
      assertThat(radiologist.listPredictions(worklist).getPredictionsList()).isEmpty();

      ProtoradClient compliance = server.as("compliance-officer");
      List<AuditEvent> reads =
          compliance
              .queryAuditEvents(
                  QueryAuditEventsRequest.newBuilder()
                      .setAction("protorad.v1.ProtocolService/GetPredictionNote")
                      .setPageSize(1000)
                      .build())
              .getEventsList();
      assertThat(reads)
          .hasSize(waiting.size())
          .allSatisfy(e -> assertThat(e.getPrincipal()).isEqualTo("demo-radiologist"));
      assertThat(reads).extracting(AuditEvent::getOrderId).allMatch(o -> o.startsWith("WL-"));
      assertThat(compliance.verifyAuditLog(VerifyAuditLogRequest.getDefaultInstance()).getValid())
          .isTrue();
    }
  }

  private static String pick(List<CatalogProtocol> catalog, String id) {
    return catalog.stream()
        .map(p -> p.getLabel().getId())
        .filter(id::equals)
        .findFirst()
        .orElseThrow();
  }
}
