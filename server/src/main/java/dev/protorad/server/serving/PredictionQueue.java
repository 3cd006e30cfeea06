package dev.protorad.server.serving;

import static java.util.Objects.requireNonNull;

import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The scheduler between the RPC threads and the model: a bounded queue of predictions in front of a
 * few inference threads, each of which takes up to {@code maxBatch} waiting requests (waiting at
 * most {@code maxWait} for the batch to fill) and runs them as one mixed-adapter batch.
 *
 * <p>A full queue refuses at once ({@link QueueFullException}, RESOURCE_EXHAUSTED) instead of
 * buffering without bound. A request whose caller has gone (cancelled, or past its deadline) is
 * dropped when a thread picks it up, freeing its slot without running the model. A batch that fails
 * is retried one request at a time, so one bad request fails alone.
 *
 * <p>The inference threads only run the model. Each answer is handed to one of {@code
 * answerThreads} answer threads, which run what the caller chained on it (the durable audit append,
 * the prediction insert, the response): an inference thread goes on to the next batch at once, and
 * the answers of one batch reach the audit store together, so its group commit can make them
 * durable in one write.
 */
public final class PredictionQueue implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(PredictionQueue.class);

  /**
   * Settings; {@code maxBatch} 1 disables batching.
   *
   * @param workers inference threads
   * @param capacity requests that may wait
   * @param maxBatch requests one pass answers at most
   * @param maxWait how long a pass waits for its batch to fill
   * @param answerThreads threads that run the answers' continuations
   */
  public record Settings(
      int workers, int capacity, int maxBatch, Duration maxWait, int answerThreads) {

    /** Answer threads when none are named: enough to keep a group commit fed. */
    public static final int DEFAULT_ANSWER_THREADS = 16;

    public static final Settings DEFAULTS = new Settings(2, 64, 8, Duration.ofMillis(5));

    /** Settings with {@link #DEFAULT_ANSWER_THREADS} answer threads. */
    public Settings(int workers, int capacity, int maxBatch, Duration maxWait) {
      this(workers, capacity, maxBatch, maxWait, DEFAULT_ANSWER_THREADS);
    }

    public Settings {
      requireNonNull(maxWait, "maxWait");
      if (workers < 1) {
        throw new IllegalArgumentException("workers: " + workers + " (expected: >= 1)");
      }
      if (capacity < 1) {
        throw new IllegalArgumentException("capacity: " + capacity + " (expected: >= 1)");
      }
      if (maxBatch < 1) {
        throw new IllegalArgumentException("maxBatch: " + maxBatch + " (expected: >= 1)");
      }
      if (maxWait.isNegative()) {
        throw new IllegalArgumentException("maxWait: " + maxWait + " (expected: >= 0)");
      }
      if (answerThreads < 1) {
        throw new IllegalArgumentException("answerThreads: " + answerThreads + " (expected: >= 1)");
      }
    }
  }

  private record Pending(
      ProtocolPredictor.Item item,
      BooleanSupplier cancelled,
      io.opentelemetry.context.Context trace,
      CompletableFuture<ProtocolAnswer> result,
      long queuedAt) {}

  /**
   * Where the time of the predictions answered so far went, as totals.
   *
   * @param batches batches the model ran
   * @param predictions predictions answered from them
   * @param answered answers completed on an answer thread
   * @param queueWaitTotalMillis summed over predictions: from submission to the start of the batch
   * @param modelTotalMillis summed over batches: the model's time (inference thread)
   * @param answerTotalMillis summed over answers: completing one on an answer thread, what the
   *     caller chained on it included (in the server: the durable audit append, the prediction
   *     insert and the response)
   */
  public record Timings(
      long batches,
      long predictions,
      long answered,
      double queueWaitTotalMillis,
      double modelTotalMillis,
      double answerTotalMillis) {

    /** Predictions per batch. */
    public double meanBatch() {
      return batches == 0 ? 0 : (double) predictions / batches;
    }

    /** Mean wait of a prediction for its batch. */
    public double queueWaitMillis() {
      return predictions == 0 ? 0 : queueWaitTotalMillis / predictions;
    }

    /** Mean model time of a batch. */
    public double modelMillisPerBatch() {
      return batches == 0 ? 0 : modelTotalMillis / batches;
    }

    /** Mean time of one answer once the model was done. */
    public double answerMillis() {
      return answered == 0 ? 0 : answerTotalMillis / answered;
    }

    /** What happened between {@code earlier} and this. */
    public Timings since(Timings earlier) {
      return new Timings(
          batches - earlier.batches,
          predictions - earlier.predictions,
          answered - earlier.answered,
          queueWaitTotalMillis - earlier.queueWaitTotalMillis,
          modelTotalMillis - earlier.modelTotalMillis,
          answerTotalMillis - earlier.answerTotalMillis);
    }
  }

  private final LongAdder batches = new LongAdder();
  private final LongAdder predictions = new LongAdder();
  private final LongAdder queueWaitNanos = new LongAdder();
  private final LongAdder modelNanos = new LongAdder();
  private final LongAdder answered = new LongAdder();
  private final LongAdder answerNanos = new LongAdder();
  private final LongAdder needsReview = new LongAdder();

  private final ProtocolPredictor predictor;
  private final Settings settings;
  private final BlockingQueue<Pending> queue;
  private final List<Thread> threads = new ArrayList<>();
  private final AtomicBoolean closed = new AtomicBoolean();
  private final ExecutorService answers;

  private PredictionQueue(ProtocolPredictor predictor, Settings settings) {
    this.predictor = predictor;
    this.settings = settings;
    this.queue = new ArrayBlockingQueue<>(settings.capacity());
    AtomicInteger answerThread = new AtomicInteger();
    this.answers =
        Executors.newFixedThreadPool(
            settings.answerThreads(),
            r -> {
              Thread t = new Thread(r, "protorad-answer-" + answerThread.incrementAndGet());
              t.setDaemon(true);
              return t;
            });
    for (int i = 0; i < settings.workers(); i++) {
      Thread t = new Thread(this::work, "protorad-inference-" + (i + 1));
      t.setDaemon(true);
      threads.add(t);
      t.start();
    }
  }

  /** Starts the inference threads. */
  public static PredictionQueue create(ProtocolPredictor predictor, Settings settings) {
    return new PredictionQueue(
        requireNonNull(predictor, "predictor"), requireNonNull(settings, "settings"));
  }

  /**
   * Queues one prediction for a caller that stays until it is answered.
   *
   * @throws QueueFullException when no slot is free
   */
  public CompletableFuture<ProtocolAnswer> submit(String note, ResolvedAdapter adapter, int topK) {
    return submit(note, adapter, topK, () -> false);
  }

  /**
   * Queues one prediction; {@code cancelled} says whether its caller has gone (cancelled, or past
   * its deadline), in which case it is dropped without running the model. The future completes on
   * an answer thread.
   *
   * @throws QueueFullException when no slot is free
   */
  public CompletableFuture<ProtocolAnswer> submit(
      String note, ResolvedAdapter adapter, int topK, BooleanSupplier cancelled) {
    ProtocolPredictor.Item item = new ProtocolPredictor.Item(note, adapter, topK);
    Pending pending =
        new Pending(
            item,
            requireNonNull(cancelled, "cancelled"),
            io.opentelemetry.context.Context.current(),
            new CompletableFuture<>(),
            System.nanoTime());
    if (closed.get() || !queue.offer(pending)) {
      throw new QueueFullException();
    }
    return pending.result();
  }

  /** Requests waiting for an inference thread. */
  public int depth() {
    return queue.size();
  }

  /** Predictions made so far that were sent to review (the review rate's numerator). */
  public long needsReviewCount() {
    return needsReview.sum();
  }

  /** Where the time of the predictions answered since start went. */
  public Timings timings() {
    return new Timings(
        batches.sum(),
        predictions.sum(),
        answered.sum(),
        queueWaitNanos.sum() / 1e6,
        modelNanos.sum() / 1e6,
        answerNanos.sum() / 1e6);
  }

  private void work() {
    while (!closed.get()) {
      try {
        run(nextBatch());
      } catch (InterruptedException e) {
        return;
      }
    }
  }

  private List<Pending> nextBatch() throws InterruptedException {
    List<Pending> batch = new ArrayList<>(settings.maxBatch());
    batch.add(queue.take());
    long deadline = System.nanoTime() + settings.maxWait().toNanos();
    while (batch.size() < settings.maxBatch()) {
      Pending next = queue.poll(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      if (next == null) {
        break;
      }
      batch.add(next);
    }
    return batch;
  }

  private void run(List<Pending> batch) {
    List<Pending> live = new ArrayList<>(batch.size());
    for (Pending p : batch) {
      if (p.cancelled().getAsBoolean()) {
        fail(p, new CancellationException("caller went away"));
      } else {
        live.add(p);
      }
    }
    if (live.isEmpty()) {
      return;
    }
    // The batch's spans join the first request's trace (a span has one parent) and link to every
    // request's span, so each caller's trace leads to the pass that answered it.
    List<SpanContext> callers =
        live.stream().map(p -> Span.fromContext(p.trace()).getSpanContext()).toList();
    try (var ignored = live.get(0).trace().makeCurrent()) {
      long start = System.nanoTime();
      List<ProtocolAnswer> out =
          predictor.predictBatch(live.stream().map(Pending::item).toList(), callers);
      modelNanos.add(System.nanoTime() - start);
      batches.increment();
      predictions.add(live.size());
      for (Pending p : live) {
        queueWaitNanos.add(start - p.queuedAt());
      }
      for (int i = 0; i < live.size(); i++) {
        if (out.get(i).needsReview()) {
          needsReview.increment();
        }
        answer(live.get(i), out.get(i));
      }
    } catch (RuntimeException e) {
      if (live.size() == 1) {
        fail(live.get(0), e);
        return;
      }
      log.warn(
          "batch of {} failed ({}); retrying one by one",
          live.size(),
          e.getClass().getSimpleName());
      live.forEach(p -> runAlone(p));
    }
  }

  private void runAlone(Pending p) {
    try (var ignored = p.trace().makeCurrent()) {
      ProtocolPredictor.Item i = p.item();
      answer(p, predictor.predict(i.note(), i.adapter(), i.topK()));
    } catch (RuntimeException e) {
      fail(p, e);
    }
  }

  /**
   * Completes {@code p} on an answer thread (inline once the queue is closed), in the caller's
   * trace: what the caller chained on it (the audit append) is a span of that caller's call.
   */
  private void answer(Pending p, ProtocolAnswer value) {
    handOff(p.trace().wrap(() -> complete(p, value)));
  }

  /** Completes {@code p} with {@code value}, timing the completion. */
  private void complete(Pending p, ProtocolAnswer value) {
    long start = System.nanoTime();
    p.result().complete(value);
    answerNanos.add(System.nanoTime() - start);
    answered.increment();
  }

  private void fail(Pending p, Throwable failure) {
    Runnable completeExceptionally = () -> p.result().completeExceptionally(failure);
    handOff(p.trace().wrap(completeExceptionally));
  }

  private void handOff(Runnable completion) {
    try {
      answers.execute(completion);
    } catch (RejectedExecutionException stopping) {
      completion.run();
    }
  }

  @Override
  public void close() {
    closed.set(true);
    threads.forEach(Thread::interrupt);
    cancelQueued();
    answers.shutdown(); // answers already handed off still run
  }

  private void cancelQueued() {
    Pending p;
    while ((p = queue.poll()) != null) {
      p.result().completeExceptionally(new CancellationException("server stopping"));
    }
  }

  /** Every slot is taken. */
  public static final class QueueFullException extends RuntimeException {
    QueueFullException() {
      super("prediction queue full");
    }
  }
}
