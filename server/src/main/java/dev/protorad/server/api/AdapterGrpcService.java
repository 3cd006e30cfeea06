package dev.protorad.server.api;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.ByteString;
import dev.protorad.api.v1.AdapterEvaluation;
import dev.protorad.api.v1.AdapterServiceGrpc;
import dev.protorad.api.v1.AdapterVersionState;
import dev.protorad.api.v1.ArchiveAdapterVersionRequest;
import dev.protorad.api.v1.ArchiveAdapterVersionResponse;
import dev.protorad.api.v1.ConfusionCell;
import dev.protorad.api.v1.ExportAdapterRequest;
import dev.protorad.api.v1.ExportAdapterResponse;
import dev.protorad.api.v1.FileChunk;
import dev.protorad.api.v1.GetAdapterRequest;
import dev.protorad.api.v1.GetAdapterResponse;
import dev.protorad.api.v1.ImportAdapterRequest;
import dev.protorad.api.v1.ImportAdapterResponse;
import dev.protorad.api.v1.ListAdaptersRequest;
import dev.protorad.api.v1.ListAdaptersResponse;
import dev.protorad.api.v1.OperatingPoint;
import dev.protorad.api.v1.ReliabilityBin;
import dev.protorad.api.v1.SetAdapterAliasRequest;
import dev.protorad.api.v1.SetAdapterAliasResponse;
import dev.protorad.engine.model.PromptTemplate;
import dev.protorad.engine.peft.LoraAdapter;
import dev.protorad.server.adapters.AdapterRef;
import dev.protorad.server.adapters.AdapterStore;
import dev.protorad.server.adapters.AdapterVersion;
import dev.protorad.server.adapters.Lineage;
import dev.protorad.training.eval.EvalCurves;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/** {@code AdapterService}: translates messages to and from the {@link AdapterStore}. */
final class AdapterGrpcService extends AdapterServiceGrpc.AdapterServiceImplBase {

  static final int CHUNK_BYTES = 1 << 20;
  static final long MAX_IMPORT_BYTES = 512L << 20;
  private static final Set<String> IMPORTABLE =
      Set.of(LoraAdapter.CONFIG_FILE, LoraAdapter.WEIGHTS_FILE, "adapter_model.bin");

  private final AdapterStore store;
  private final boolean writable;

  AdapterGrpcService(AdapterStore store) {
    this(store, true);
  }

  /** With {@code writable} false, alias moves, archiving and imports are refused. */
  AdapterGrpcService(AdapterStore store, boolean writable) {
    this.store = requireNonNull(store, "store");
    this.writable = writable;
  }

  /** FAILED_PRECONDITION on a serving replica: adapter writes go to the training replica. */
  private static final Status READ_ONLY =
      Status.FAILED_PRECONDITION.withDescription(
          "this replica serves predictions (server.role: serve); change adapters on the"
              + " train replica");

  private void requireWritable() {
    if (!writable) {
      throw READ_ONLY.asRuntimeException();
    }
  }

  @Override
  public void listAdapters(
      ListAdaptersRequest request, StreamObserver<ListAdaptersResponse> response) {
    Statuses.respond(response, () -> list(request));
  }

  @Override
  public void getAdapter(GetAdapterRequest request, StreamObserver<GetAdapterResponse> response) {
    Statuses.respond(response, () -> get(request));
  }

  private GetAdapterResponse get(GetAdapterRequest request) {
    AdapterVersion v = store.get(AdapterRef.parse(request.getRef()));
    audit(v);
    GetAdapterResponse.Builder out = GetAdapterResponse.newBuilder().setVersion(toProto(v));
    store.evaluation(v).ifPresent(c -> out.setEvaluation(toProto(c)));
    return out.build();
  }

  @Override
  public void setAdapterAlias(
      SetAdapterAliasRequest request, StreamObserver<SetAdapterAliasResponse> response) {
    Statuses.respond(response, () -> setAlias(request));
  }

  private SetAdapterAliasResponse setAlias(SetAdapterAliasRequest request) {
    requireWritable();
    AdapterRef.requireAlias(request.getAlias());
    AdapterVersion target = store.get(AdapterRef.of(request.getName(), request.getVersion()));
    if (target.archived()) {
      throw new IllegalStateException("adapter version archived: " + target.ref());
    }
    audit(target);
    CallAudit.beforeEffect();
    int previous =
        io(() -> store.setAlias(request.getName(), request.getAlias(), request.getVersion()));
    AdapterVersion v = store.get(AdapterRef.of(request.getName(), request.getVersion()));
    return SetAdapterAliasResponse.newBuilder()
        .setVersion(toProto(v))
        .setPreviousVersion(previous)
        .build();
  }

  @Override
  public void archiveAdapterVersion(
      ArchiveAdapterVersionRequest request,
      StreamObserver<ArchiveAdapterVersionResponse> response) {
    Statuses.respond(response, () -> archive(request));
  }

  private ArchiveAdapterVersionResponse archive(ArchiveAdapterVersionRequest request) {
    requireWritable();
    audit(store.get(AdapterRef.parse(request.getRef())));
    CallAudit.beforeEffect();
    AdapterVersion v = io(() -> store.archive(AdapterRef.parse(request.getRef())));
    return ArchiveAdapterVersionResponse.newBuilder().setVersion(toProto(v)).build();
  }

  @Override
  public void exportAdapter(
      ExportAdapterRequest request, StreamObserver<ExportAdapterResponse> response) {
    try {
      AdapterVersion v = store.get(AdapterRef.parse(request.getRef()));
      audit(v);
      for (Path file : store.files(AdapterRef.of(v.metadata().name(), v.metadata().version()))) {
        try (InputStream in = Files.newInputStream(file)) {
          sendFile(file.getFileName().toString(), in, response);
        }
      }
      sendFile(
          AdapterStore.METADATA_FILE,
          new ByteArrayInputStream(v.metadataJson().getBytes(StandardCharsets.UTF_8)),
          response);
      response.onNext(ExportAdapterResponse.newBuilder().setVersion(toProto(v)).build());
      response.onCompleted();
    } catch (IOException e) {
      response.onError(Statuses.toStatus(new UncheckedIOException(e)).asRuntimeException());
    } catch (RuntimeException e) {
      response.onError(Statuses.toStatus(e).asRuntimeException());
    }
  }

  @Override
  public StreamObserver<ImportAdapterRequest> importAdapter(
      StreamObserver<ImportAdapterResponse> response) {
    if (!writable) {
      response.onError(READ_ONLY.asRuntimeException());
      return new StreamObserver<>() {
        @Override
        public void onNext(ImportAdapterRequest ignored) {}

        @Override
        public void onError(Throwable t) {}

        @Override
        public void onCompleted() {}
      };
    }
    return new Importer(response);
  }

  private ListAdaptersResponse list(ListAdaptersRequest request) {
    int size = TrainingGrpcService.pageSize(request.getPageSize());
    int from = TrainingGrpcService.pageToken(request.getPageToken());
    Optional<String> name =
        request.getName().isEmpty() ? Optional.empty() : Optional.of(request.getName());
    List<AdapterVersion> all = store.list(name, request.getIncludeArchived());
    ListAdaptersResponse.Builder b = ListAdaptersResponse.newBuilder();
    for (int i = from; i < Math.min(all.size(), from + size); i++) {
      b.addVersions(toProto(all.get(i)));
    }
    if (from + size < all.size()) {
      b.setNextPageToken(Integer.toString(from + size));
    }
    return b.build();
  }

  private static void sendFile(
      String name, InputStream in, StreamObserver<ExportAdapterResponse> response)
      throws IOException {
    long offset = 0;
    byte[] buf = new byte[CHUNK_BYTES];
    int n;
    while ((n = in.readNBytes(buf, 0, buf.length)) > 0) {
      FileChunk chunk =
          FileChunk.newBuilder()
              .setFileName(name)
              .setOffset(offset)
              .setData(ByteString.copyFrom(buf, 0, n))
              .build();
      response.onNext(ExportAdapterResponse.newBuilder().setChunk(chunk).build());
      offset += n;
    }
  }

  private static void audit(AdapterVersion v) {
    CallAudit audit = CallAudit.KEY.get();
    if (audit != null) {
      audit.model(v.ref(), v.metadata().baseFingerprint());
    }
  }

  static dev.protorad.api.v1.AdapterVersion toProto(AdapterVersion v) {
    var m = v.metadata();
    var b =
        dev.protorad.api.v1.AdapterVersion.newBuilder()
            .setName(m.name())
            .setVersion(m.version())
            .setRef(m.ref())
            .setContentHash(m.contentHash())
            .setBaseFingerprint(m.baseFingerprint())
            .addAllAliases(v.aliases())
            .setState(
                v.archived()
                    ? AdapterVersionState.ADAPTER_VERSION_STATE_ARCHIVED
                    : AdapterVersionState.ADAPTER_VERSION_STATE_ACTIVE)
            .setCreateTime(ProtoTimes.of(m.createdAt()))
            .setCreatedBy(m.createdBy())
            .setSizeBytes(v.sizeBytes())
            .setPromptTemplate(m.promptTemplateVersion())
            .setDatasetHash(m.datasetHash())
            .putAllHyperParameters(m.hyperParameters())
            .putAllMetrics(m.metrics())
            .setJobId(m.jobId())
            .setParent(m.parent());
    String rank = m.hyperParameters().get("rank");
    String alpha = m.hyperParameters().get("alpha");
    String targets = m.hyperParameters().get("target_modules");
    if (rank != null) b.setRank(Integer.parseInt(rank));
    if (alpha != null) b.setAlpha(Float.parseFloat(alpha));
    if (targets != null) b.addAllTargetModules(List.of(targets.split(",")));
    return b.build();
  }

  private interface IoCall<T> {
    T call() throws IOException;
  }

  private static <T> T io(IoCall<T> call) {
    try {
      return call.call();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Receives a header, then chunks of the PEFT files; validates and registers on completion. */
  private final class Importer implements StreamObserver<ImportAdapterRequest> {
    private final StreamObserver<ImportAdapterResponse> response;
    private @Nullable Path dir;
    private @Nullable String name;
    private PromptTemplate template = PromptTemplate.forNewAdapter();
    private long received;
    private boolean failed;

    Importer(StreamObserver<ImportAdapterResponse> response) {
      this.response = response;
    }

    @Override
    public void onNext(ImportAdapterRequest part) {
      if (failed) {
        return;
      }
      try {
        if (part.hasHeader()) {
          header(part);
        } else {
          chunk(part.getChunk());
        }
      } catch (IOException | RuntimeException e) {
        fail(e);
      }
    }

    private void header(ImportAdapterRequest part) throws IOException {
      if (dir != null) {
        throw new IllegalArgumentException("header: sent twice (expected: once, first)");
      }
      name = part.getHeader().getName();
      AdapterRef.parse(name);
      String version = part.getHeader().getPromptTemplate();
      template = PromptTemplate.select(null, version.isEmpty() ? null : version, false);
      dir = Files.createTempDirectory("protorad-import-");
    }

    private void chunk(FileChunk chunk) throws IOException {
      if (dir == null) {
        throw new IllegalArgumentException("header: missing (expected: before any chunk)");
      }
      if (!IMPORTABLE.contains(chunk.getFileName())) {
        throw new IllegalArgumentException(
            "file_name: "
                + chunk.getFileName()
                + " (expected: adapter_config.json or adapter_model.safetensors)");
      }
      received += chunk.getData().size();
      if (received > MAX_IMPORT_BYTES) {
        throw new IllegalArgumentException(
            "files: over " + MAX_IMPORT_BYTES + " bytes (expected: a LoRA adapter)");
      }
      Path file = dir.resolve(chunk.getFileName());
      if (chunk.getOffset() != (Files.exists(file) ? Files.size(file) : 0)) {
        throw new IllegalArgumentException(
            "offset: " + chunk.getOffset() + " (expected: chunks in order, without gaps)");
      }
      try (OutputStream out =
          Files.newOutputStream(file, StandardOpenOption.CREATE, StandardOpenOption.APPEND)) {
        chunk.getData().writeTo(out);
      }
    }

    @Override
    public void onError(Throwable t) {
      cleanup();
    }

    @Override
    public void onCompleted() {
      if (failed) {
        return;
      }
      try {
        Path dir = this.dir;
        String name = this.name;
        if (dir == null || name == null) {
          throw new IllegalArgumentException("header: missing (expected: a header and files)");
        }
        String caller =
            CallIdentity.find().map(TrainingGrpcService::name).orElse(CallAudit.ANONYMOUS);
        // Evidence first: the import is audited (under the adapter's name; its number is the
        // store's next) before it is registered.
        CallAudit.beforeEffect(name, store.baseFingerprint());
        AdapterVersion v = store.importAdapter(name, dir, Lineage.imported(template, caller));
        response.onNext(ImportAdapterResponse.newBuilder().setVersion(toProto(v)).build());
        response.onCompleted();
      } catch (IOException | RuntimeException e) {
        fail(e);
        return;
      } finally {
        cleanup();
      }
    }

    private void fail(Exception e) {
      failed = true;
      response.onError(Statuses.toStatus(unchecked(e)).asRuntimeException());
      cleanup();
    }

    private void cleanup() {
      if (dir != null) {
        deleteQuietly(dir);
        dir = null;
      }
    }
  }

  /**
   * {@code e}, with an I/O failure wrapped as unchecked unless it is a refused adapter file (those
   * keep their own status).
   */
  private static Exception unchecked(Exception e) {
    return e instanceof IOException io
            && !(e instanceof dev.protorad.engine.peft.AdapterException)
            && !(e instanceof dev.protorad.engine.safetensors.SafetensorsException)
        ? new UncheckedIOException(io)
        : e;
  }

  /** Deletes {@code dir} and everything under it, as far as it can. */
  private static void deleteQuietly(Path dir) {
    try (var s = Files.walk(dir)) {
      for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    } catch (IOException e) {
      // A leftover temporary directory is harmless; the next import uses a fresh one.
    }
  }

  private static AdapterEvaluation toProto(EvalCurves c) {
    AdapterEvaluation.Builder out =
        AdapterEvaluation.newBuilder()
            .setSplit(c.split())
            .setExamples(c.examples())
            .addAllLabels(c.labels())
            .addAllTrainingLoss(c.trainingLoss());
    c.reliability()
        .forEach(
            b ->
                out.addReliability(
                    ReliabilityBin.newBuilder()
                        .setMeanConfidence(b.meanConfidence())
                        .setAccuracy(b.accuracy())
                        .setCount(b.count())));
    c.precisionCoverage().forEach(p -> out.addPrecisionCoverage(toProto(p)));
    EvalCurves.Point gate = c.gate();
    if (gate != null) {
      out.setReviewGate(toProto(gate));
    }
    c.confusion()
        .forEach(
            cell ->
                out.addConfusion(
                    ConfusionCell.newBuilder()
                        .setGold(cell.gold())
                        .setPredicted(cell.predicted())
                        .setCount(cell.count())));
    return out.build();
  }

  private static OperatingPoint toProto(EvalCurves.Point p) {
    return OperatingPoint.newBuilder()
        .setCoverage(p.coverage())
        .setPrecision(p.precision())
        .setThreshold(p.threshold())
        .build();
  }
}
