package dev.protorad.audit;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.StampedLock;
import java.util.function.Supplier;

/**
 * Keeps the readers of a {@link FileAuditStore} and its purge apart, so that a query or
 * verification sees the segment directory either wholly before a purge (old anchor, every segment
 * present) or wholly after it (new anchor, expired segments gone), never the new segments with the
 * old anchor.
 *
 * <p>Readers share the gate for their snapshot and all their reads; a purge closes it for its
 * anchor write and deletions. The purge waits for a moment without readers instead of queueing
 * ahead of them: a queued {@link StampedLock#writeLock()} would hold up every new query behind a
 * long verification that is still running. So reads wait only for the purge's own short critical
 * section. Appends never pass the gate: they go through the writer thread, and the purge enters
 * that thread's queue only once it holds the gate.
 */
final class PurgeGate {

  /** How long a purge waits for a moment without readers before it gives up. */
  static final Duration DEFAULT_PURGE_WAIT = Duration.ofMinutes(10);

  private static final long POLL_MILLIS = 10;

  private final StampedLock lock = new StampedLock();
  private final Duration readWait;
  private final Duration purgeWait;

  /**
   * @param readWait longest wait of a reader for a purge's critical section
   * @param purgeWait longest wait of a purge for readers to finish
   */
  PurgeGate(Duration readWait, Duration purgeWait) {
    this.readWait = readWait;
    this.purgeWait = purgeWait;
  }

  /** Runs {@code reading} while no purge can change the directory. */
  <T> T read(Supplier<T> reading) {
    long stamp = enterReader();
    try {
      return reading.get();
    } finally {
      lock.unlockRead(stamp);
    }
  }

  /** Waits until no reader is inside and shuts readers out; pass the stamp to {@link #reopen}. */
  long close() {
    try {
      long deadline = System.nanoTime() + purgeWait.toNanos();
      long stamp;
      while ((stamp = lock.tryWriteLock()) == 0) {
        if (System.nanoTime() - deadline > 0) {
          throw new AuditUnavailableException(
              "audit log was being read for " + purgeWait + " without a pause; purge postponed");
        }
        Thread.sleep(POLL_MILLIS);
      }
      return stamp;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AuditUnavailableException("interrupted while waiting to purge", e);
    }
  }

  /** Lets readers in again; any thread may call it (the purge ends on the writer thread). */
  void reopen(long stamp) {
    lock.unlockWrite(stamp);
  }

  private long enterReader() {
    try {
      long stamp = lock.tryReadLock(readWait.toNanos(), TimeUnit.NANOSECONDS);
      if (stamp == 0) {
        throw new AuditUnavailableException("audit purge not done within " + readWait);
      }
      return stamp;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AuditUnavailableException("interrupted while waiting for an audit purge", e);
    }
  }
}
