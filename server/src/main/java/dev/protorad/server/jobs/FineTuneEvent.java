package dev.protorad.server.jobs;

import static java.util.Objects.requireNonNull;

import dev.protorad.training.EvalSummary;
import dev.protorad.training.JobPhase;
import java.time.Instant;
import org.jspecify.annotations.Nullable;

/**
 * One progress event of a fine-tuning job. Carries no note text.
 *
 * @param jobId the job
 * @param sequence 0, 1, 2, … within the job
 * @param phase the phase
 * @param step optimizer steps done
 * @param totalSteps optimizer steps planned
 * @param epoch the current epoch, from 1 (0 before training)
 * @param loss the latest training loss (mean over label tokens), NaN before training
 * @param learningRate the rate of the latest step
 * @param tokensPerSecond training tokens per second so far
 * @param etaSeconds estimated seconds left in training
 * @param metrics evaluation figures, when this event reports them
 * @param adapterVersion {@code name@version} once registered
 * @param error why the job failed (no note text)
 * @param time when the event happened
 * @param message a short human-readable note
 */
public record FineTuneEvent(
    String jobId,
    long sequence,
    JobPhase phase,
    int step,
    int totalSteps,
    int epoch,
    double loss,
    double learningRate,
    double tokensPerSecond,
    double etaSeconds,
    @Nullable EvalSummary metrics,
    String adapterVersion,
    String error,
    Instant time,
    String message) {

  /** Checks the fields. */
  public FineTuneEvent {
    requireNonNull(jobId, "jobId");
    requireNonNull(phase, "phase");
    requireNonNull(adapterVersion, "adapterVersion");
    requireNonNull(error, "error");
    requireNonNull(time, "time");
    requireNonNull(message, "message");
  }
}
