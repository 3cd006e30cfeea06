package dev.protorad.audit;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;
import org.jspecify.annotations.Nullable;

/**
 * Verifies one writer's chain, fed its stored records in order.
 *
 * <p>Record hashes catch edits of single records; sequence numbers and previous-hash links catch
 * deletion, reordering and insertion; a signed checkpoint at least every {@code interval} events
 * catches a chain an attacker recomputed (he cannot sign) and, with the checkpoints kept apart from
 * the events, truncation. Problems are collected as (sequence, message); the smallest sequence is
 * reported.
 */
final class ChainCheck {

  private record Problem(long sequence, String message) {}

  private final String writerId;
  private final CheckpointKeys keys;
  private final long defaultInterval;
  private final NavigableMap<Long, Checkpoint> genuine = new TreeMap<>();
  private final List<Problem> problems = new ArrayList<>();
  private final long checkpointsChecked;
  private long baseSequence;
  private String expectedPrevious = Hashes.GENESIS;
  private long expected;
  private long lastGoodCheckpoint;
  private long eventsChecked;
  private boolean stopped;

  ChainCheck(String writerId, List<Checkpoint> checkpoints, CheckpointKeys keys, long interval) {
    this.writerId = writerId;
    this.keys = keys;
    this.defaultInterval = interval;
    this.checkpointsChecked = checkpoints.size();
    sortCheckpoints(checkpoints);
    this.expected = baseSequence + 1;
    this.lastGoodCheckpoint = baseSequence;
  }

  /** Skips ahead: checks only records after {@code sequence}, linking to {@code hash}. */
  ChainCheck resumeAfter(long sequence, String hash) {
    baseSequence = sequence;
    expected = sequence + 1;
    expectedPrevious = hash;
    lastGoodCheckpoint = sequence;
    return this;
  }

  /** A checkpoint record that could not be read; {@code after} is the last readable one. */
  void checkpointDamaged(long after) {
    problems.add(new Problem(after + 1, "damaged checkpoint record after sequence " + after));
  }

  /** Record {@code sequence} passed the chain but disagrees with data stored beside it. */
  void mismatch(long sequence, String what) {
    fail(sequence, what + " at sequence " + sequence);
  }

  /** The sequence the next record must carry. */
  long expectedSequence() {
    return expected;
  }

  String lastHash() {
    return expectedPrevious;
  }

  boolean stopped() {
    return stopped;
  }

  /** Checks the next stored record; returns the parsed event, or null if it is bad. */
  @Nullable AuditEvent record(String json) {
    if (stopped) {
      return null;
    }
    AuditEvent e;
    try {
      e = EventCodec.parse(json);
    } catch (IllegalArgumentException ex) {
      fail(expected, "unreadable record after sequence " + (expected - 1));
      return null;
    }
    if (e.writerId().equals(writerId) && e.sequence() <= baseSequence) {
      return e; // left over by a purge that stopped after writing its anchor
    }
    return check(e) ? e : null;
  }

  /** Bytes that are not a record at the position of the next one. */
  void corrupt(String what) {
    if (!stopped) {
      fail(expected, what + " after sequence " + (expected - 1));
    }
  }

  /** The verdict, once every record was fed. */
  VerifyResult finish() {
    long last = expected - 1;
    if (!stopped) {
      checkTruncation(last);
      checkCheckpointGaps(last);
    }
    long unsealed = stopped ? 0 : last - lastGoodCheckpoint;
    return problems.stream()
        .min(Comparator.comparingLong(Problem::sequence))
        .map(
            p ->
                new VerifyResult(
                    false,
                    eventsChecked,
                    checkpointsChecked,
                    writerId,
                    p.sequence(),
                    p.message(),
                    unsealed))
        .orElse(VerifyResult.ok(eventsChecked, checkpointsChecked, unsealed));
  }

  private boolean check(AuditEvent e) {
    if (!e.writerId().equals(writerId)) {
      return fail(expected, "record of writer '" + e.writerId() + "' in this chain");
    }
    if (e.sequence() != expected) {
      return fail(expected, sequenceMessage(e.sequence()));
    }
    if (!e.previousHash().equals(expectedPrevious)) {
      return fail(expected, "record does not link to the previous record");
    }
    if (!e.computeHash().equals(e.recordHash())) {
      return fail(expected, "record hash does not match its contents");
    }
    eventsChecked++;
    return matchCheckpoint(e) && advance(e);
  }

  private String sequenceMessage(long found) {
    return found > expected
        ? "records " + expected + ".." + (found - 1) + " missing (found " + found + ")"
        : "record " + found + " out of order (expected " + expected + ")";
  }

  private boolean matchCheckpoint(AuditEvent e) {
    Checkpoint c = genuine.get(e.sequence());
    if (c == null) {
      return true;
    }
    if (!c.recordHash().equals(e.recordHash())) {
      return fail(
          lastGoodCheckpoint + 1,
          "chain differs from the signed checkpoint at sequence "
              + e.sequence()
              + " (recomputed after sequence "
              + lastGoodCheckpoint
              + ")");
    }
    lastGoodCheckpoint = e.sequence();
    return true;
  }

  private boolean advance(AuditEvent e) {
    expectedPrevious = e.recordHash();
    expected++;
    return true;
  }

  private void checkTruncation(long last) {
    Map.Entry<Long, Checkpoint> beyond = genuine.higherEntry(last);
    if (beyond != null) {
      fail(
          last + 1,
          "log ends at sequence "
              + last
              + " but a signed checkpoint covers sequence "
              + beyond.getKey()
              + " (truncated)");
    }
  }

  private void checkCheckpointGaps(long last) {
    long previous = baseSequence;
    long previousInterval = defaultInterval;
    for (Checkpoint c : genuine.headMap(last, true).values()) {
      if (c.sequence() - previous > Math.max(previousInterval, c.interval())) {
        fail(
            previous + 1,
            "no signed checkpoint between sequence " + previous + " and " + c.sequence());
      }
      previous = c.sequence();
      previousInterval = c.interval();
    }
    if (last - previous > previousInterval) {
      fail(
          previous + 1,
          "no signed checkpoint after sequence "
              + previous
              + " although the log"
              + " reaches "
              + last);
    }
  }

  private void sortCheckpoints(List<Checkpoint> checkpoints) {
    Checkpoint anchor = null;
    List<Checkpoint> forged = new ArrayList<>();
    for (Checkpoint c : checkpoints) {
      if (!c.writerId().equals(writerId) || !keys.verify(c)) {
        forged.add(c);
      } else if (c.kind() == Checkpoint.Kind.ANCHOR) {
        anchor = anchor == null || c.sequence() > anchor.sequence() ? c : anchor;
      } else {
        genuine.put(c.sequence(), c);
      }
    }
    if (anchor != null) {
      baseSequence = anchor.sequence();
      expectedPrevious = anchor.recordHash();
      genuine.headMap(baseSequence, true).clear();
    }
    forged.forEach(this::reportForged);
  }

  private void reportForged(Checkpoint c) {
    Long before = genuine.lowerKey(c.sequence());
    long from = Math.max(before == null ? baseSequence : before, baseSequence);
    problems.add(
        new Problem(
            from + 1, "checkpoint at sequence " + c.sequence() + " has no valid signature"));
  }

  private boolean fail(long sequence, String message) {
    problems.add(new Problem(sequence, message));
    stopped = true;
    return false;
  }
}
