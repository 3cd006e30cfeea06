package dev.protorad.server.serving;

import static java.util.Objects.requireNonNull;

import io.grpc.Context;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
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
 */
public final class PredictionQueue implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(PredictionQueue.class);

  /** Settings; {@code maxBatch} 1 disables batching. */
  public record Settings(int workers, int capacity, int maxBatch, Duration maxWait) {

    public static final Settings DEFAULTS = new Settings(2, 64, 8, Duration.ofMillis(5));

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
    }
  }

  private record Pending(
      ProtocolPredictor.Item item,
      Context context,
      io.opentelemetry.context.Context trace,
      CompletableFuture<ProtocolAnswer> result) {}

  private final ProtocolPredictor predictor;
  private final Settings settings;
  private final BlockingQueue<Pending> queue;
  private final List<Thread> threads = new ArrayList<>();
  private final AtomicBoolean closed = new AtomicBoolean();

  private PredictionQueue(ProtocolPredictor predictor, Settings settings) {
    this.predictor = predictor;
    this.settings = settings;
    this.queue = new ArrayBlockingQueue<>(settings.capacity());
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
   * Queues one prediction, in the caller's gRPC context (its cancellation and deadline).
   *
   * @throws QueueFullException when no slot is free
   */
  public CompletableFuture<ProtocolAnswer> submit(String note, ResolvedAdapter adapter, int topK) {
    ProtocolPredictor.Item item = new ProtocolPredictor.Item(note, adapter, topK);
    Pending pending =
        new Pending(
            item,
            Context.current(),
            io.opentelemetry.context.Context.current(),
            new CompletableFuture<>());
    if (closed.get() || !queue.offer(pending)) {
      throw new QueueFullException();
    }
    return pending.result();
  }

  /** Requests waiting for an inference thread. */
  public int depth() {
    return queue.size();
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
      if (p.context().isCancelled()) {
        p.result().completeExceptionally(new CancellationException("caller went away"));
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
      List<ProtocolAnswer> out =
          predictor.predictBatch(live.stream().map(Pending::item).toList(), callers);
      for (int i = 0; i < live.size(); i++) {
        live.get(i).result().complete(out.get(i));
      }
    } catch (RuntimeException e) {
      if (live.size() == 1) {
        live.get(0).result().completeExceptionally(e);
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
      p.result().complete(predictor.predict(i.note(), i.adapter(), i.topK()));
    } catch (RuntimeException e) {
      p.result().completeExceptionally(e);
    }
  }

  @Override
  public void close() {
    closed.set(true);
    threads.forEach(Thread::interrupt);
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
