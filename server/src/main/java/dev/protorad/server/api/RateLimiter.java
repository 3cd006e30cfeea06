package dev.protorad.server.api;

import static java.util.Objects.requireNonNull;

import java.util.HashMap;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * A token bucket per principal: each caller may start {@code perSecond} calls a second on average,
 * and up to {@code burst} at once. A principal past its rate is refused RESOURCE_EXHAUSTED before
 * any work is done. Principals come from the policy, so the number of buckets is bounded by it.
 */
final class RateLimiter {

  /** Calls a second one principal may start unless configured otherwise. */
  static final double DEFAULT_PER_SECOND = 1000;

  private final double perSecond;
  private final double burst;
  private final LongSupplier nanoTime;
  private final Map<String, double[]> buckets = new HashMap<>();

  private RateLimiter(double perSecond, double burst, LongSupplier nanoTime) {
    this.perSecond = perSecond;
    this.burst = burst;
    this.nanoTime = nanoTime;
  }

  /**
   * A limiter of {@code perSecond} calls a second per principal, bursts of twice that.
   *
   * @param nanoTime the clock, {@code System::nanoTime} outside tests
   */
  static RateLimiter perSecond(double perSecond, LongSupplier nanoTime) {
    if (!(perSecond > 0)) {
      throw new IllegalArgumentException("perSecond: " + perSecond + " (expected: > 0)");
    }
    return new RateLimiter(perSecond, 2 * perSecond, requireNonNull(nanoTime, "nanoTime"));
  }

  /** Whether {@code principal} may start one more call now (and takes its token if so). */
  synchronized boolean tryAcquire(String principal) {
    long now = nanoTime.getAsLong();
    double[] b = buckets.computeIfAbsent(principal, k -> new double[] {burst, now});
    double tokens = Math.min(burst, b[0] + (now - (long) b[1]) / 1e9 * perSecond);
    b[1] = now;
    if (tokens < 1) {
      b[0] = tokens;
      return false;
    }
    b[0] = tokens - 1;
    return true;
  }
}
