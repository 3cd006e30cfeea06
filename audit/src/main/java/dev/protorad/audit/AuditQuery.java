package dev.protorad.audit;

import static java.util.Objects.requireNonNull;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;

/**
 * Filters and paging for {@link AuditStore#query(AuditQuery)}. Empty text filters and null bounds
 * match everything.
 *
 * @param from inclusive lower time bound, or null
 * @param to exclusive upper time bound, or null
 * @param principal matches the principal or the on-behalf-of user
 * @param action full RPC name ({@code protorad.v1.ProtocolService/AssignProtocol}) or its method
 *     name alone ({@code AssignProtocol}), which matches that method in any service
 * @param outcome outcome, or null for all
 * @param orderId order id
 * @param patientRef patient reference
 * @param adapter {@code name@version} exactly, or a bare {@code name} for all its versions
 * @param breakGlassOnly only break-glass events
 * @param eventId only the event with this id ({@code writer:sequence}), or empty
 * @param pageSize 1..{@value #MAX_PAGE_SIZE}
 * @param pageToken token from the previous page, or empty for the first page
 */
public record AuditQuery(
    @Nullable Instant from,
    @Nullable Instant to,
    String principal,
    String action,
    @Nullable Outcome outcome,
    String orderId,
    String patientRef,
    String adapter,
    boolean breakGlassOnly,
    String eventId,
    int pageSize,
    String pageToken) {

  /** Page size when none is given. */
  public static final int DEFAULT_PAGE_SIZE = 100;

  /** Largest page size. */
  public static final int MAX_PAGE_SIZE = 1000;

  /** Validates the fields. */
  public AuditQuery {
    requireNonNull(principal, "principal");
    requireNonNull(action, "action");
    requireNonNull(orderId, "orderId");
    requireNonNull(patientRef, "patientRef");
    requireNonNull(adapter, "adapter");
    requireNonNull(pageToken, "pageToken");
    requireEventId(eventId);
    if (pageSize < 1 || pageSize > MAX_PAGE_SIZE) {
      throw new IllegalArgumentException(
          "pageSize: " + pageSize + " (expected: 1.." + MAX_PAGE_SIZE + ")");
    }
  }

  /** A query matching everything, first page. */
  public static Builder builder() {
    return new Builder();
  }

  /** A builder holding this query's values. */
  public Builder toBuilder() {
    return new Builder()
        .between(from, to)
        .principal(principal)
        .action(action)
        .outcome(outcome)
        .orderId(orderId)
        .patientRef(patientRef)
        .adapter(adapter)
        .breakGlassOnly(breakGlassOnly)
        .eventId(eventId)
        .pageSize(pageSize)
        .pageToken(pageToken);
  }

  private static void requireEventId(String eventId) {
    requireNonNull(eventId, "eventId");
    int colon = eventId.lastIndexOf(':');
    if (eventId.isEmpty()) {
      return;
    }
    if (colon < 0
        || !AuditEvent.isWriterId(eventId.substring(0, colon))
        || !eventId.substring(colon + 1).matches("[1-9][0-9]{0,17}")) {
      throw new IllegalArgumentException(
          "eventId: " + eventId + " (expected: writer:sequence, as events carry it)");
    }
  }

  /** The writer of the event asked for by id; empty when the query names none. */
  String eventWriter() {
    return eventId.isEmpty() ? "" : eventId.substring(0, eventId.lastIndexOf(':'));
  }

  /** The sequence of the event asked for by id; 0 when the query names none. */
  long eventSequence() {
    return eventId.isEmpty() ? 0 : Long.parseLong(eventId.substring(eventId.lastIndexOf(':') + 1));
  }

  /** Whether {@code fullAction} is the action filtered for, by full name or method name. */
  boolean actionMatches(String fullAction) {
    return action.isEmpty()
        || action.equals(fullAction)
        || (isMethodName() && fullAction.endsWith("/" + action));
  }

  /** Whether the action filter names a method alone (no service). */
  boolean isMethodName() {
    return !action.isEmpty() && action.indexOf('/') < 0;
  }

  /**
   * A necessary condition on a stored record's bytes, checked before it is parsed: each text filter
   * appears in the canonical JSON of every event that {@link #matches}, escaped as canonical JSON
   * writes it. Accepts everything when the query has no text filter.
   */
  Predicate<byte[]> recordFilter() {
    List<byte[]> needles = needles();
    return record -> needles.stream().allMatch(n -> contains(record, n));
  }

  /** The text filters that are set, escaped as canonical JSON writes them. */
  private List<byte[]> needles() {
    return Stream.of(principal, action, orderId, patientRef, adapter)
        .filter(value -> !value.isEmpty())
        .map(value -> CanonicalJson.escaped(value).getBytes(StandardCharsets.UTF_8))
        .toList();
  }

  private static boolean contains(byte[] haystack, byte[] needle) {
    byte first = needle[0];
    int last = haystack.length - needle.length;
    for (int i = 0; i <= last; i++) {
      if (haystack[i] != first) {
        continue;
      }
      int j = 1;
      while (j < needle.length && haystack[i + j] == needle[j]) {
        j++;
      }
      if (j == needle.length) {
        return true;
      }
    }
    return false;
  }

  /** Whether {@code e} passes every filter (paging aside). */
  boolean matches(AuditEvent e) {
    EventDraft d = e.details();
    return (from == null || !e.time().isBefore(from))
        && (to == null || e.time().isBefore(to))
        && (principal.isEmpty()
            || principal.equals(d.principal())
            || principal.equals(d.onBehalfOf()))
        && actionMatches(d.action())
        && (outcome == null || outcome == d.outcome())
        && (orderId.isEmpty() || orderId.equals(d.orderId()))
        && (patientRef.isEmpty() || patientRef.equals(d.patientRef()))
        && adapterMatches(d.adapterVersion())
        && (!breakGlassOnly || d.breakGlass())
        && (eventId.isEmpty() || eventId.equals(e.eventId()));
  }

  private boolean adapterMatches(String version) {
    return adapter.isEmpty()
        || adapter.equals(version)
        || (!adapter.contains("@") && version.startsWith(adapter + "@"));
  }

  /** Builds an {@link AuditQuery}; each setter validates its argument. */
  public static final class Builder {
    private @Nullable Instant from;
    private @Nullable Instant to;
    private String principal = "";
    private String action = "";
    private @Nullable Outcome outcome;
    private String orderId = "";
    private String patientRef = "";
    private String adapter = "";
    private boolean breakGlassOnly;
    private String eventId = "";
    private int pageSize = DEFAULT_PAGE_SIZE;
    private String pageToken = "";

    private Builder() {}

    /** Time range: {@code from} inclusive, {@code to} exclusive; either may be null. */
    public Builder between(@Nullable Instant from, @Nullable Instant to) {
      if (from != null && to != null && to.isBefore(from)) {
        throw new IllegalArgumentException("to: " + to + " (expected: not before " + from + ")");
      }
      this.from = from;
      this.to = to;
      return this;
    }

    /** Principal or on-behalf-of user. */
    public Builder principal(String principal) {
      this.principal = requireNonNull(principal, "principal");
      return this;
    }

    /** Full RPC name. */
    public Builder action(String action) {
      this.action = requireNonNull(action, "action");
      return this;
    }

    /** Outcome, or null for all. */
    public Builder outcome(@Nullable Outcome outcome) {
      this.outcome = outcome;
      return this;
    }

    /** Order id. */
    public Builder orderId(String orderId) {
      this.orderId = requireNonNull(orderId, "orderId");
      return this;
    }

    /** Patient reference. */
    public Builder patientRef(String patientRef) {
      this.patientRef = requireNonNull(patientRef, "patientRef");
      return this;
    }

    /** Adapter: {@code name@version} or {@code name}. */
    public Builder adapter(String adapter) {
      this.adapter = requireNonNull(adapter, "adapter");
      return this;
    }

    /** Only break-glass events. */
    public Builder breakGlassOnly(boolean breakGlassOnly) {
      this.breakGlassOnly = breakGlassOnly;
      return this;
    }

    /** Only the event with this id ({@code writer:sequence}); empty for any. */
    public Builder eventId(String eventId) {
      requireEventId(eventId);
      this.eventId = eventId;
      return this;
    }

    /** Page size, 1..{@value #MAX_PAGE_SIZE}. */
    public Builder pageSize(int pageSize) {
      this.pageSize = checkPageSize(pageSize);
      return this;
    }

    private static int checkPageSize(int pageSize) {
      if (pageSize < 1 || pageSize > MAX_PAGE_SIZE) {
        throw new IllegalArgumentException(
            "pageSize: " + pageSize + " (expected: 1.." + MAX_PAGE_SIZE + ")");
      }
      return pageSize;
    }

    /** Token of the next page, from {@link AuditPage#nextPageToken()}. */
    public Builder pageToken(String pageToken) {
      this.pageToken = requireNonNull(pageToken, "pageToken");
      return this;
    }

    /** Builds the query. */
    public AuditQuery build() {
      return new AuditQuery(
          from,
          to,
          principal,
          action,
          outcome,
          orderId,
          patientRef,
          adapter,
          breakGlassOnly,
          eventId,
          pageSize,
          pageToken);
    }
  }
}
