package dev.protorad.server.api;

import static java.util.Objects.requireNonNull;

import dev.protorad.audit.AuditStore;
import dev.protorad.audit.AuditUnavailableException;
import dev.protorad.audit.EventDraft;
import dev.protorad.audit.Outcome;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Calls refused before anyone was authenticated cost no disk per call: from each source (client
 * host) the first such denial of an interval is recorded as it happens, and the rest of the
 * interval's are counted and recorded as one event with {@code occurrences} when the interval ends
 * (at the next denial from that source, on {@link #flush}, or at shutdown). An anonymous flood thus
 * writes at most two events per source and interval. Sources beyond {@link #MAX_SOURCES} share one
 * count, so a flood from many addresses is bounded too.
 */
final class AnonymousDenials {

  /** The interval over which one source's denials are counted into one event. */
  static final Duration INTERVAL = Duration.ofSeconds(10);

  static final String ACTION = "protorad.v1.Denials/Unauthenticated";
  static final int MAX_SOURCES = 10_000;
  private static final String OTHER_SOURCES = "other-sources";
  private static final Logger log = LoggerFactory.getLogger(AnonymousDenials.class);

  private final AuditStore store;
  private final Clock clock;
  private final Map<String, Window> windows = new HashMap<>();

  /** One source's current interval: when it started and the denials counted but not recorded. */
  private static final class Window {
    final Instant start;
    long counted;

    Window(Instant start) {
      this.start = start;
    }
  }

  AnonymousDenials(AuditStore store, Clock clock) {
    this.store = requireNonNull(store, "store");
    this.clock = requireNonNull(clock, "clock");
  }

  /**
   * Notes a denial from {@code source}; true when the caller records it as its own event (the first
   * of the source's interval), false when it was counted into the interval's aggregate.
   */
  boolean offer(String source) {
    Instant now = clock.instant();
    EventDraft due = null;
    boolean own;
    synchronized (this) {
      String key =
          windows.size() >= MAX_SOURCES && !windows.containsKey(source) ? OTHER_SOURCES : source;
      Window w = windows.get(key);
      if (w != null && !now.isBefore(w.start.plus(INTERVAL))) {
        due = w.counted > 0 ? aggregate(key, w.counted) : null;
        windows.remove(key);
        w = null;
      }
      if (w == null) {
        windows.put(key, new Window(now));
        own = true;
      } else {
        w.counted++;
        own = false;
      }
    }
    if (due != null) {
      append(due);
    }
    return own;
  }

  /** Records every interval's counted denials now (on a timer, and at shutdown). */
  void flush() {
    List<EventDraft> due = new ArrayList<>();
    Instant now = clock.instant();
    synchronized (this) {
      windows
          .entrySet()
          .removeIf(
              e -> {
                if (e.getValue().counted > 0) {
                  due.add(aggregate(e.getKey(), e.getValue().counted));
                }
                return !now.isBefore(e.getValue().start.plus(INTERVAL)) || e.getValue().counted > 0;
              });
    }
    due.forEach(this::append);
  }

  private static EventDraft aggregate(String source, long count) {
    return EventDraft.builder(ACTION, Outcome.DENIED, "UNAUTHENTICATED")
        .principal(CallAudit.ANONYMOUS)
        .clientAddress(source)
        .occurrences(count)
        .build();
  }

  private void append(EventDraft draft) {
    try {
      store.append(draft);
    } catch (AuditUnavailableException e) {
      // Nothing was answered on their account: the calls were refused. Counted, not lost silently.
      log.warn("could not record {} aggregated anonymous denials", draft.occurrences());
    }
  }
}
