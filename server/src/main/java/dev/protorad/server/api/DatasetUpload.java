package dev.protorad.server.api;

import dev.protorad.api.v1.UploadDatasetRequest;
import dev.protorad.api.v1.UploadDatasetResponse;
import dev.protorad.server.jobs.FineTuneJobs;
import dev.protorad.training.data.DatasetRecord;
import dev.protorad.training.data.Split;
import dev.protorad.training.data.ValidatedDataset;
import dev.protorad.training.data.ValidationError;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.EnumMap;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;

/**
 * One {@code UploadDataset} call: chunks go to a part file beside the uploads as they arrive (never
 * the whole dataset in one message or in memory while receiving); on completion the dataset is
 * validated as a job would, audited, and moved to {@code uploads/<sha256>.jsonl} in one rename, so
 * that a reader sees a whole dataset or none. A failed or abandoned upload leaves nothing behind.
 */
final class DatasetUpload implements StreamObserver<UploadDatasetRequest> {

  /** Largest dataset accepted. */
  static final long MAX_BYTES = 512L << 20;

  /** Largest chunk accepted, well under gRPC's 4 MiB message limit. */
  static final int MAX_CHUNK_BYTES = 1 << 20;

  /** Folder under the dataset directory that uploads go to. */
  static final String UPLOADS = "uploads";

  private static final int ERRORS_NAMED = 5;

  /** FAILED_PRECONDITION on a server without a dataset directory. */
  private static final Status NO_DATASETS =
      Status.FAILED_PRECONDITION.withDescription(
          "this server keeps no datasets (expected: inline examples)");

  private final FineTuneJobs jobs;
  private final @Nullable Path datasetRoot;
  private final StreamObserver<UploadDatasetResponse> response;
  private @Nullable Path part;
  private @Nullable OutputStream out;
  private long received;
  private boolean skipInvalid;
  private boolean failed;

  DatasetUpload(
      FineTuneJobs jobs,
      @Nullable Path datasetRoot,
      StreamObserver<UploadDatasetResponse> response) {
    this.jobs = jobs;
    this.datasetRoot = datasetRoot;
    this.response = response;
  }

  @Override
  public void onNext(UploadDatasetRequest chunk) {
    if (failed) {
      return;
    }
    try {
      receive(chunk);
    } catch (IOException | RuntimeException e) {
      fail(e);
    }
  }

  private void receive(UploadDatasetRequest chunk) throws IOException {
    skipInvalid |= chunk.getSkipInvalid();
    int size = chunk.getChunk().size();
    if (size > MAX_CHUNK_BYTES) {
      throw Status.RESOURCE_EXHAUSTED
          .withDescription("chunk: " + size + " bytes (expected: at most " + MAX_CHUNK_BYTES + ")")
          .asRuntimeException();
    }
    received += size;
    if (received > MAX_BYTES) {
      throw Status.RESOURCE_EXHAUSTED
          .withDescription("dataset: over " + MAX_BYTES + " bytes")
          .asRuntimeException();
    }
    OutputStream stream = out == null ? open() : out;
    chunk.getChunk().writeTo(stream);
  }

  /** The part file, readable by this server's user only: training notes are patient data. */
  private OutputStream open() throws IOException {
    Path uploads = uploads();
    boolean posix = uploads.getFileSystem().supportedFileAttributeViews().contains("posix");
    if (posix) {
      Files.createDirectories(
          uploads,
          PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    } else {
      Files.createDirectories(uploads);
    }
    Path p = uploads.resolve(".part-" + UUID.randomUUID());
    part = p;
    if (posix) {
      Files.createFile(
          p, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    }
    out = Files.newOutputStream(p);
    return out;
  }

  private Path uploads() {
    if (datasetRoot == null) {
      throw NO_DATASETS.asRuntimeException();
    }
    return datasetRoot.resolve(UPLOADS);
  }

  @Override
  public void onError(Throwable t) {
    discard();
  }

  @Override
  public void onCompleted() {
    if (failed) {
      return;
    }
    try {
      response.onNext(store());
      response.onCompleted();
    } catch (IOException | RuntimeException e) {
      fail(e);
    } finally {
      discard();
    }
  }

  private UploadDatasetResponse store() throws IOException {
    Path p = part;
    if (p == null || out == null) {
      throw new IllegalArgumentException("dataset: empty (expected: JSONL lines)");
    }
    out.close();
    byte[] jsonl = Files.readAllBytes(p);
    ValidatedDataset data = jobs.validate(jsonl, skipInvalid);
    if (data.report().hasErrors() && !skipInvalid) {
      throw new IllegalArgumentException(refusal(data));
    }
    if (data.records().isEmpty()) {
      throw new IllegalArgumentException("dataset: no valid line (expected: JSONL examples)");
    }
    String hash = FineTuneJobs.sha256(jsonl);
    // Evidence first: the upload is durable in the audit trail before the dataset is usable.
    CallAudit.beforeEffect();
    move(p, uploads().resolve(hash + ".jsonl"));
    part = null;
    return response(data, hash);
  }

  private static void move(Path from, Path to) throws IOException {
    try {
      Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
    }
  }

  private UploadDatasetResponse response(ValidatedDataset data, String hash) {
    Map<Split, Integer> splits = new EnumMap<>(Split.class);
    int unsplit = 0;
    for (DatasetRecord r : data.records()) {
      if (r.split().isPresent()) {
        splits.merge(r.split().get(), 1, Integer::sum);
      } else {
        unsplit++;
      }
    }
    return UploadDatasetResponse.newBuilder()
        .setDatasetPath(UPLOADS + "/" + hash + ".jsonl")
        .setSha256(hash)
        .setSizeBytes(received)
        .setExamples(data.records().size())
        .setTrain(splits.getOrDefault(Split.TRAIN, 0))
        .setValidation(splits.getOrDefault(Split.VALIDATION, 0))
        .setTest(splits.getOrDefault(Split.TEST, 0))
        .setUnsplit(unsplit)
        .setSkipped(data.report().skippedLines())
        .build();
  }

  /** Counts and the first lines' numbers and kinds; the validator's messages hold no note text. */
  private static String refusal(ValidatedDataset data) {
    var errors = data.report().errors();
    String first =
        errors.stream()
            .limit(ERRORS_NAMED)
            .map(e -> "line " + e.line() + ": " + kind(e))
            .collect(Collectors.joining("; "));
    return "dataset: "
        + errors.size()
        + " invalid of "
        + data.report().lines()
        + " lines ("
        + first
        + (errors.size() > ERRORS_NAMED ? "; ..." : "")
        + "); fix them or set skip_invalid";
  }

  private static String kind(ValidationError e) {
    return e.kind().name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
  }

  private void fail(Exception e) {
    failed = true;
    discard();
    response.onError(statusOf(e).asRuntimeException());
  }

  private static Status statusOf(Exception e) {
    return e instanceof io.grpc.StatusRuntimeException s
        ? s.getStatus()
        : Statuses.toStatus(e instanceof IOException io ? new UncheckedIOException(io) : e);
  }

  private void discard() {
    try {
      if (out != null) {
        out.close();
      }
      if (part != null) {
        Files.deleteIfExists(part);
      }
    } catch (IOException e) {
      // A leftover part file is named .part-*, never a dataset; the next upload uses a fresh one.
    }
    out = null;
    part = null;
  }
}
