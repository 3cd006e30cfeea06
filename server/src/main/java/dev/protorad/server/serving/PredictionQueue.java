package dev.protorad.server.serving;

import static java.util.Objects.requireNonNull;

import io.grpc.Context;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * A bounded queue of model work in front of a fixed pool of inference threads, off the transport
 * threads. A full queue refuses new work at once ({@link QueueFullException}, RESOURCE_EXHAUSTED)
 * instead of buffering without bound; work whose caller has gone (cancelled or past its deadline)
 * is skipped when its turn comes, so it frees its slot without running the model.
 */
public final class PredictionQueue implements AutoCloseable {

  /** Inference threads unless configured. */
  public static final int DEFAULT_WORKERS = 2;

  /** Waiting requests unless configured. */
  public static final int DEFAULT_CAPACITY = 64;

  private final ThreadPoolExecutor executor;

  private PredictionQueue(int workers, int capacity) {
    AtomicInteger n = new AtomicInteger();
    this.executor =
        new ThreadPoolExecutor(
            workers,
            workers,
            0,
            TimeUnit.MILLISECONDS,
            new ArrayBlockingQueue<>(capacity),
            r -> {
              Thread t = new Thread(r, "protorad-inference-" + n.incrementAndGet());
              t.setDaemon(true);
              return t;
            },
            new ThreadPoolExecutor.AbortPolicy());
  }

  /** A queue with {@code workers} threads and room for {@code capacity} waiting requests. */
  public static PredictionQueue create(int workers, int capacity) {
    if (workers < 1) {
      throw new IllegalArgumentException("workers: " + workers + " (expected: >= 1)");
    }
    if (capacity < 1) {
      throw new IllegalArgumentException("capacity: " + capacity + " (expected: >= 1)");
    }
    return new PredictionQueue(workers, capacity);
  }

  /**
   * Runs {@code work} on an inference thread in the caller's gRPC context.
   *
   * @throws QueueFullException when no slot is free
   */
  public <T> CompletableFuture<T> submit(Supplier<T> work) {
    requireNonNull(work, "work");
    Context context = Context.current();
    CompletableFuture<T> result = new CompletableFuture<>();
    // The trace context too, so the work and what completes the future stay in the caller's trace.
    io.opentelemetry.context.Context trace = io.opentelemetry.context.Context.current();
    try {
      executor.execute(trace.wrap(() -> run(context, work, result)));
    } catch (RejectedExecutionException e) {
      throw new QueueFullException();
    }
    return result;
  }

  /** Requests waiting for a thread. */
  public int depth() {
    return executor.getQueue().size();
  }

  private static <T> void run(Context context, Supplier<T> work, CompletableFuture<T> result) {
    if (context.isCancelled() || result.isDone()) {
      result.completeExceptionally(new CancellationException("caller went away"));
      return;
    }
    try {
      result.complete(context.call(work::get));
    } catch (Exception e) {
      result.completeExceptionally(e);
    }
  }

  @Override
  public void close() {
    executor.shutdownNow();
  }

  /** Every slot is taken. */
  public static final class QueueFullException extends RuntimeException {
    QueueFullException() {
      super("prediction queue full");
    }
  }
}
