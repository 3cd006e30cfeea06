package dev.protorad.server.jobs;

import static java.util.Objects.requireNonNull;

import dev.protorad.clinical.catalog.Catalog;
import dev.protorad.clinical.gate.VersionGate;
import dev.protorad.engine.peft.LoraAdapter;
import dev.protorad.server.adapters.AdapterRef;
import dev.protorad.server.adapters.AdapterStore;
import dev.protorad.server.adapters.AdapterVersion;
import dev.protorad.server.adapters.Lineage;
import dev.protorad.training.EvalSummary;
import dev.protorad.training.FineTuner;
import dev.protorad.training.JobPhase;
import dev.protorad.training.data.DatasetRecord;
import dev.protorad.training.data.DatasetValidator;
import dev.protorad.training.data.Example;
import dev.protorad.training.data.Split;
import dev.protorad.training.data.ValidatedDataset;
import dev.protorad.training.eval.EvalMetrics;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.UUID;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The fine-tuning queue: one job runs at a time (PyTorch through DJL allows one gradient collector
 * per process), the rest wait in submission order. Every job keeps its events so a client can
 * re-attach ({@link #watch}) after a disconnect; a cancelled or failed job registers nothing, and a
 * finished one registers exactly one new adapter version.
 */
public final class FineTuneJobs implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(FineTuneJobs.class);
  private static final int MAX_EVENTS_KEPT = 20_000;

  /** Jobs waiting or running at most; one more is refused (RESOURCE_EXHAUSTED over gRPC). */
  public static final int MAX_PENDING = 8;

  private final FineTuner tuner;
  private final AdapterStore store;
  private final DatasetValidator validator;
  private final Clock clock;
  private final @Nullable Path checkpointRoot;
  private final ExecutorService worker;
  private final Map<String, Job> jobs = new ConcurrentHashMap<>();
  private final List<String> order = new CopyOnWriteArrayList<>();

  private FineTuneJobs(
      FineTuner tuner,
      AdapterStore store,
      Catalog catalog,
      Clock clock,
      @Nullable Path checkpointRoot) {
    this.tuner = tuner;
    this.store = store;
    this.validator = DatasetValidator.of(catalog);
    this.clock = clock;
    this.checkpointRoot = checkpointRoot;
    this.worker =
        Executors.newSingleThreadExecutor(
            r -> {
              Thread t = new Thread(r, "protorad-training");
              t.setDaemon(true);
              return t;
            });
  }

  /**
   * A queue running jobs with {@code tuner} and registering results in {@code store}.
   *
   * @param checkpointRoot where periodic checkpoints go ({@code <job>/step-N/}), or null
   */
  public static FineTuneJobs create(
      FineTuner tuner,
      AdapterStore store,
      Catalog catalog,
      Clock clock,
      @Nullable Path checkpointRoot) {
    return new FineTuneJobs(
        requireNonNull(tuner, "tuner"),
        requireNonNull(store, "store"),
        requireNonNull(catalog, "catalog"),
        requireNonNull(clock, "clock"),
        checkpointRoot);
  }

  /**
   * Queues a job; its first event (QUEUED) is already recorded when this returns. A {@code
   * startFrom} alias or bare name is resolved here, to the version it names now.
   *
   * @throws NoSuchElementException when {@code startFrom} names no version
   * @throws IllegalArgumentException when that version's rank, alpha or targets differ from the
   *     request's
   */
  public FineTuneJob submit(FineTuneRequest request) {
    requireNonNull(request, "request");
    if (request.startFrom() != null) {
      AdapterVersion v = store.get(request.startFrom());
      AdapterRef parent = AdapterRef.of(v.metadata().name(), v.metadata().version());
      try {
        // The configuration file only: the run reads the factors when it starts.
        FineTuner.requireContinuable(
            LoraAdapter.readConfig(v.dir()), request.hyperParameters().loraConfig(""));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      request =
          new FineTuneRequest(
              request.adapterName(),
              request.jsonl(),
              request.hyperParameters(),
              request.skipInvalid(),
              request.createdBy(),
              parent);
    }
    long pending = jobs.values().stream().filter(j -> !j.latest().phase().terminal()).count();
    if (pending >= MAX_PENDING) {
      throw new java.util.concurrent.RejectedExecutionException(
          "training queue full: " + pending + " jobs waiting or running");
    }
    String id = "ft-" + UUID.randomUUID().toString().substring(0, 12);
    Job job = new Job(id, request, clock.instant());
    jobs.put(id, job);
    order.add(id);
    job.emit(JobPhase.QUEUED, "queued");
    worker.execute(() -> run(job));
    return job.info();
  }

  /** Validates a dataset as a job would, without queueing one. */
  public ValidatedDataset validate(byte[] jsonl, boolean skipInvalid) {
    return validator.validate(requireNonNull(jsonl, "jsonl"), skipInvalid);
  }

  /**
   * Sends {@code listener} every event of the job so far, then each new one until the job ends.
   *
   * @return stops further events when run
   * @throws NoSuchElementException for an unknown job
   */
  public Runnable watch(String jobId, Consumer<FineTuneEvent> listener) {
    requireNonNull(listener, "listener");
    Job job = job(jobId);
    return job.subscribe(listener);
  }

  /** Asks a job to stop; a queued job ends at once, a running one at its next micro-batch. */
  public FineTuneJob cancel(String jobId) {
    Job job = job(jobId);
    job.cancelled = true;
    job.cancelIfQueued();
    return job.info();
  }

  /** Every job, oldest first. */
  public List<FineTuneJob> list() {
    return order.stream()
        .map(id -> requireNonNull(jobs.get(id), "job in order but not in jobs").info())
        .toList();
  }

  /** One job. */
  public Optional<FineTuneJob> get(String jobId) {
    Job j = jobs.get(requireNonNull(jobId, "jobId"));
    return j == null ? Optional.empty() : Optional.of(j.info());
  }

  @Override
  public void close() throws InterruptedException {
    jobs.values().forEach(j -> j.cancelled = true);
    worker.shutdown();
    worker.awaitTermination(30, TimeUnit.SECONDS);
  }

  private Job job(String jobId) {
    requireNonNull(jobId, "jobId");
    return Optional.ofNullable(jobs.get(jobId))
        .orElseThrow(() -> new NoSuchElementException("job not found: " + jobId));
  }

  // ---- running ----

  private void run(Job job) {
    if (job.latest().phase().terminal()) {
      return;
    }
    try {
      job.emit(JobPhase.VALIDATING, "validating dataset");
      FineTuneRequest r = job.request;
      FineTuner.Splits splits = splits(r);
      job.emit(
          JobPhase.VALIDATING,
          "splits: "
              + splits.train().size()
              + " train, "
              + splits.validation().size()
              + " validation, "
              + splits.test().size()
              + " test");
      Path checkpoints = checkpointRoot == null ? null : checkpointRoot.resolve(job.id);
      LoraAdapter parent = r.startFrom() == null ? null : store.load(r.startFrom());
      FineTuner.Result result =
          tuner.run(
              splits,
              r.hyperParameters(),
              parent,
              job.listener(),
              () -> job.cancelled,
              checkpoints);
      Optional<VersionGate> gate = Optional.empty();
      if (tuner.canFitGate(splits)) {
        job.emit(JobPhase.EVALUATING, "fitting the review gate on the validation split");
        gate =
            tuner.fitGate(
                splits, result.adapter(), r.hyperParameters().seed(), () -> job.cancelled);
      }
      save(job, result, gate.orElse(null));
    } catch (CancellationException e) {
      job.emit(JobPhase.CANCELLED, "cancelled");
    } catch (DatasetException | IllegalArgumentException e) {
      job.fail(String.valueOf(e.getMessage()));
    } catch (IOException | RuntimeException e) {
      log.error("fine-tuning job {} failed: {}", job.id, e.getClass().getName());
      job.fail("internal error (" + e.getClass().getSimpleName() + ")");
    } finally {
      // Whatever escaped above (a linkage or memory error), watchers must see the job end.
      job.fail("internal error");
    }
  }

  private void save(Job job, FineTuner.Result result, @Nullable VersionGate gate)
      throws IOException {
    job.emit(JobPhase.SAVING, "registering adapter");
    if (job.cancelled) {
      throw new CancellationException("cancelled");
    }
    FineTuneRequest r = job.request;
    Lineage lineage =
        new Lineage(
            sha256(r.jsonl()),
            r.hyperParameters().asMap(),
            tuner.template(),
            metrics(result),
            r.createdBy(),
            job.id,
            r.startFrom() == null ? "" : r.startFrom().toString());
    AdapterVersion v =
        store.register(
            r.adapterName(),
            result.adapter(),
            lineage,
            gate,
            result.curves().withGate(gate == null ? null : gate.gate()));
    job.version = v.ref();
    job.emit(JobPhase.DONE, "registered " + v.ref());
  }

  private FineTuner.Splits splits(FineTuneRequest r) {
    ValidatedDataset data = validator.validate(r.jsonl(), r.skipInvalid());
    if (data.report().hasErrors() && !r.skipInvalid()) {
      throw new DatasetException("dataset refused: " + counts(data) + " (or set skip_invalid)");
    }
    List<Example> train = new ArrayList<>();
    List<Example> validation = new ArrayList<>();
    List<Example> test = new ArrayList<>();
    SplittableRandom random = new SplittableRandom(r.hyperParameters().seed());
    double share = r.hyperParameters().validationSplit();
    for (DatasetRecord rec : data.records()) {
      Split s = rec.split().orElseGet(() -> draw(random, share));
      (s == Split.TRAIN ? train : s == Split.VALIDATION ? validation : test).add(rec.example());
    }
    if (train.isEmpty()) {
      throw new DatasetException("dataset: no training examples (expected: at least one)");
    }
    return new FineTuner.Splits(train, validation, test);
  }

  private static Split draw(SplittableRandom random, double share) {
    double x = random.nextDouble();
    return x < share ? Split.VALIDATION : x < 2 * share ? Split.TEST : Split.TRAIN;
  }

  private static String counts(ValidatedDataset data) {
    return data.report().counts().entrySet().stream()
        .map(e -> e.getKey() + "=" + e.getValue())
        .collect(Collectors.joining(", "));
  }

  private static Map<String, Double> metrics(FineTuner.Result result) {
    Map<String, Double> m = lossMetrics(result.losses());
    put(m, result.validation());
    put(m, result.test());
    return m;
  }

  /** The first and last training loss, when training recorded any. */
  private static Map<String, Double> lossMetrics(List<Double> losses) {
    Map<String, Double> m = new LinkedHashMap<>();
    if (!losses.isEmpty()) {
      m.put("train.loss.first", losses.get(0));
      m.put("train.loss.last", losses.get(losses.size() - 1));
    }
    return m;
  }

  private static void put(Map<String, Double> m, @Nullable EvalSummary s) {
    if (s == null) {
      return;
    }
    put(m, s.split(), s.adapter());
    if (s.baseline() != null) {
      put(m, s.split() + ".baseline", s.baseline());
    }
  }

  private static void put(Map<String, Double> m, String prefix, EvalMetrics e) {
    m.put(prefix + ".examples", (double) e.count());
    m.put(prefix + ".accuracy", e.accuracy());
    m.put(prefix + ".top3_accuracy", e.top3Accuracy());
    m.put(prefix + ".macro_f1", e.macroF1());
    m.put(prefix + ".contrast_accuracy", e.contrastAccuracy());
    m.put(prefix + ".ece", e.ece());
  }

  /** The hex SHA-256 of {@code bytes}: how datasets are named in adapter lineage. */
  public static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A dataset the job cannot use; the message names counts and kinds, never note text. */
  private static final class DatasetException extends RuntimeException {
    DatasetException(String message) {
      super(message);
    }
  }

  /** One job's state, events and subscribers. */
  private final class Job {
    final String id;
    final FineTuneRequest request;
    final java.time.Instant createdAt;
    final List<FineTuneEvent> events = new ArrayList<>();
    final List<Consumer<FineTuneEvent>> subscribers = new CopyOnWriteArrayList<>();
    volatile boolean cancelled;
    String version = "";
    int step;
    int total;
    int epoch;
    double loss = Double.NaN;
    double lr;
    double tokensPerSecond;
    double eta;

    Job(String id, FineTuneRequest request, java.time.Instant createdAt) {
      this.id = id;
      this.request = request;
      this.createdAt = createdAt;
    }

    synchronized FineTuneJob info() {
      return new FineTuneJob(id, request.adapterName(), request.createdBy(), createdAt, latest());
    }

    synchronized FineTuneEvent latest() {
      return events.get(events.size() - 1);
    }

    synchronized Runnable subscribe(Consumer<FineTuneEvent> listener) {
      events.forEach(listener);
      if (!latest().phase().terminal()) {
        subscribers.add(listener);
      }
      return () -> subscribers.remove(listener);
    }

    void fail(String error) {
      emit(JobPhase.FAILED, error, error, null);
    }

    /** Ends a job that has not started yet; one that has sees {@link #cancelled} and stops. */
    synchronized void cancelIfQueued() {
      if (latest().phase() == JobPhase.QUEUED) {
        emit(JobPhase.CANCELLED, "cancelled before start");
      }
    }

    void emit(JobPhase phase, String message) {
      emit(phase, message, "", null);
    }

    synchronized void emit(
        JobPhase phase, String message, String error, @Nullable EvalSummary metrics) {
      if (!events.isEmpty() && latest().phase().terminal()) {
        return;
      }
      FineTuneEvent e =
          new FineTuneEvent(
              id,
              events.isEmpty() ? 0 : latest().sequence() + 1,
              phase,
              step,
              total,
              epoch,
              loss,
              lr,
              tokensPerSecond,
              eta,
              metrics,
              version,
              error,
              clock.instant(),
              message);
      if (events.size() >= MAX_EVENTS_KEPT) {
        events.remove(1);
      }
      events.add(e);
      for (Consumer<FineTuneEvent> s : subscribers) {
        s.accept(e);
      }
      if (phase.terminal()) {
        subscribers.clear();
      }
    }

    FineTuner.Listener listener() {
      return new FineTuner.Listener() {
        @Override
        public void phase(JobPhase phase, String message) {
          emit(phase, message);
        }

        @Override
        public void step(FineTuner.StepProgress p) {
          synchronized (Job.this) {
            step = p.step();
            total = p.totalSteps();
            epoch = p.epoch();
            loss = p.loss();
            lr = p.learningRate();
            tokensPerSecond = p.tokensPerSecond();
            eta = p.etaSeconds();
            emit(JobPhase.TRAINING, "step");
          }
        }

        @Override
        public void evaluated(int ep, EvalSummary summary) {
          emit(JobPhase.EVALUATING, summary.split() + " metrics", "", summary);
        }
      };
    }
  }
}
