package dev.protorad.server.background;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * A task run now and then every interval on a daemon thread of its own, so that requests never wait
 * for it. The task catches its own failures: an exception escaping it would cancel the schedule.
 */
public final class PeriodicJob implements AutoCloseable {

  private final ScheduledExecutorService scheduler;

  private PeriodicJob(ScheduledExecutorService scheduler) {
    this.scheduler = scheduler;
  }

  /**
   * Starts {@code task} now, in the background, and then every {@code interval} until {@link
   * #close}.
   *
   * @param threadName the name of the job's thread
   * @param interval delay between the end of one run and the start of the next; positive
   */
  public static PeriodicJob start(String threadName, Duration interval, Runnable task) {
    requireNonNull(threadName, "threadName");
    requireNonNull(interval, "interval");
    requireNonNull(task, "task");
    if (interval.isNegative() || interval.isZero()) {
      throw new IllegalArgumentException("interval: " + interval + " (expected: positive)");
    }
    ScheduledExecutorService scheduler =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, threadName);
              t.setDaemon(true);
              return t;
            });
    var unused =
        scheduler.scheduleWithFixedDelay(task, 0, interval.toMillis(), TimeUnit.MILLISECONDS);
    return new PeriodicJob(scheduler);
  }

  /** Stops the schedule, letting a run in progress finish (for up to 10 seconds). */
  @Override
  public void close() {
    scheduler.shutdown();
    try {
      scheduler.awaitTermination(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
