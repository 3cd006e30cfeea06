package dev.protorad.audit;

import java.time.Clock;
import java.util.ArrayList;
import java.util.List;

/** Decides when a writer signs a checkpoint: every {@code interval} events and when asked. */
final class Checkpointer {

  private final CheckpointKeys keys;
  private final String writerId;
  private final long interval;
  private final Clock clock;
  private long lastSequence;

  Checkpointer(CheckpointKeys keys, String writerId, long interval, Clock clock, long last) {
    if (!keys.canSign()) {
      throw new IllegalArgumentException("checkpointKeys: verify-only (expected: a signing key)");
    }
    this.keys = keys;
    this.writerId = writerId;
    this.interval = interval;
    this.clock = clock;
    this.lastSequence = last;
  }

  long interval() {
    return interval;
  }

  long lastSequence() {
    return lastSequence;
  }

  /** Checkpoints due within {@code batch}, at exact interval boundaries. */
  List<Checkpoint> due(List<AuditEvent> batch) {
    List<Checkpoint> due = new ArrayList<>();
    long last = lastSequence;
    for (AuditEvent e : batch) {
      if (e.sequence() - last >= interval) {
        due.add(sign(Checkpoint.Kind.CHECKPOINT, e.sequence(), e.recordHash()));
        last = e.sequence();
      }
    }
    return due;
  }

  /** A checkpoint at {@code sequence} unless one is there already (close, recovery). */
  List<Checkpoint> seal(long sequence, String recordHash) {
    return sequence > lastSequence
        ? List.of(sign(Checkpoint.Kind.CHECKPOINT, sequence, recordHash))
        : List.of();
  }

  /** A signed anchor for the last event removed by a purge. */
  Checkpoint anchor(long sequence, String recordHash) {
    return sign(Checkpoint.Kind.ANCHOR, sequence, recordHash);
  }

  /** Records that {@code written} checkpoints are durable; due() counts from the last one. */
  void written(List<Checkpoint> written) {
    written.stream()
        .filter(c -> c.kind() == Checkpoint.Kind.CHECKPOINT)
        .forEach(c -> lastSequence = Math.max(lastSequence, c.sequence()));
  }

  private Checkpoint sign(Checkpoint.Kind kind, long sequence, String recordHash) {
    return keys.sign(
        new Checkpoint(kind, writerId, sequence, recordHash, clock.instant(), interval, "", ""));
  }
}
