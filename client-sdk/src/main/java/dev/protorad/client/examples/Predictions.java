package dev.protorad.client.examples;

import dev.protorad.api.v1.AssignProtocolRequest;
import dev.protorad.api.v1.AssignProtocolResponse;
import java.util.Locale;

/** The request and the printed answer the two submitting examples share. */
final class Predictions {

  static final String SAMPLE_NOTE = "58F, RLQ pain x2d, fever, WBC 14. r/o appendicitis. Cr 0.8.";

  private Predictions() {}

  static AssignProtocolRequest request(ExampleArgs args) {
    return AssignProtocolRequest.newBuilder()
        .setOrderId(args.value("--order-id", "PROTORAD_ORDER_ID").orElse("EXAMPLE-1"))
        .setPatientRef(args.value("--patient-ref", "PROTORAD_PATIENT_REF").orElse(""))
        .setNote(args.value("--note", "PROTORAD_NOTE").orElse(SAMPLE_NOTE))
        .setTopK(3)
        .build();
  }

  /** One line per fact; never the note. */
  static String describe(AssignProtocolRequest request, AssignProtocolResponse r) {
    String label =
        r.hasLabel()
            ? String.format(
                Locale.ROOT,
                "%s (%s), confidence %.2f",
                r.getLabel().getId(),
                r.getLabel().getName(),
                r.getConfidence())
            : "hidden (this caller lacks label:read)";
    return "  order:         "
        + request.getOrderId()
        + "\n  prediction id: "
        + r.getPredictionId()
        + "\n  label:         "
        + label
        + "\n  needs review:  "
        + r.getNeedsReview()
        + (r.getFlagsCount() == 0 ? "" : " " + r.getFlagsList())
        + "\n  adapter:       "
        + (r.getAdapterVersion().isEmpty() ? "(base model)" : r.getAdapterVersion())
        + "\n  audit event:   "
        + r.getAuditEventId();
  }
}
