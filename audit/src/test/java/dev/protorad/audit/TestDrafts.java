package dev.protorad.audit;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;

/** Drafts and clocks shared by the tests. */
final class TestDrafts {

  static final String ASSIGN = "protorad.v1.ProtocolService/AssignProtocol";
  static final String QUERY = "protorad.v1.AuditService/QueryAuditEvents";

  private TestDrafts() {}

  /** A varied allowed prediction draft; {@code i} picks order, patient and adapter. */
  static EventDraft prediction(int i) {
    return EventDraft.builder(ASSIGN, Outcome.ALLOWED, "OK")
        .principal("svc-intake")
        .onBehalfOf("dr-" + (i % 3))
        .roles(List.of("clinician"))
        .clientAddress("10.0.0." + (i % 250))
        .orderId("ORD-" + i)
        .patientRef("PAT-" + (i % 5))
        .label("ct-abdomen-w", 0.5 + (i % 50) / 100.0)
        .model("default@" + (1 + i % 2), "sha256:base")
        .traceId("trace-" + i)
        .predictionId("pred-" + i)
        .build();
  }

  static EventDraft denied(String principal) {
    return EventDraft.builder(QUERY, Outcome.DENIED, "PERMISSION_DENIED")
        .principal(principal)
        .roles(List.of("order-intake"))
        .build();
  }

  /** A clock the test moves by hand. */
  static final class MutableClock extends Clock {
    private Instant now;

    MutableClock(Instant start) {
      this.now = start;
    }

    void advance(Duration d) {
      now = now.plus(d);
    }

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      return this;
    }

    @Override
    public synchronized Instant instant() {
      return now;
    }
  }
}
