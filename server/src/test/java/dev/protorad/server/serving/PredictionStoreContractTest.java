package dev.protorad.server.serving;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.protorad.clinical.catalog.Catalog;
import dev.protorad.policy.BreakGlassGrant;
import dev.protorad.policy.BreakGlassGrants;
import dev.protorad.server.serving.PredictionStore.PredictionStoreException;
import dev.protorad.server.serving.PredictionStore.ReviewedNote;
import dev.protorad.testing.MutableClock;
import dev.protorad.training.data.Example;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TimeZone;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * What the server and {@code dataset feedback} rely on from the prediction store, run against each
 * database it supports: sealed notes written with their prediction, one review per prediction, the
 * feedback query, and the retention purge.
 */
abstract class PredictionStoreContractTest {

  private static final Instant NOW = Instant.parse("2026-11-20T09:30:00.123456Z");
  private static final Duration RETENTION = Duration.ofDays(90);

  private final NoteVault vault =
      NoteVault.of(Map.of("n1", new byte[NoteVault.KEY_BYTES]), "n1", new SecureRandom());
  private final MutableClock clock = new MutableClock(NOW);

  private final List<PredictionStore> opened = Collections.synchronizedList(new ArrayList<>());

  /** Opens the store under test; every call in one test opens the same database. */
  abstract PredictionStore open(Optional<NoteVault> vault);

  private PredictionStore store() {
    return store(Optional.of(vault));
  }

  private PredictionStore store(Optional<NoteVault> withVault) {
    PredictionStore store = open(withVault);
    opened.add(store);
    return store;
  }

  @AfterEach
  void closeStores() {
    opened.forEach(PredictionStore::close);
  }

  static StoredPrediction prediction(String id, Instant createdAt) {
    return new StoredPrediction(
        id,
        "O-" + id,
        "PT-7",
        "ct-head-wo",
        0.42,
        "protocol@3",
        true,
        List.of("contrast-allergy", "renal"),
        List.of("low-confidence", "rule-flag"),
        List.of(
            new StoredPrediction.Alternative("ct-head-wo", 0.42),
            new StoredPrediction.Alternative("ct-head-w-wo", 0.31)),
        createdAt,
        "w1:" + id,
        Optional.empty());
  }

  private static StoredPrediction.Review corrected(String label, Instant at) {
    return new StoredPrediction.Review(false, label, "dr.kim", at, "wrong body part");
  }

  private static StoredPrediction.Review accepted(Instant at) {
    return new StoredPrediction.Review(true, "", "dr.lee", at, "");
  }

  private String opened(ReviewedNote r) throws NoteVault.OpenException {
    return vault.open(r.prediction().predictionId(), r.note().orElseThrow());
  }

  @Test
  void insertAndFind_roundTripsEveryField() {
    PredictionStore store = store();
    StoredPrediction p = prediction("p-1", NOW);

    store.insert(p, "note one");

    assertThat(store.find("p-1")).contains(p);
    assertThat(store.find("p-2")).isEmpty();
  }

  @Test
  void list_pagesByTimeThenId_withEveryFilter() throws Exception {
    PredictionStore store = store();
    List<StoredPrediction> made = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      // Two predictions share each instant, so pages must break ties by id.
      StoredPrediction p = prediction("p-" + i, NOW.plusSeconds(i / 2));
      if (i == 4) {
        p =
            new StoredPrediction(
                p.predictionId(),
                "O-x",
                p.patientRef(),
                p.labelId(),
                p.confidence(),
                "chest_ct@2",
                false,
                p.flags(),
                p.reviewReasons(),
                p.alternatives(),
                p.createdAt(),
                p.auditEventId(),
                p.review());
      }
      store.insert(p, "note " + i);
      made.add(p);
    }
    store.review("p-1", accepted(NOW.plusSeconds(9)));

    List<String> paged = new ArrayList<>();
    Optional<PredictionFilter.Cursor> after = Optional.empty();
    List<StoredPrediction> page;
    do {
      page = store.list(PredictionFilter.ALL, after, 4);
      page.stream().limit(3).forEach(p -> paged.add(p.predictionId()));
      after = page.size() > 3 ? Optional.of(PredictionFilter.Cursor.after(page.get(2))) : after;
    } while (page.size() > 3);
    assertThat(paged).containsExactly("p-0", "p-1", "p-2", "p-3", "p-4", "p-5");
    assertThat(store.list(PredictionFilter.ALL, Optional.empty(), 10).get(0))
        .isEqualTo(made.get(0));

    assertThat(ids(store, PredictionFilter.worklist())).containsExactly("p-0", "p-2", "p-3", "p-5");
    assertThat(ids(store, filter(Optional.empty(), Optional.of(true), Optional.empty())))
        .containsExactly("p-1");
    assertThat(ids(store, filter(Optional.of("chest_ct"), Optional.empty(), Optional.empty())))
        .containsExactly("p-4");
    // A bare name matches its own versions only, not the longer names it begins.
    assertThat(ids(store, filter(Optional.of("chest"), Optional.empty(), Optional.empty())))
        .isEmpty();
    assertThat(ids(store, filter(Optional.of("protocol@3"), Optional.empty(), Optional.empty())))
        .containsExactly("p-0", "p-1", "p-2", "p-3", "p-5");
    assertThat(ids(store, filter(Optional.empty(), Optional.empty(), Optional.of("O-x"))))
        .containsExactly("p-4");
    PredictionFilter window =
        new PredictionFilter(
            Optional.empty(),
            Optional.empty(),
            Optional.of(NOW.plusSeconds(1)),
            Optional.of(NOW.plusSeconds(2)),
            Optional.empty(),
            Optional.empty());
    assertThat(ids(store, window)).containsExactly("p-2", "p-3");
    assertThat(store.note("p-3")).contains("note 3");
    assertThat(store.note("p-9")).isEmpty();
  }

  private static List<String> ids(PredictionStore store, PredictionFilter filter) {
    return store.list(filter, Optional.empty(), 100).stream()
        .map(StoredPrediction::predictionId)
        .toList();
  }

  private static PredictionFilter filter(
      Optional<String> adapter, Optional<Boolean> reviewed, Optional<String> orderId) {
    return new PredictionFilter(
        Optional.empty(), reviewed, Optional.empty(), Optional.empty(), adapter, orderId);
  }

  @Test
  void insertWithARetryKey_isFoundByTheKey_withItsRequestDigest() {
    PredictionStore store = store();
    Idempotency key = Idempotency.of("svc-intake", "job-1:O-1", "O-1", "note-hmac");
    StoredPrediction p = prediction("p-1", NOW);

    store.insert(p, "note one", Optional.of(key));
    store.insert(prediction("p-2", NOW), "note two");

    PredictionStore.Keyed found = store.findByIdempotencyKey(key.keyDigest()).orElseThrow();
    assertThat(found.prediction()).isEqualTo(p);
    assertThat(found.requestDigest()).isEqualTo(key.requestDigest());
    assertThat(
            store.findByIdempotencyKey(
                Idempotency.of("svc-other", "job-1:O-1", "O-1", "note-hmac").keyDigest()))
        .isEmpty();
  }

  @Test
  void aSecondPredictionUnderOneRetryKey_isRefusedAsADuplicateKey() {
    PredictionStore store = store();
    Idempotency key = Idempotency.of("svc-intake", "k", "O-1");
    store.insert(prediction("p-1", NOW), "note one", Optional.of(key));

    assertThatThrownBy(() -> store.insert(prediction("p-2", NOW), "note one", Optional.of(key)))
        .isInstanceOfSatisfying(
            PredictionStoreException.class, e -> assertThat(e.isDuplicateKey()).isTrue());
    assertThat(store.find("p-2")).isEmpty();
    assertThat(
            store.findByIdempotencyKey(key.keyDigest()).orElseThrow().prediction().predictionId())
        .isEqualTo("p-1");
  }

  @Test
  void breakGlassGrants_openedThroughOneReplica_coverEveryOne_untilRevokedOrExpired() {
    BreakGlassGrants here = store().breakGlassGrants();
    BreakGlassGrants there = store().breakGlassGrants();
    BreakGlassGrant grant =
        new BreakGlassGrant(
            "bg-1", "gateway-1", "dr.lee", "code stroke", NOW, NOW.plus(Duration.ofMinutes(30)));
    BreakGlassGrant other =
        new BreakGlassGrant("bg-2", "svc-er", null, "trauma bay", NOW, NOW.plusSeconds(60));

    here.add(grant);
    there.add(other);

    assertThat(there.active(NOW.plusSeconds(1))).containsExactly(grant, other);
    assertThat(here.active(NOW.plusSeconds(90))).containsExactly(grant);
    assertThat(here.active(NOW.minusSeconds(1))).isEmpty();
    assertThat(there.remove("bg-1")).isTrue();
    assertThat(here.remove("bg-1")).isFalse();
    assertThat(here.active(NOW.plusSeconds(1))).containsExactly(other);
  }

  @Test
  void review_isRecordedOnce_andOnlyForAKnownPrediction() {
    PredictionStore store = store();
    store.insert(prediction("p-1", NOW), "note one");
    StoredPrediction.Review review = corrected("cta-chest-pe", NOW.plusSeconds(60));

    boolean first = store.review("p-1", review);
    boolean second = store.review("p-1", accepted(NOW.plusSeconds(120)));
    boolean unknown = store.review("p-9", review);

    assertThat(List.of(first, second, unknown)).containsExactly(true, false, false);
    assertThat(store.find("p-1").orElseThrow().review()).contains(review);
  }

  @Test
  void reviewed_givesSealedNotesThatOpen_correctionsOnlyUnlessAsked_oldestReviewFirst()
      throws Exception {
    PredictionStore store = store();
    store.insert(prediction("p-1", NOW), "note one");
    store.insert(prediction("p-2", NOW), "note two");
    store.insert(prediction("p-3", NOW), "note three, never reviewed");
    store.review("p-2", corrected("cta-chest-pe", NOW.plusSeconds(60)));
    store.review("p-1", accepted(NOW.plusSeconds(120)));

    List<ReviewedNote> corrections = store.reviewed(Optional.empty(), false);
    List<ReviewedNote> all = store.reviewed(Optional.empty(), true);
    List<ReviewedNote> since = store.reviewed(Optional.of(NOW.plusSeconds(90)), true);

    assertThat(corrections).extracting(r -> r.prediction().predictionId()).containsExactly("p-2");
    assertThat(opened(corrections.get(0))).isEqualTo("note two");
    assertThat(all).extracting(r -> r.prediction().predictionId()).containsExactly("p-2", "p-1");
    assertThat(opened(all.get(1))).isEqualTo("note one");
    assertThat(since).extracting(r -> r.prediction().predictionId()).containsExactly("p-1");
  }

  @Test
  void insert_duplicateId_failsWithoutTouchingTheFirstNote() throws Exception {
    PredictionStore store = store();
    store.insert(prediction("p-1", NOW), "note one");

    assertThatThrownBy(() -> store.insert(prediction("p-1", NOW), "another note"))
        .isInstanceOf(PredictionStoreException.class)
        .hasMessageStartingWith("cannot store prediction (SQL state 23")
        .hasMessageNotContaining("another note");
    store.review("p-1", corrected("cta-chest-pe", NOW));
    assertThat(opened(store.reviewed(Optional.empty(), false).get(0))).isEqualTo("note one");
  }

  @Test
  void insert_fromManyThreadsAtOnce_storesEachOnce_andCountsThem() throws Exception {
    PredictionStore store = store();
    ExecutorService pool = Executors.newFixedThreadPool(16);
    try {
      List<Future<?>> inserts = new ArrayList<>();
      for (int i = 0; i < 80; i++) {
        String id = "p-" + i;
        inserts.add(pool.submit(() -> store.insert(prediction(id, NOW), "note " + id)));
      }
      for (Future<?> f : inserts) {
        f.get(60, TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdown();
    }

    for (int i = 0; i < 80; i++) {
      assertThat(store.find("p-" + i)).as("p-%d", i).contains(prediction("p-" + i, NOW));
    }
    PredictionStore.WriteStats stats = store.writeStats();
    assertThat(stats.predictions()).isEqualTo(80);
    assertThat(stats.transactions()).isBetween(1L, 80L);
    assertThat(stats.waiting()).isZero();
  }

  @Test
  void close_refusesLaterInserts_withAClearError() {
    PredictionStore store = open(Optional.empty());
    store.insert(prediction("p-1", NOW), "note one");
    store.close();

    assertThatThrownBy(() -> store.insert(prediction("p-2", NOW), "note two"))
        .isInstanceOf(PredictionStoreException.class)
        .hasMessage("prediction store closed");
  }

  @Test
  void withoutVault_noNoteIsKept() {
    PredictionStore store = store(Optional.empty());
    store.insert(prediction("p-1", NOW), "note one");
    store.review("p-1", corrected("cta-chest-pe", NOW));

    assertThat(store.reviewed(Optional.empty(), false))
        .singleElement()
        .satisfies(r -> assertThat(r.note()).isEmpty());
  }

  @Test
  void timesWrittenInOneZone_readTheSameInstantsInAnother() {
    TimeZone before = TimeZone.getDefault();
    try {
      TimeZone.setDefault(TimeZone.getTimeZone("America/Los_Angeles"));
      PredictionStore west = store();
      west.insert(prediction("p-1", NOW), "note one");
      west.review("p-1", corrected("cta-chest-pe", NOW.plusSeconds(60)));
      TimeZone.setDefault(TimeZone.getTimeZone("Asia/Kolkata"));
      PredictionStore east = store();

      StoredPrediction read = east.find("p-1").orElseThrow();

      assertThat(read.createdAt()).isEqualTo(NOW);
      assertThat(read.review().orElseThrow().reviewedAt()).isEqualTo(NOW.plusSeconds(60));
      assertThat(east.reviewed(Optional.of(NOW.plusSeconds(30)), false)).hasSize(1);
      assertThat(east.reviewed(Optional.of(NOW.plusSeconds(90)), false)).isEmpty();
    } finally {
      TimeZone.setDefault(before);
    }
  }

  @Test
  void reopening_keepsWhatWasStored() throws Exception {
    store().insert(prediction("p-1", NOW), "note one");
    store().review("p-1", corrected("cta-chest-pe", NOW));

    assertThat(opened(store().reviewed(Optional.empty(), false).get(0))).isEqualTo("note one");
  }

  @Test
  void start_purgesNotesPastRetentionRightAway_keepsYoungerOnes_andTheExportCountsThem()
      throws Exception {
    PredictionStore store = store();
    store.insert(prediction("old", NOW.minus(Duration.ofDays(91))), "old note");
    store.insert(prediction("young", NOW.minus(Duration.ofDays(89))), "young note");
    store.review("old", corrected("cta-chest-pe", NOW));
    store.review("young", corrected("cta-chest-pe", NOW));
    int afterStart;
    try (NoteRetention retention =
        NoteRetention.of(store, RETENTION, clock).start(Duration.ofHours(1))) {
      afterStart = awaitNotes(store, 1);
    }
    int again = NoteRetention.of(store, RETENTION, clock).purgeExpired();
    FeedbackExport.Result result =
        FeedbackExport.of(Catalog.loadDefault(), Optional.of(vault))
            .export(store.reviewed(Optional.empty(), false));

    assertThat(afterStart).isEqualTo(1);
    assertThat(again).isZero();
    assertThat(result.examples()).extracting(Example::note).containsExactly("young note");
    assertThat(result.skipped()).containsEntry(FeedbackExport.Skip.NO_RETAINED_NOTE, 1);
    assertThat(store.find("old").orElseThrow().review()).isPresent();
  }

  @Test
  void open_byManyReplicasAtOnce_createsTheSchemaOnce() throws Exception {
    int replicas = 8;
    ExecutorService pool = Executors.newFixedThreadPool(replicas);
    CountDownLatch go = new CountDownLatch(1);
    List<Future<PredictionStore>> opened = new ArrayList<>();
    try {
      for (int i = 0; i < replicas; i++) {
        opened.add(
            pool.submit(
                () -> {
                  go.await();
                  return store();
                }));
      }
      go.countDown();
      for (int i = 0; i < replicas; i++) {
        opened.get(i).get(60, TimeUnit.SECONDS).insert(prediction("p-" + i, NOW), "note " + i);
      }
    } finally {
      pool.shutdownNow();
    }

    assertThat(store().find("p-7")).isPresent();
  }

  @Test
  void purgeExpired_asTimePasses_deletesEachNoteOnceItsPredictionIsOldEnough() {
    PredictionStore store = store();
    store.insert(prediction("a", NOW.minus(Duration.ofDays(30))), "note a");
    store.insert(prediction("b", NOW.minus(Duration.ofDays(10))), "note b");
    store.review("a", accepted(NOW));
    store.review("b", accepted(NOW));
    NoteRetention retention = NoteRetention.of(store, RETENTION, clock);

    int atFirst = retention.purgeExpired();
    clock.advance(Duration.ofDays(60).plusSeconds(1));
    int after60Days = retention.purgeExpired();
    clock.advance(Duration.ofDays(20));
    int after80Days = retention.purgeExpired();

    assertThat(List.of(atFirst, after60Days, after80Days)).containsExactly(0, 1, 1);
    assertThat(countNotes(store)).isZero();
    assertThat(store.find("a")).isPresent();
    assertThat(store.find("b")).isPresent();
  }

  /** Waits up to 30 s for the background purge to leave {@code expected} notes; the count left. */
  private static int awaitNotes(PredictionStore store, int expected) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    int left = countNotes(store);
    while (left != expected && System.nanoTime() < deadline) {
      Thread.sleep(20);
      left = countNotes(store);
    }
    return left;
  }

  private static int countNotes(PredictionStore store) {
    return (int)
        store.reviewed(Optional.empty(), true).stream().filter(r -> r.note().isPresent()).count();
  }
}
