package dev.protorad.audit;

import static java.util.Objects.requireNonNull;

import java.util.List;

/**
 * One page of query results, oldest first.
 *
 * @param events the events of this page
 * @param nextPageToken pass to {@link AuditQuery.Builder#pageToken(String)} for the next page;
 *     empty on the last page
 */
public record AuditPage(List<AuditEvent> events, String nextPageToken) {

  /** Copies the list. */
  public AuditPage {
    events = List.copyOf(requireNonNull(events, "events"));
    requireNonNull(nextPageToken, "nextPageToken");
  }
}
