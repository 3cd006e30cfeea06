package dev.protorad.spark;

import static java.util.Objects.requireNonNull;

import dev.protorad.client.ProtoradChannels;
import io.grpc.ManagedChannel;
import java.io.IOException;
import java.io.Serializable;
import java.nio.file.Path;

/**
 * How a bulk job reaches the server and paces itself; shipped to every task.
 *
 * @param server {@code host:port} of the server (or the load balancer in front of its replicas)
 * @param caFile PEM file of the CA to verify the server with; empty for plaintext
 * @param apiKey the job's API key (a principal holding {@code note:submit})
 * @param adapter adapter reference for every order; empty for the server's default
 * @param jobId the job's id: each order's idempotency key is {@code jobId:orderId}, so a retried
 *     task or a re-run of the same job gets the same predictions
 * @param maxRatePerSecond notes a second for the whole job, shared by its partitions; 0 for no
 *     limit
 * @param maxInFlight unanswered notes per partition at most
 * @param chunk notes a partition sends in one stream before writing them out
 * @param maxAttempts attempts per note on UNAVAILABLE or RESOURCE_EXHAUSTED
 */
public record BulkSettings(
    String server,
    String caFile,
    String apiKey,
    String adapter,
    String jobId,
    double maxRatePerSecond,
    int maxInFlight,
    int chunk,
    int maxAttempts)
    implements Serializable {

  private static final long serialVersionUID = 1L;

  public static final int DEFAULT_MAX_IN_FLIGHT = 32;
  public static final int DEFAULT_CHUNK = 500;
  public static final int DEFAULT_MAX_ATTEMPTS = 6;

  public BulkSettings {
    requireNonNull(server, "server");
    requireNonNull(caFile, "caFile");
    requireNonNull(apiKey, "apiKey");
    requireNonNull(adapter, "adapter");
    requireNonNull(jobId, "jobId");
    if (!server.matches("[A-Za-z0-9.\\-\\[\\]:]+:[0-9]{1,5}")) {
      throw new IllegalArgumentException("server: '" + server + "' (expected: HOST:PORT)");
    }
    if (apiKey.isBlank()) {
      throw new IllegalArgumentException(
          "api key: empty (expected: the key of a note:submit principal)");
    }
    if (!jobId.matches("[A-Za-z0-9._-]{1,64}")) {
      throw new IllegalArgumentException(
          "job id: '" + jobId + "' (expected: 1..64 of [A-Za-z0-9._-])");
    }
    if (!(maxRatePerSecond >= 0) || maxInFlight < 1 || chunk < 1 || maxAttempts < 1) {
      throw new IllegalArgumentException(
          "max rate >= 0, max in flight, chunk and attempts >= 1 (got "
              + maxRatePerSecond
              + ", "
              + maxInFlight
              + ", "
              + chunk
              + ", "
              + maxAttempts
              + ")");
    }
  }

  /** A channel to the server: TLS verified with {@link #caFile} when there is one. */
  ManagedChannel openChannel() {
    try {
      return ProtoradChannels.open(
          server,
          caFile.isEmpty()
              ? ProtoradChannels.Tls.plaintext()
              : ProtoradChannels.Tls.verifying(Path.of(caFile)));
    } catch (IOException e) {
      throw new BulkJob.BulkException("cannot read the CA file " + caFile, e);
    }
  }

  /** These settings with {@code rate} notes a second for the whole job. */
  public BulkSettings withMaxRate(double rate) {
    return new BulkSettings(
        server, caFile, apiKey, adapter, jobId, rate, maxInFlight, chunk, maxAttempts);
  }
}
