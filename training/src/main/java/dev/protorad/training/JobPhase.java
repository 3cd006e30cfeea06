package dev.protorad.training;

/** Where a fine-tuning job is. */
public enum JobPhase {
  QUEUED,
  VALIDATING,
  TRAINING,
  EVALUATING,
  SAVING,
  DONE,
  FAILED,
  CANCELLED;

  /** Whether the job has ended. */
  public boolean terminal() {
    return this == DONE || this == FAILED || this == CANCELLED;
  }
}
