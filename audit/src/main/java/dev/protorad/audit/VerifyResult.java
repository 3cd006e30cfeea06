package dev.protorad.audit;

import static java.util.Objects.requireNonNull;

/**
 * The outcome of verifying an audit log.
 *
 * @param valid whether no tampering or damage was found
 * @param eventsChecked events whose hashes were checked
 * @param checkpointsChecked checkpoints and anchors whose signatures were checked
 * @param firstBadWriter writer of the first bad record, empty when valid
 * @param firstBadSequence sequence of the first record that cannot be trusted, 0 when valid. When a
 *     chain was recomputed after an edit, the exact edited record cannot be known: this is then the
 *     first sequence not covered by a genuine checkpoint
 * @param problem what was found, without event contents; empty when valid
 * @param unsealedEvents events after the last signed checkpoint (normal while a writer runs: at
 *     most its checkpoint interval); they are hash-chained but not yet signed
 */
public record VerifyResult(
    boolean valid,
    long eventsChecked,
    long checkpointsChecked,
    String firstBadWriter,
    long firstBadSequence,
    String problem,
    long unsealedEvents) {

  /** Validates the fields. */
  public VerifyResult {
    requireNonNull(firstBadWriter, "firstBadWriter");
    requireNonNull(problem, "problem");
  }

  static VerifyResult ok(long events, long checkpoints, long unsealed) {
    return new VerifyResult(true, events, checkpoints, "", 0, "", unsealed);
  }

  /** This result with the counts of {@code other} added (several writers). */
  VerifyResult plus(VerifyResult other) {
    VerifyResult bad = valid ? other : this;
    return new VerifyResult(
        valid && other.valid,
        eventsChecked + other.eventsChecked,
        checkpointsChecked + other.checkpointsChecked,
        bad.firstBadWriter,
        bad.firstBadSequence,
        bad.problem,
        unsealedEvents + other.unsealedEvents);
  }
}
