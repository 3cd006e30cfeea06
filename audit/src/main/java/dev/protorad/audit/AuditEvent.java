package dev.protorad.audit;

import static java.util.Objects.requireNonNull;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * One durable audit record: what happened ({@link #details()}), where it sits in its writer's hash
 * chain and the hashes that link it.
 *
 * <p>{@code recordHash = SHA-256(previousHash || canonical)}, where {@code canonical} is the
 * sorted-key JSON of every field but {@code recordHash} ({@link #toJson()} without that key). The
 * first event of a writer links to 64 zeros, or to the purge anchor once old events were removed.
 *
 * @param writerId the server instance that wrote the event ({@code [A-Za-z0-9._-]{1,64}})
 * @param sequence the event's position in its writer's chain, from 1
 * @param time when the store sequenced the event, in whole microseconds
 * @param details the audited facts
 * @param previousHash the record hash of the writer's previous event
 * @param recordHash this record's hash
 */
public record AuditEvent(
    String writerId,
    long sequence,
    Instant time,
    EventDraft details,
    String previousHash,
    String recordHash) {

  private static final Pattern WRITER_ID = Pattern.compile("[A-Za-z0-9._-]{1,64}");

  /** Validates the fields; the hash itself is checked by {@link AuditVerifier}, not here. */
  public AuditEvent {
    checkWriterId(writerId);
    if (sequence < 1) {
      throw new IllegalArgumentException("sequence: " + sequence + " (expected: >= 1)");
    }
    requireNonNull(time, "time");
    requireNonNull(details, "details");
    checkHash(previousHash, "previousHash");
    checkHash(recordHash, "recordHash");
  }

  /** The event id, {@code writerId:sequence}, as returned to clients. */
  public String eventId() {
    return writerId + ":" + sequence;
  }

  /** The stored form: canonical JSON of every field including {@code recordHash}. */
  public String toJson() {
    return EventCodec.fields(this).put("recordHash", recordHash).write();
  }

  /** Whether {@code writerId} is a valid writer id. */
  public static boolean isWriterId(String writerId) {
    return writerId != null && WRITER_ID.matcher(writerId).matches();
  }

  /**
   * Chains {@code drafts} after the writer's last event ({@code lastSequence}, {@code lastHash}):
   * consecutive sequences, each record hash over the previous one, times from {@code clock}. The
   * one sealing step of both stores.
   */
  static List<AuditEvent> chain(
      String writerId, long lastSequence, String lastHash, Clock clock, List<EventDraft> drafts) {
    List<AuditEvent> events = new ArrayList<>(drafts.size());
    long sequence = lastSequence;
    String previous = lastHash;
    for (EventDraft d : drafts) {
      AuditEvent e = seal(writerId, ++sequence, clock.instant(), d, previous);
      events.add(e);
      previous = e.recordHash();
    }
    return events;
  }

  /** Creates the next event of a chain, computing its record hash. */
  static AuditEvent seal(
      String writerId, long sequence, Instant time, EventDraft details, String previousHash) {
    Instant micros = time.truncatedTo(ChronoUnit.MICROS);
    AuditEvent unsealed =
        new AuditEvent(writerId, sequence, micros, details, previousHash, Hashes.GENESIS);
    return new AuditEvent(
        writerId, sequence, micros, details, previousHash, unsealed.computeHash());
  }

  /** The hash this record should carry, recomputed from its contents. */
  String computeHash() {
    byte[] canonical = EventCodec.fields(this).write().getBytes(StandardCharsets.UTF_8);
    return Hashes.chain(previousHash, canonical);
  }

  static void checkWriterId(String writerId) {
    requireNonNull(writerId, "writerId");
    if (!isWriterId(writerId)) {
      throw new IllegalArgumentException(
          "writerId: '" + writerId + "' (expected: 1-64 of [A-Za-z0-9._-])");
    }
  }

  private static void checkHash(String hash, String name) {
    requireNonNull(hash, name);
    if (!Hashes.isHash(hash)) {
      throw new IllegalArgumentException(name + ": not 64 lowercase hex digits");
    }
  }
}
