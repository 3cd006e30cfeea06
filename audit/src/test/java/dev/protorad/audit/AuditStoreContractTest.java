package dev.protorad.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Behaviour every {@link AuditStore} shares; subclasses open a real store. */
abstract class AuditStoreContractTest {

  static final CheckpointKeys KEYS = CheckpointKeys.generateInMemory();
  static final Instant T0 = Instant.parse("2026-03-02T09:00:00Z");
  private static final String CANARY = "CANARY-7f3a pt reports anaphylaxis to iodinated contrast";

  final TestDrafts.MutableClock clock = new TestDrafts.MutableClock(T0);
  AuditStore store;

  abstract AuditStore open() throws Exception;

  /** Everything the store persisted, as text (files or rows). */
  abstract String storedText() throws Exception;

  @BeforeEach
  void openStore() throws Exception {
    store = open();
  }

  @AfterEach
  void closeStore() {
    store.close();
  }

  @Test
  void query_returnsAppendedEventsUnchanged() {
    AuditEvent appended = store.append(TestDrafts.prediction(1));

    assertThat(store.query(AuditQuery.builder().build()).events()).containsExactly(appended);
  }

  @Test
  void appendAsync_completesWithTheDurableEvent() throws Exception {
    AuditEvent first = store.appendAsync(TestDrafts.prediction(1)).get();
    AuditEvent second = store.append(TestDrafts.prediction(2));

    assertThat(first.sequence()).isEqualTo(1);
    assertThat(second.previousHash()).isEqualTo(first.recordHash());
    assertThat(store.query(AuditQuery.builder().build()).events()).containsExactly(first, second);
  }

  @Test
  void appendAsync_afterClose_failsWithAuditUnavailable() {
    store.close();

    assertThat(store.appendAsync(TestDrafts.prediction(1)))
        .failsWithin(Duration.ofSeconds(30))
        .withThrowableThat()
        .havingCause()
        .isInstanceOf(AuditUnavailableException.class);
  }

  @Test
  void query_byPrincipal_matchesPrincipalOrOnBehalfOf() {
    store.append(TestDrafts.prediction(0)); // svc-intake on behalf of dr-0
    store.append(TestDrafts.prediction(1)); // ... dr-1
    store.append(TestDrafts.denied("dr-0"));

    assertThat(sequences(AuditQuery.builder().principal("dr-0"))).containsExactly(1L, 3L);
    assertThat(sequences(AuditQuery.builder().principal("svc-intake"))).containsExactly(1L, 2L);
  }

  @Test
  void query_byEventId_findsThatEventOnly_andAMalformedIdIsRefused() {
    List<AuditEvent> appended = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      appended.add(store.append(TestDrafts.prediction(i)));
    }
    AuditEvent second = appended.get(1);
    String writer = second.eventId().substring(0, second.eventId().lastIndexOf(':'));

    assertThat(sequences(AuditQuery.builder().eventId(second.eventId()))).containsExactly(2L);
    assertThat(sequences(AuditQuery.builder().eventId(writer + ":5"))).containsExactly(5L);
    assertThat(sequences(AuditQuery.builder().eventId(writer + ":6"))).isEmpty();
    assertThat(sequences(AuditQuery.builder().eventId(writer + "-other:2"))).isEmpty();
    assertThat(sequences(AuditQuery.builder().eventId(second.eventId()).principal("nobody")))
        .isEmpty();
    for (String malformed : List.of("2", writer + ":0", writer + ":-1", writer + ":x", ":2")) {
      assertThatThrownBy(() -> AuditQuery.builder().eventId(malformed))
          .as(malformed)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("writer:sequence");
    }
  }

  @Test
  void query_byValuesJsonEscapes_findsThem_andAPrefixOfOneFindsNothing() {
    String quoted = "dr \"o'hara\"\\west";
    String accented = "dr-zoë\tnight";
    store.append(TestDrafts.denied(quoted));
    store.append(TestDrafts.denied(accented));
    store.append(TestDrafts.denied("dr-zo"));

    assertThat(sequences(AuditQuery.builder().principal(quoted))).containsExactly(1L);
    assertThat(sequences(AuditQuery.builder().principal(accented))).containsExactly(2L);
    assertThat(sequences(AuditQuery.builder().principal("dr-zo"))).containsExactly(3L);
    assertThat(sequences(AuditQuery.builder().principal("night"))).isEmpty();
  }

  @Test
  void query_byActionOutcomeOrderAndPatient_filtersEach() {
    for (int i = 0; i < 6; i++) {
      store.append(TestDrafts.prediction(i));
    }
    store.append(TestDrafts.denied("mallory"));

    assertThat(sequences(AuditQuery.builder().action(TestDrafts.QUERY))).containsExactly(7L);
    assertThat(sequences(AuditQuery.builder().outcome(Outcome.DENIED))).containsExactly(7L);
    assertThat(sequences(AuditQuery.builder().orderId("ORD-3"))).containsExactly(4L);
    assertThat(sequences(AuditQuery.builder().patientRef("PAT-1"))).containsExactly(2L);
  }

  @Test
  void seal_signsTheEventsNoCheckpointCoversYet_once() {
    store.append(TestDrafts.prediction(0));
    store.append(TestDrafts.prediction(1));
    long before = store.verify().checkpointsChecked();

    boolean sealed = store.seal();
    boolean again = store.seal();

    VerifyResult after = store.verify();
    assertThat(sealed).isTrue();
    assertThat(again).isFalse();
    assertThat(after.valid()).as(after.problem()).isTrue();
    assertThat(after.checkpointsChecked()).isEqualTo(before + 1);
    assertThat(after.unsealedEvents()).isZero();
  }

  @Test
  void query_byMethodNameAlone_matchesThatMethodInItsService_andNoPrefixOrSuffixOfIt() {
    store.append(TestDrafts.prediction(0));
    store.append(TestDrafts.denied("mallory"));
    store.append(TestDrafts.prediction(1));

    assertThat(sequences(AuditQuery.builder().action("AssignProtocol"))).containsExactly(1L, 3L);
    assertThat(sequences(AuditQuery.builder().action("QueryAuditEvents"))).containsExactly(2L);
    assertThat(sequences(AuditQuery.builder().action("Protocol"))).isEmpty();
    assertThat(sequences(AuditQuery.builder().action("AssignProtocols"))).isEmpty();
  }

  @Test
  void query_byAdapter_matchesVersionOrAllVersionsOfAName() {
    store.append(TestDrafts.prediction(0)); // default@1
    store.append(TestDrafts.prediction(1)); // default@2
    store.append(TestDrafts.denied("x"));

    assertThat(sequences(AuditQuery.builder().adapter("default@2"))).containsExactly(2L);
    assertThat(sequences(AuditQuery.builder().adapter("default"))).containsExactly(1L, 2L);
    assertThat(sequences(AuditQuery.builder().adapter("defaul"))).isEmpty();
  }

  @Test
  void query_breakGlassOnly_returnsEmergencyAccess() {
    store.append(TestDrafts.prediction(0));
    store.append(
        EventDraft.builder(TestDrafts.ASSIGN, Outcome.ALLOWED, "OK")
            .principal("dr-er")
            .breakGlassReason("trauma bay, attending unavailable")
            .build());

    List<AuditEvent> events =
        store.query(AuditQuery.builder().breakGlassOnly(true).build()).events();

    assertThat(events).extracting(AuditEvent::sequence).containsExactly(2L);
    assertThat(events.get(0).details().breakGlass()).isTrue();
  }

  @Test
  void query_byTimeRange_includesFromAndExcludesTo() {
    for (int i = 0; i < 4; i++) {
      store.append(TestDrafts.prediction(i));
      clock.advance(Duration.ofHours(1));
    }

    AuditQuery.Builder range =
        AuditQuery.builder().between(T0.plusSeconds(3600), T0.plusSeconds(3 * 3600));

    assertThat(sequences(range)).containsExactly(2L, 3L);
  }

  @Test
  void query_pageByPage_returnsEveryMatchOnceInOrder() {
    for (int i = 0; i < 25; i++) {
      store.append(i % 5 == 0 ? TestDrafts.denied("eve") : TestDrafts.prediction(i));
    }
    List<Long> seen = new ArrayList<>();
    AuditQuery query = AuditQuery.builder().outcome(Outcome.ALLOWED).pageSize(7).build();
    int pages = 0;
    do {
      AuditPage page = store.query(query);
      page.events().forEach(e -> seen.add(e.sequence()));
      query = query.toBuilder().pageToken(page.nextPageToken()).build();
      pages++;
    } while (!query.pageToken().isEmpty());

    assertThat(pages).isEqualTo(3);
    assertThat(seen).hasSize(20).isSorted().doesNotHaveDuplicates();
  }

  @Test
  void query_withTokenOfAnotherStore_isRejected() {
    assertThatThrownBy(() -> store.query(AuditQuery.builder().pageToken("bm90LWEtdG9rZW4").build()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("pageToken");
  }

  @Test
  void verify_afterAppends_isValid() {
    for (int i = 0; i < 12; i++) {
      store.append(TestDrafts.prediction(i));
    }

    VerifyResult result = store.verify();

    assertThat(result.valid()).as(result.problem()).isTrue();
    assertThat(result.eventsChecked()).isEqualTo(12);
  }

  @Test
  void append_noteDigest_neverStoresTheNoteText() throws Exception {
    NoteHmac hmac = NoteHmac.ofBase64(Map.of("k1", NoteHmac.generateKey()), "k1");
    NoteHmac.Digest digest = hmac.digest(CANARY);

    AuditEvent e =
        store.append(
            EventDraft.builder(TestDrafts.ASSIGN, Outcome.ALLOWED, "OK").note(digest).build());
    store.close();
    store = open();

    assertThat(storedText()).doesNotContain(CANARY).doesNotContain("CANARY-7f3a");
    assertThat(storedText()).contains(digest.hmac());
    assertThat(e.toJson()).doesNotContain("CANARY");
    assertThat(hmac.matches(CANARY, digest)).isTrue();
  }

  private List<Long> sequences(AuditQuery.Builder query) {
    return store.query(query.build()).events().stream().map(AuditEvent::sequence).toList();
  }
}
