package dev.protorad.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class AuditEventTest {

  private static final Instant T = Instant.parse("2026-05-01T10:15:30.123456789Z");

  @Test
  void seal_truncatesToMicrosAndHashesPreviousPlusCanonicalForm() {
    AuditEvent e = AuditEvent.seal("w1", 1, T, TestDrafts.prediction(1), Hashes.GENESIS);

    assertThat(e.time()).isEqualTo(Instant.parse("2026-05-01T10:15:30.123456Z"));
    assertThat(e.recordHash()).isEqualTo(e.computeHash());
    assertThat(e.eventId()).isEqualTo("w1:1");
  }

  @Test
  void toJson_isSortedCompactAndParsesBackToTheSameEvent() {
    AuditEvent e = AuditEvent.seal("w1", 3, T, TestDrafts.prediction(3), Hashes.GENESIS);

    String json = e.toJson();

    assertThat(json).startsWith("{\"action\":").doesNotContain(" :").doesNotContain("\n");
    assertThat(json.indexOf("\"writerId\"")).isGreaterThan(json.indexOf("\"v\""));
    assertThat(EventCodec.parse(json)).isEqualTo(e);
  }

  @Test
  void parse_nonCanonicalOrExtendedRecord_isRejected() {
    String json = AuditEvent.seal("w1", 3, T, TestDrafts.prediction(3), Hashes.GENESIS).toJson();

    assertThatThrownBy(() -> EventCodec.parse(json.replace(",", ", ")))
        .hasMessageContaining("canonical");
    assertThatThrownBy(
            () -> EventCodec.parse(json.replace("{\"action\"", "{\"extra\":1,\"action\"")))
        .hasMessageContaining("keys");
    assertThatThrownBy(() -> EventCodec.parse("[1]")).hasMessageContaining("object");
  }

  @Test
  void toJson_escapesControlCharactersSoEachRecordIsOneLine() {
    EventDraft d =
        EventDraft.builder(TestDrafts.ASSIGN, Outcome.FAILED, "INVALID_ARGUMENT")
            .orderId("ORD\n1\t\"x\"\u0001")
            .build();
    AuditEvent e = AuditEvent.seal("w1", 1, T, d, Hashes.GENESIS);

    assertThat(e.toJson()).doesNotContain("\n").contains("\\u0001");
    assertThat(EventCodec.parse(e.toJson()).details().orderId()).isEqualTo("ORD\n1\t\"x\"\u0001");
  }

  @Test
  void draft_invalidFields_areRejectedWithTheirName() {
    assertThatThrownBy(() -> EventDraft.builder(" ", Outcome.ALLOWED, "OK").build())
        .hasMessageContaining("action");
    assertThatThrownBy(
            () ->
                EventDraft.builder(TestDrafts.ASSIGN, Outcome.ALLOWED, "OK")
                    .label("x", 1.5)
                    .build())
        .hasMessageContaining("confidence: 1.5 (expected: 0..1)");
    assertThatThrownBy(
            () ->
                new EventDraft(
                    TestDrafts.ASSIGN,
                    Outcome.ALLOWED,
                    "OK",
                    "p",
                    "",
                    List.of(),
                    "",
                    "",
                    "",
                    "abc",
                    "",
                    "",
                    null,
                    "",
                    "",
                    "",
                    "",
                    "",
                    1))
        .hasMessageContaining("noteHmac");
    assertThatThrownBy(() -> AuditEvent.seal("w:1", 1, T, TestDrafts.prediction(1), Hashes.GENESIS))
        .hasMessageContaining("writerId");
  }

  @Test
  void occurrences_areStoredOnlyAboveOne_andRoundTrip() {
    EventDraft one = TestDrafts.prediction(1);
    EventDraft many =
        EventDraft.builder(TestDrafts.ASSIGN, Outcome.DENIED, "UNAUTHENTICATED")
            .principal("anonymous")
            .occurrences(37)
            .build();

    AuditEvent plain = AuditEvent.seal("w1", 1, T, one, Hashes.GENESIS);
    AuditEvent aggregate = AuditEvent.seal("w1", 2, T, many, plain.recordHash());

    assertThat(plain.toJson()).doesNotContain("occurrences");
    assertThat(aggregate.toJson()).contains("\"occurrences\":37");
    assertThat(EventCodec.parse(aggregate.toJson())).isEqualTo(aggregate);
    assertThat(EventCodec.parse(plain.toJson()).details().occurrences()).isEqualTo(1);
    assertThatThrownBy(
            () ->
                EventDraft.builder(TestDrafts.ASSIGN, Outcome.DENIED, "X")
                    .principal("a")
                    .occurrences(0)
                    .build())
        .hasMessageContaining("occurrences: 0");
  }
}
