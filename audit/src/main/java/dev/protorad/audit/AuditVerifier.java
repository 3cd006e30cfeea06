package dev.protorad.audit;

import static java.util.Objects.requireNonNull;

import java.nio.file.Path;
import javax.sql.DataSource;

/**
 * Offline verification of an audit log, for auditors and {@code protorad audit verify}: needs only
 * the checkpoint public keys ({@link CheckpointKeys#verifyOnly}) and read access, and writes
 * nothing. A running store verifies itself with {@link AuditStore#verify()}.
 *
 * <p>What is detected, and where it is reported ({@link VerifyResult#firstBadSequence()}):
 *
 * <ul>
 *   <li>an edited or bit-flipped record: that record (its hash, or its frame checksum);
 *   <li>a deleted, inserted, swapped or reordered record: the first sequence out of place;
 *   <li>truncation: the first missing sequence, because the signed checkpoints, kept apart from the
 *       events, cover later sequences;
 *   <li>appended garbage: the sequence after the last good record;
 *   <li>a chain recomputed after an edit by someone without the private key: the hashes agree
 *       again, so the edited record cannot be named; the first sequence after the last genuine
 *       checkpoint is, because the next checkpoint no longer matches or is not validly signed;
 *   <li>removed checkpoints: the first sequence left uncovered, since a writer signs at least every
 *       {@code checkpointInterval} events.
 * </ul>
 *
 * <p>Not detectable without an outside witness: removing the newest events together with their
 * checkpoints, at most one interval of events, or everything. Publish checkpoints elsewhere (for
 * example in the server log shipping) to close that gap.
 */
public final class AuditVerifier {

  private AuditVerifier() {}

  /**
   * Verifies a {@link FileAuditStore} directory.
   *
   * @param checkpointInterval the interval the writer was configured with
   */
  public static VerifyResult verifyDirectory(
      Path directory, CheckpointKeys keys, long checkpointInterval) {
    requireNonNull(directory, "directory");
    requireNonNull(keys, "keys");
    return FileAuditStore.verifyDirectory(directory, keys, checkInterval(checkpointInterval));
  }

  /**
   * Verifies every writer's chain in a {@link PostgresAuditStore} database, in one snapshot.
   *
   * @param checkpointInterval the interval the writers were configured with
   */
  public static VerifyResult verifyPostgres(
      DataSource dataSource, CheckpointKeys keys, long checkpointInterval) {
    requireNonNull(dataSource, "dataSource");
    requireNonNull(keys, "keys");
    return PostgresAuditStore.verify(dataSource, keys, checkInterval(checkpointInterval));
  }

  /** Refuses to go on (purge) over a log that does not verify. */
  static void requireValid(VerifyResult result) {
    if (!result.valid()) {
      throw new IllegalStateException(
          "audit log does not verify (writer "
              + result.firstBadWriter()
              + ", sequence "
              + result.firstBadSequence()
              + ": "
              + result.problem()
              + "); purge refused");
    }
  }

  static long checkInterval(long interval) {
    if (interval < 1) {
      throw new IllegalArgumentException("checkpointInterval: " + interval + " (expected: >= 1)");
    }
    return interval;
  }
}
