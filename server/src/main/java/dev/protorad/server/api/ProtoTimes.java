package dev.protorad.server.api;

import com.google.protobuf.Timestamp;
import java.time.Instant;

/** Conversions between {@link Instant} and {@code google.protobuf.Timestamp}. */
public final class ProtoTimes {

  private ProtoTimes() {}

  /** The timestamp of {@code instant}. */
  public static Timestamp of(Instant instant) {
    return Timestamp.newBuilder()
        .setSeconds(instant.getEpochSecond())
        .setNanos(instant.getNano())
        .build();
  }

  /** The instant of {@code timestamp}. */
  public static Instant toInstant(Timestamp timestamp) {
    return Instant.ofEpochSecond(timestamp.getSeconds(), timestamp.getNanos());
  }
}
