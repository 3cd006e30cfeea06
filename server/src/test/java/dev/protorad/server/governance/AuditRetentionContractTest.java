package dev.protorad.server.governance;

import static org.assertj.core.api.Assertions.assertThat;

import dev.protorad.audit.AuditEvent;
import dev.protorad.audit.AuditQuery;
import dev.protorad.audit.AuditStore;
import dev.protorad.audit.EventDraft;
import dev.protorad.audit.Outcome;
import dev.protorad.audit.VerifyResult;
import dev.protorad.testing.MutableClock;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.Period;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;

/**
 * The server's audit retention job over a real store: events past {@code audit.retention_days} are
 * gone after it runs, younger ones stay, and the log still verifies. Subclasses open the store.
 */
abstract class AuditRetentionContractTest {

  static final Period RETENTION = Period.ofDays(30);
  static final Instant NOW = Instant.parse("2032-03-01T09:00:00Z");

  final MutableClock clock = new MutableClock(NOW.minus(Duration.ofDays(45)));

  /** A store on {@code clock} keeping events for {@link #RETENTION}. */
  abstract AuditStore open(Clock clock);

  /**
   * The first sequence a purge at a cutoff between events {@code firstYoung - 1} and {@code
   * firstYoung} keeps: {@code firstYoung} where events are removed one by one, earlier where they
   * are removed in whole segments.
   */
  abstract long firstKept(long firstYoung);

  @Test
  void start_removesEventsPastRetentionRightAway_keepsYoungerOnes_andTheLogStillVerifies()
      throws Exception {
    try (AuditStore store = open(clock)) {
      append(store, 60);
      clock.set(NOW.minus(Duration.ofDays(29)));
      append(store, 10);
      clock.set(NOW);
      long kept = firstKept(61);

      try (AuditRetention retention = AuditRetention.of(store).start(Duration.ofHours(1))) {
        await(() -> sequences(store).get(0) == kept);
      }

      assertThat(sequences(store)).isEqualTo(LongStream.rangeClosed(kept, 70).boxed().toList());
      assertThat(kept).isLessThanOrEqualTo(61);
      assertThat(allEvents(store))
          .filteredOn(e -> e.time().isBefore(NOW.minus(Duration.ofDays(30))))
          .hasSize((int) (61 - kept));
      VerifyResult result = store.verify();
      assertThat(result.valid()).as(result.problem()).isTrue();
      assertThat(result.eventsChecked()).isEqualTo(70 - kept + 1);
    }
  }

  @Test
  void runningJob_removesEventsAsTheyExpire_andTheLogStillVerifies() throws Exception {
    try (AuditStore store = open(clock)) {
      clock.set(NOW.minus(Duration.ofDays(20)));
      append(store, 60);
      clock.set(NOW);
      append(store, 10);
      long kept = firstKept(61);

      try (AuditRetention retention = AuditRetention.of(store).start(Duration.ofMillis(20))) {
        Thread.sleep(100);
        assertThat(sequences(store).get(0)).isEqualTo(1L);

        clock.set(NOW.plus(Duration.ofDays(20)));
        await(() -> sequences(store).get(0) == kept);
      }

      assertThat(sequences(store)).isEqualTo(LongStream.rangeClosed(kept, 70).boxed().toList());
      VerifyResult result = store.verify();
      assertThat(result.valid()).as(result.problem()).isTrue();
    }
  }

  private static void append(AuditStore store, int count) {
    for (int i = 0; i < count; i++) {
      store.append(
          EventDraft.builder("protorad.v1.ProtocolService/AssignProtocol", Outcome.ALLOWED, "OK")
              .principal("svc-intake")
              .roles(List.of("order-intake"))
              .orderId("ORD-" + i)
              .build());
    }
  }

  private static List<AuditEvent> allEvents(AuditStore store) {
    return store.query(AuditQuery.builder().pageSize(AuditQuery.MAX_PAGE_SIZE).build()).events();
  }

  private static List<Long> sequences(AuditStore store) {
    return allEvents(store).stream().map(AuditEvent::sequence).toList();
  }

  private static void await(BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (!condition.getAsBoolean() && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
  }
}
