package dev.protorad.client;

import static java.util.Objects.requireNonNull;

import dev.protorad.api.v1.AdapterServiceGrpc;
import dev.protorad.api.v1.ArchiveAdapterVersionRequest;
import dev.protorad.api.v1.ArchiveAdapterVersionResponse;
import dev.protorad.api.v1.AssignProtocolRequest;
import dev.protorad.api.v1.AssignProtocolResponse;
import dev.protorad.api.v1.AuditServiceGrpc;
import dev.protorad.api.v1.CancelFineTuneRequest;
import dev.protorad.api.v1.CancelFineTuneResponse;
import dev.protorad.api.v1.GetAdapterRequest;
import dev.protorad.api.v1.GetAdapterResponse;
import dev.protorad.api.v1.GetPredictionRequest;
import dev.protorad.api.v1.GetPredictionResponse;
import dev.protorad.api.v1.ListAdaptersRequest;
import dev.protorad.api.v1.ListAdaptersResponse;
import dev.protorad.api.v1.ListFineTuneJobsRequest;
import dev.protorad.api.v1.ListFineTuneJobsResponse;
import dev.protorad.api.v1.ProtocolServiceGrpc;
import dev.protorad.api.v1.QueryAuditEventsRequest;
import dev.protorad.api.v1.QueryAuditEventsResponse;
import dev.protorad.api.v1.ReviewPredictionRequest;
import dev.protorad.api.v1.ReviewPredictionResponse;
import dev.protorad.api.v1.SetAdapterAliasRequest;
import dev.protorad.api.v1.SetAdapterAliasResponse;
import dev.protorad.api.v1.TrainingServiceGrpc;
import dev.protorad.api.v1.VerifyAuditLogRequest;
import dev.protorad.api.v1.VerifyAuditLogResponse;
import io.grpc.CallCredentials;
import io.grpc.Channel;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Typed client for the ProtoRad server.
 *
 * <pre>{@code
 * ManagedChannel channel = ManagedChannelBuilder.forAddress("127.0.0.1", 50051).usePlaintext().build();
 * ProtoradClient client = ProtoradClient.builder(channel).apiKey(key).build();
 * AssignProtocolResponse r = client.assignProtocol(AssignProtocolRequest.newBuilder()
 *     .setOrderId("A-1").setNote(note).build());
 * }</pre>
 *
 * The client does not own the channel: close it yourself. Every call carries the configured
 * credentials and a deadline; a non-OK status surfaces as {@link ProtoradException}.
 */
public final class ProtoradClient {

  /** Deadline applied to unary calls unless the builder sets another. */
  public static final Duration DEFAULT_DEADLINE = Duration.ofSeconds(30);

  private final Channel channel;
  private final CallCredentials credentials;
  private final Duration deadline;

  private ProtoradClient(Builder b) {
    this.channel = b.channel;
    this.credentials = b.apiKey == null ? null : new BearerCredentials(b.apiKey, b.endUserToken);
    this.deadline = b.deadline;
  }

  /** Starts building a client over {@code channel}. */
  public static Builder builder(Channel channel) {
    return new Builder(channel);
  }

  /** The server's overall health: SERVING once the model is loaded. */
  public HealthCheckResponse.ServingStatus health() {
    return call(
        () ->
            HealthGrpc.newBlockingStub(channel)
                .withDeadlineAfter(deadline.toMillis(), TimeUnit.MILLISECONDS)
                .check(HealthCheckRequest.getDefaultInstance())
                .getStatus());
  }

  /** Assigns a protocol to one note ({@code note:submit}). */
  public AssignProtocolResponse assignProtocol(AssignProtocolRequest request) {
    return call(() -> protocol().assignProtocol(request));
  }

  /** Reads a stored prediction ({@code prediction:read}). */
  public GetPredictionResponse getPrediction(GetPredictionRequest request) {
    return call(() -> protocol().getPrediction(request));
  }

  /** Accepts or corrects a prediction ({@code prediction:review}). */
  public ReviewPredictionResponse reviewPrediction(ReviewPredictionRequest request) {
    return call(() -> protocol().reviewPrediction(request));
  }

  /** Lists adapter versions ({@code adapter:read}). */
  public ListAdaptersResponse listAdapters(ListAdaptersRequest request) {
    return call(() -> adapters().listAdapters(request));
  }

  /** Reads one adapter version ({@code adapter:read}). */
  public GetAdapterResponse getAdapter(GetAdapterRequest request) {
    return call(() -> adapters().getAdapter(request));
  }

  /** Moves an alias ({@code adapter:promote}). */
  public SetAdapterAliasResponse setAdapterAlias(SetAdapterAliasRequest request) {
    return call(() -> adapters().setAdapterAlias(request));
  }

  /** Archives a version ({@code adapter:manage}). */
  public ArchiveAdapterVersionResponse archiveAdapterVersion(ArchiveAdapterVersionRequest request) {
    return call(() -> adapters().archiveAdapterVersion(request));
  }

  /** Cancels a fine-tune job ({@code training:run}). */
  public CancelFineTuneResponse cancelFineTune(CancelFineTuneRequest request) {
    return call(() -> training().cancelFineTune(request));
  }

  /** Lists fine-tune jobs ({@code training:run}). */
  public ListFineTuneJobsResponse listFineTuneJobs(ListFineTuneJobsRequest request) {
    return call(() -> training().listFineTuneJobs(request));
  }

  /** Queries the audit trail ({@code audit:read}). */
  public QueryAuditEventsResponse queryAuditEvents(QueryAuditEventsRequest request) {
    return call(() -> audit().queryAuditEvents(request));
  }

  /** Verifies the audit trail ({@code audit:verify}). */
  public VerifyAuditLogResponse verifyAuditLog(VerifyAuditLogRequest request) {
    return call(() -> audit().verifyAuditLog(request));
  }

  private ProtocolServiceGrpc.ProtocolServiceBlockingStub protocol() {
    return configure(ProtocolServiceGrpc.newBlockingStub(channel));
  }

  private AdapterServiceGrpc.AdapterServiceBlockingStub adapters() {
    return configure(AdapterServiceGrpc.newBlockingStub(channel));
  }

  private TrainingServiceGrpc.TrainingServiceBlockingStub training() {
    return configure(TrainingServiceGrpc.newBlockingStub(channel));
  }

  private AuditServiceGrpc.AuditServiceBlockingStub audit() {
    return configure(AuditServiceGrpc.newBlockingStub(channel));
  }

  private <S extends io.grpc.stub.AbstractStub<S>> S configure(S stub) {
    S withDeadline = stub.withDeadlineAfter(deadline.toMillis(), TimeUnit.MILLISECONDS);
    return credentials == null ? withDeadline : withDeadline.withCallCredentials(credentials);
  }

  private static <T> T call(Supplier<T> rpc) {
    try {
      return rpc.get();
    } catch (StatusRuntimeException e) {
      throw new ProtoradException(e);
    }
  }

  /** Builds a {@link ProtoradClient}; each setter validates its argument. */
  public static final class Builder {
    private final Channel channel;
    private String apiKey;
    private String endUserToken;
    private Duration deadline = DEFAULT_DEADLINE;

    private Builder(Channel channel) {
      this.channel = requireNonNull(channel, "channel");
    }

    /** The caller's API key, sent as {@code authorization: Bearer KEY}. */
    public Builder apiKey(String key) {
      requireNonNull(key, "key");
      if (key.isBlank() || key.chars().anyMatch(c -> c < 0x21 || c > 0x7e)) {
        throw new IllegalArgumentException("key: blank or not printable ASCII");
      }
      this.apiKey = key;
      return this;
    }

    /** For gateways: the end user's JWT, sent with every call (needs {@link #apiKey}). */
    public Builder endUserToken(String jwt) {
      requireNonNull(jwt, "jwt");
      if (jwt.isBlank()) {
        throw new IllegalArgumentException("jwt: blank (expected: a compact JWS)");
      }
      this.endUserToken = jwt;
      return this;
    }

    /** Deadline for each unary call (default 30 s). */
    public Builder deadline(Duration value) {
      requireNonNull(value, "value");
      if (value.isNegative() || value.isZero()) {
        throw new IllegalArgumentException("deadline: " + value + " (expected: > 0)");
      }
      this.deadline = value;
      return this;
    }

    public ProtoradClient build() {
      if (endUserToken != null && apiKey == null) {
        throw new IllegalStateException(
            "endUserToken needs apiKey: only a gateway may assert users");
      }
      return new ProtoradClient(this);
    }
  }
}
