package dev.protorad.policy;

import java.time.Duration;

/** Limits on break-glass grants. */
record BreakGlassSettings(Duration maxDuration, int maxReasonLength) {
  static final Duration DEFAULT_MAX_DURATION = Duration.ofMinutes(30);
  static final Duration MAX_MAX_DURATION = Duration.ofHours(12);
  static final int DEFAULT_MAX_REASON_LENGTH = 500;
  static final int MAX_MAX_REASON_LENGTH = 4000;
  static final BreakGlassSettings DEFAULTS =
      new BreakGlassSettings(DEFAULT_MAX_DURATION, DEFAULT_MAX_REASON_LENGTH);
}
