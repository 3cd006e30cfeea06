package dev.protorad.audit;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.io.Writer;

/**
 * Exports audit events as JSON Lines ({@code protorad audit export}): one stored record per line,
 * byte for byte the canonical form the record hash covers, so an exported file can be re-checked
 * line by line.
 */
public final class AuditExporter {

  private AuditExporter() {}

  /**
   * Writes every event matching {@code query}, following its pages from the given token to the end,
   * oldest first.
   *
   * @return the number of events written
   */
  public static long exportJsonl(AuditStore store, AuditQuery query, Writer out)
      throws IOException {
    requireNonNull(store, "store");
    requireNonNull(query, "query");
    requireNonNull(out, "out");
    long written = 0;
    AuditQuery next = query;
    while (true) {
      AuditPage page = store.query(next);
      for (AuditEvent e : page.events()) {
        out.write(e.toJson());
        out.write('\n');
        written++;
      }
      if (page.nextPageToken().isEmpty()) {
        out.flush();
        return written;
      }
      next = next.toBuilder().pageToken(page.nextPageToken()).build();
    }
  }
}
