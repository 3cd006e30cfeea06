package dev.protorad.server.jobs;

import static java.util.Objects.requireNonNull;

import java.time.Instant;

/**
 * A job as listed: who started it, when, and its latest event.
 *
 * @param jobId the job
 * @param adapterName the adapter it trains
 * @param createdBy the principal that started it
 * @param createdAt when it was submitted
 * @param latest its latest event
 */
public record FineTuneJob(
    String jobId, String adapterName, String createdBy, Instant createdAt, FineTuneEvent latest) {

  /** Checks the fields. */
  public FineTuneJob {
    requireNonNull(jobId, "jobId");
    requireNonNull(adapterName, "adapterName");
    requireNonNull(createdBy, "createdBy");
    requireNonNull(createdAt, "createdAt");
    requireNonNull(latest, "latest");
  }
}
