package dev.protorad.client;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.ByteString;
import dev.protorad.api.v1.AdapterServiceGrpc;
import dev.protorad.api.v1.AdapterVersion;
import dev.protorad.api.v1.ArchiveAdapterVersionRequest;
import dev.protorad.api.v1.ArchiveAdapterVersionResponse;
import dev.protorad.api.v1.AssignProtocolRequest;
import dev.protorad.api.v1.AssignProtocolResponse;
import dev.protorad.api.v1.AssignProtocolsRequest;
import dev.protorad.api.v1.AssignProtocolsResponse;
import dev.protorad.api.v1.AuditServiceGrpc;
import dev.protorad.api.v1.CancelFineTuneRequest;
import dev.protorad.api.v1.CancelFineTuneResponse;
import dev.protorad.api.v1.ExportAdapterRequest;
import dev.protorad.api.v1.ExportAdapterResponse;
import dev.protorad.api.v1.FileChunk;
import dev.protorad.api.v1.FineTuneEvent;
import dev.protorad.api.v1.GetAdapterRequest;
import dev.protorad.api.v1.GetAdapterResponse;
import dev.protorad.api.v1.GetCatalogRequest;
import dev.protorad.api.v1.GetCatalogResponse;
import dev.protorad.api.v1.GetPredictionNoteRequest;
import dev.protorad.api.v1.GetPredictionNoteResponse;
import dev.protorad.api.v1.GetPredictionRequest;
import dev.protorad.api.v1.GetPredictionResponse;
import dev.protorad.api.v1.ImportAdapterRequest;
import dev.protorad.api.v1.ImportAdapterResponse;
import dev.protorad.api.v1.ImportHeader;
import dev.protorad.api.v1.ListAdaptersRequest;
import dev.protorad.api.v1.ListAdaptersResponse;
import dev.protorad.api.v1.ListFineTuneJobsRequest;
import dev.protorad.api.v1.ListFineTuneJobsResponse;
import dev.protorad.api.v1.ListPredictionsRequest;
import dev.protorad.api.v1.ListPredictionsResponse;
import dev.protorad.api.v1.ProtocolServiceGrpc;
import dev.protorad.api.v1.QueryAuditEventsRequest;
import dev.protorad.api.v1.QueryAuditEventsResponse;
import dev.protorad.api.v1.ReviewPredictionRequest;
import dev.protorad.api.v1.ReviewPredictionResponse;
import dev.protorad.api.v1.SetAdapterAliasRequest;
import dev.protorad.api.v1.SetAdapterAliasResponse;
import dev.protorad.api.v1.StartFineTuneRequest;
import dev.protorad.api.v1.StartFineTuneResponse;
import dev.protorad.api.v1.TrainingServiceGrpc;
import dev.protorad.api.v1.UploadDatasetRequest;
import dev.protorad.api.v1.UploadDatasetResponse;
import dev.protorad.api.v1.VerifyAuditLogRequest;
import dev.protorad.api.v1.VerifyAuditLogResponse;
import dev.protorad.api.v1.WatchFineTuneRequest;
import dev.protorad.api.v1.WatchFineTuneResponse;
import io.grpc.CallCredentials;
import io.grpc.Channel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.EnumSet;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

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

  /** Attempts of one {@link #assignProtocol} unless the builder sets another number. */
  public static final int DEFAULT_MAX_ATTEMPTS = 3;

  /** Wait before the first retry; each later one waits twice as long. */
  public static final Duration DEFAULT_RETRY_BACKOFF = Duration.ofMillis(200);

  /** Statuses after which an assignment is tried again: the answer may simply have been lost. */
  private static final Set<Status.Code> RETRIED =
      EnumSet.of(
          Status.Code.UNAVAILABLE, Status.Code.DEADLINE_EXCEEDED, Status.Code.RESOURCE_EXHAUSTED);

  private final Channel channel;
  private final @Nullable CallCredentials credentials;
  private final Duration deadline;
  private final int maxAttempts;
  private final Duration retryBackoff;

  private ProtoradClient(Builder b) {
    this.channel = b.channel;
    this.credentials = b.apiKey == null ? null : new BearerCredentials(b.apiKey, b.endUserToken);
    this.deadline = b.deadline;
    this.maxAttempts = b.maxAttempts;
    this.retryBackoff = b.retryBackoff;
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

  /**
   * Assigns a protocol to one note ({@code note:submit}). A call that fails with UNAVAILABLE,
   * DEADLINE_EXCEEDED or RESOURCE_EXHAUSTED is tried again, up to the builder's {@code
   * maxAttempts}, after a doubling back-off. Every attempt carries the same {@code
   * idempotency_key}: the request's own, or one the client draws when it has none, so that a retry
   * after a lost answer gets the prediction the server already made instead of a second one.
   */
  public AssignProtocolResponse assignProtocol(AssignProtocolRequest request) {
    requireNonNull(request, "request");
    AssignProtocolRequest keyed =
        request.getIdempotencyKey().isEmpty()
            ? request.toBuilder().setIdempotencyKey("sdk-" + UUID.randomUUID()).build()
            : request;
    long backoff = retryBackoff.toMillis();
    for (int attempt = 1; ; attempt++) {
      try {
        return protocol().assignProtocol(keyed);
      } catch (StatusRuntimeException e) {
        if (attempt >= maxAttempts || !RETRIED.contains(e.getStatus().getCode())) {
          throw new ProtoradException(e);
        }
      }
      sleep(backoff);
      backoff *= 2;
    }
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ProtoradException(
          Status.CANCELLED.withDescription("interrupted between retries").asRuntimeException());
    }
  }

  /** Reads a stored prediction ({@code prediction:read}). */
  public GetPredictionResponse getPrediction(GetPredictionRequest request) {
    return call(() -> protocol().getPrediction(request));
  }

  /** Accepts or corrects a prediction ({@code prediction:review}). */
  public ReviewPredictionResponse reviewPrediction(ReviewPredictionRequest request) {
    return call(() -> protocol().reviewPrediction(request));
  }

  /**
   * One page of stored predictions, oldest first ({@code prediction:read}): the review worklist
   * with {@code needs_review} set and {@code reviewed} false.
   */
  public ListPredictionsResponse listPredictions(ListPredictionsRequest request) {
    return call(() -> protocol().listPredictions(request));
  }

  /** The protocol catalog a correction picks from ({@code label:read}). */
  public GetCatalogResponse getCatalog() {
    return call(() -> protocol().getCatalog(GetCatalogRequest.getDefaultInstance()));
  }

  /** The note a prediction was made from ({@code note:read}; every read is audited). */
  public GetPredictionNoteResponse getPredictionNote(GetPredictionNoteRequest request) {
    return call(() -> protocol().getPredictionNote(request));
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

  /**
   * Starts a fine-tune job ({@code training:run}) and follows it to the end: {@code onEvent}
   * receives every progress event in order (queued, validating, training steps with loss, learning
   * rate, tokens/s and ETA, evaluation metrics, saving, then done, failed or cancelled). Blocks
   * until the job ends or the stream breaks; the call has no deadline, since training outlasts any
   * sensible one. After a disconnect, {@link #watchFineTune} re-attaches.
   *
   * @return the last event received (phase DONE carries the new {@code adapter_version})
   * @throws ProtoradException when the server refuses the job or the stream fails
   */
  public FineTuneEvent startFineTune(
      StartFineTuneRequest request, Consumer<FineTuneEvent> onEvent) {
    requireNonNull(request, "request");
    requireNonNull(onEvent, "onEvent");
    return call(
        () -> follow(streaming().startFineTune(request), StartFineTuneResponse::getEvent, onEvent));
  }

  /**
   * Re-attaches to a job ({@code training:run}): replays its events so far, then follows it to the
   * end, as {@link #startFineTune} does.
   */
  public FineTuneEvent watchFineTune(String jobId, Consumer<FineTuneEvent> onEvent) {
    requireNonNull(jobId, "jobId");
    requireNonNull(onEvent, "onEvent");
    WatchFineTuneRequest request = WatchFineTuneRequest.newBuilder().setJobId(jobId).build();
    return call(
        () -> follow(streaming().watchFineTune(request), WatchFineTuneResponse::getEvent, onEvent));
  }

  /**
   * Downloads an adapter version's PEFT files and metadata into {@code dir} ({@code adapter:read}).
   *
   * @return the version exported
   */
  public AdapterVersion exportAdapter(String ref, Path dir) throws IOException {
    requireNonNull(ref, "ref");
    requireNonNull(dir, "dir");
    Files.createDirectories(dir);
    Iterator<ExportAdapterResponse> it;
    try {
      it =
          configureAsync(AdapterServiceGrpc.newBlockingStub(channel))
              .exportAdapter(ExportAdapterRequest.newBuilder().setRef(ref).build());
      AdapterVersion version = null;
      while (it.hasNext()) {
        ExportAdapterResponse r = it.next();
        if (r.hasChunk()) {
          write(dir, r.getChunk());
        }
        if (r.hasVersion()) {
          version = r.getVersion();
        }
      }
      if (version == null) {
        throw new IOException("export of " + ref + " ended without its version");
      }
      return version;
    } catch (StatusRuntimeException e) {
      throw new ProtoradException(e);
    }
  }

  /**
   * Uploads the PEFT files in {@code dir} ({@code adapter_config.json}, {@code
   * adapter_model.safetensors}) as the next version of {@code name} ({@code adapter:manage}). The
   * server validates them as it validates its own adapters, and records the server's default prompt
   * template for them.
   */
  public AdapterVersion importAdapter(String name, Path dir) throws IOException {
    return importAdapter(name, dir, "");
  }

  /**
   * As {@link #importAdapter(String, Path)}, recording {@code promptTemplate} (for example {@code
   * v1}, as an exported {@code metadata.json} names it) as the template the adapter was trained
   * with; empty for the server's default. An unknown template is refused ({@code
   * INVALID_ARGUMENT}).
   */
  public AdapterVersion importAdapter(String name, Path dir, String promptTemplate)
      throws IOException {
    requireNonNull(name, "name");
    requireNonNull(dir, "dir");
    requireNonNull(promptTemplate, "promptTemplate");
    CompletableFuture<ImportAdapterResponse> done = new CompletableFuture<>();
    StreamObserver<ImportAdapterRequest> upload =
        configureAsync(AdapterServiceGrpc.newStub(channel))
            .importAdapter(
                new StreamObserver<>() {
                  @Override
                  public void onNext(ImportAdapterResponse value) {
                    done.complete(value);
                  }

                  @Override
                  public void onError(Throwable t) {
                    done.completeExceptionally(t);
                  }

                  @Override
                  public void onCompleted() {}
                });
    upload.onNext(
        ImportAdapterRequest.newBuilder()
            .setHeader(ImportHeader.newBuilder().setName(name).setPromptTemplate(promptTemplate))
            .build());
    for (String file : List.of("adapter_config.json", "adapter_model.safetensors")) {
      byte[] bytes = Files.readAllBytes(dir.resolve(file));
      for (int off = 0; off < bytes.length || off == 0; off += CHUNK) {
        int n = Math.min(CHUNK, bytes.length - off);
        upload.onNext(
            ImportAdapterRequest.newBuilder()
                .setChunk(
                    FileChunk.newBuilder()
                        .setFileName(file)
                        .setOffset(off)
                        .setData(ByteString.copyFrom(bytes, off, n)))
                .build());
        if (bytes.length == 0) {
          break;
        }
      }
    }
    upload.onCompleted();
    try {
      return done.get(deadline.toMillis(), TimeUnit.MILLISECONDS).getVersion();
    } catch (ExecutionException e) {
      if (e.getCause() instanceof StatusRuntimeException s) {
        throw new ProtoradException(s);
      }
      throw new IOException("import failed", e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted", e);
    } catch (TimeoutException e) {
      throw new IOException("import timed out after " + deadline, e);
    }
  }

  private static final int CHUNK = 1 << 20;

  private static <R> FineTuneEvent follow(
      Iterator<R> stream, Function<R, FineTuneEvent> event, Consumer<FineTuneEvent> onEvent) {
    FineTuneEvent last = null;
    while (stream.hasNext()) {
      last = event.apply(stream.next());
      onEvent.accept(last);
    }
    if (last == null) {
      throw new IllegalStateException("the job stream ended without an event");
    }
    return last;
  }

  private static void write(Path dir, FileChunk chunk) throws IOException {
    Path file = dir.resolve(chunk.getFileName()).normalize();
    if (!dir.normalize().equals(file.getParent())) {
      throw new IOException("refusing file name " + chunk.getFileName());
    }
    try (OutputStream out =
        Files.newOutputStream(
            file,
            chunk.getOffset() == 0
                ? new StandardOpenOption[] {
                  StandardOpenOption.CREATE,
                  StandardOpenOption.TRUNCATE_EXISTING,
                  StandardOpenOption.WRITE
                }
                : new StandardOpenOption[] {StandardOpenOption.APPEND})) {
      chunk.getData().writeTo(out);
    }
  }

  private TrainingServiceGrpc.TrainingServiceBlockingStub streaming() {
    TrainingServiceGrpc.TrainingServiceBlockingStub stub =
        TrainingServiceGrpc.newBlockingStub(channel);
    return credentials == null ? stub : stub.withCallCredentials(credentials);
  }

  private <S extends io.grpc.stub.AbstractStub<S>> S configureAsync(S stub) {
    return credentials == null ? stub : stub.withCallCredentials(credentials);
  }

  /**
   * Uploads a JSONL dataset ({@code training:run}) in chunks of at most 1 MiB, sent as fast as the
   * server takes them (gRPC flow control: the file is never held in memory whole), and returns
   * where the server stored it: pass {@link UploadDatasetResponse#getDatasetPath()} as {@code
   * StartFineTuneRequest.dataset_path}. Each line's {@code split} is kept. No deadline applies: a
   * large file outlasts any sensible one.
   *
   * @param skipInvalid leave invalid lines out (counted in the response) instead of refusing
   */
  public UploadDatasetResponse uploadDataset(InputStream jsonl, boolean skipInvalid)
      throws IOException {
    requireNonNull(jsonl, "jsonl");
    DatasetSender sender = new DatasetSender(jsonl, skipInvalid);
    configureAsync(TrainingServiceGrpc.newStub(channel)).uploadDataset(sender);
    try {
      return sender.done.get();
    } catch (ExecutionException e) {
      if (e.getCause() instanceof StatusRuntimeException s) {
        throw new ProtoradException(s);
      }
      if (e.getCause() instanceof IOException io) {
        throw io;
      }
      throw new IOException("upload failed", e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted", e);
    }
  }

  /**
   * Scores many notes over one {@code AssignProtocols} stream ({@code note:submit}), with at most
   * {@code maxInFlight} items unanswered at a time, so a large input never floods the server or the
   * client's memory. Each answer (a prediction or a per-item error) goes to {@code onResponse} on a
   * gRPC thread, in the order the server finishes them. No deadline applies to the stream; give
   * each item an {@code idempotency_key} so that items resent after a broken stream are answered
   * with their first prediction.
   *
   * @throws ProtoradException when the stream itself fails (UNAVAILABLE, UNAUTHENTICATED, ...);
   *     answers received before were delivered
   */
  public void assignProtocols(
      Iterator<AssignProtocolsRequest> items,
      int maxInFlight,
      Consumer<AssignProtocolsResponse> onResponse) {
    requireNonNull(items, "items");
    requireNonNull(onResponse, "onResponse");
    if (maxInFlight < 1) {
      throw new IllegalArgumentException("maxInFlight: " + maxInFlight + " (expected: 1 or more)");
    }
    Semaphore permits = new Semaphore(maxInFlight);
    CompletableFuture<Void> done = new CompletableFuture<>();
    StreamObserver<AssignProtocolsRequest> out =
        configureAsync(ProtocolServiceGrpc.newStub(channel))
            .assignProtocols(
                new StreamObserver<>() {
                  @Override
                  public void onNext(AssignProtocolsResponse value) {
                    try {
                      onResponse.accept(value);
                    } finally {
                      permits.release();
                    }
                  }

                  @Override
                  public void onError(Throwable t) {
                    done.completeExceptionally(t);
                  }

                  @Override
                  public void onCompleted() {
                    done.complete(null);
                  }
                });
    try {
      while (items.hasNext() && !done.isDone()) {
        if (permits.tryAcquire(100, TimeUnit.MILLISECONDS)) {
          out.onNext(items.next());
        }
      }
      if (!done.isDone()) {
        out.onCompleted();
      }
      done.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      out.onError(Status.CANCELLED.withDescription("interrupted").asRuntimeException());
      throw new ProtoradException(
          Status.CANCELLED.withDescription("interrupted").asRuntimeException());
    } catch (ExecutionException e) {
      throw e.getCause() instanceof StatusRuntimeException s
          ? new ProtoradException(s)
          : new ProtoradException(Status.UNKNOWN.withCause(e.getCause()).asRuntimeException());
    } catch (RuntimeException e) {
      out.onError(Status.CANCELLED.withCause(e).asRuntimeException());
      throw e;
    }
  }

  /** As {@link #uploadDataset(InputStream, boolean)}, reading {@code file}. */
  public UploadDatasetResponse uploadDataset(Path file, boolean skipInvalid) throws IOException {
    try (InputStream in = Files.newInputStream(requireNonNull(file, "file"))) {
      return uploadDataset(in, skipInvalid);
    }
  }

  /** Sends the chunks of one upload whenever the call is ready for more. */
  private static final class DatasetSender
      implements ClientResponseObserver<UploadDatasetRequest, UploadDatasetResponse> {
    final CompletableFuture<UploadDatasetResponse> done = new CompletableFuture<>();
    private final InputStream in;
    private final boolean skipInvalid;
    private @Nullable ClientCallStreamObserver<UploadDatasetRequest> requests;
    private boolean sent;

    DatasetSender(InputStream in, boolean skipInvalid) {
      this.in = in;
      this.skipInvalid = skipInvalid;
    }

    @Override
    public void beforeStart(ClientCallStreamObserver<UploadDatasetRequest> call) {
      requests = call;
      call.setOnReadyHandler(this::send);
    }

    /** Runs on the call's thread, one at a time; sends until the transport pushes back. */
    private void send() {
      ClientCallStreamObserver<UploadDatasetRequest> call = requireNonNull(requests, "requests");
      try {
        while (!sent && call.isReady()) {
          byte[] chunk = in.readNBytes(CHUNK);
          if (chunk.length == 0) {
            sent = true;
            call.onCompleted();
            return;
          }
          call.onNext(
              UploadDatasetRequest.newBuilder()
                  .setChunk(ByteString.copyFrom(chunk))
                  .setSkipInvalid(skipInvalid)
                  .build());
        }
      } catch (IOException e) {
        sent = true;
        call.cancel("reading the dataset failed", e);
        done.completeExceptionally(e);
      }
    }

    @Override
    public void onNext(UploadDatasetResponse value) {
      done.complete(value);
    }

    @Override
    public void onError(Throwable t) {
      done.completeExceptionally(t);
    }

    @Override
    public void onCompleted() {
      if (!done.isDone()) {
        done.completeExceptionally(new IOException("upload ended without an answer"));
      }
    }
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
    private @Nullable String apiKey;
    private @Nullable String endUserToken;
    private Duration deadline = DEFAULT_DEADLINE;
    private int maxAttempts = DEFAULT_MAX_ATTEMPTS;
    private Duration retryBackoff = DEFAULT_RETRY_BACKOFF;

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

    /** Attempts of one {@link ProtoradClient#assignProtocol} (default 3; 1 never retries). */
    public Builder maxAttempts(int value) {
      if (value < 1 || value > 10) {
        throw new IllegalArgumentException("maxAttempts: " + value + " (expected: 1..10)");
      }
      this.maxAttempts = value;
      return this;
    }

    /** Wait before the first retry, doubled for each later one (default 200 ms). */
    public Builder retryBackoff(Duration value) {
      requireNonNull(value, "value");
      if (value.isNegative()) {
        throw new IllegalArgumentException("retryBackoff: " + value + " (expected: >= 0)");
      }
      this.retryBackoff = value;
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
