package dev.protorad.audit;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.jspecify.annotations.Nullable;

/**
 * Group commit: callers queue drafts and wait; one writer thread takes everything queued (up to
 * {@code maxBatch}), makes it durable with one flush and wakes the callers. With {@code maxBatch =
 * 1} every event gets its own flush (the benchmark baseline).
 */
final class GroupCommitter implements AutoCloseable {

  /** Writes a batch durably, on the writer thread. */
  interface Sink {
    List<AuditEvent> write(List<EventDraft> drafts) throws Exception;

    /** Called on the writer thread when closing, after the last batch. */
    void closing() throws Exception;
  }

  private static final int QUEUE_CAPACITY = 65_536;

  private sealed interface Task permits Append, Call, Stop {}

  private record Append(EventDraft draft, CompletableFuture<AuditEvent> result) implements Task {}

  private record Call(Callable<?> work, CompletableFuture<Object> result) implements Task {}

  private record Stop(CompletableFuture<Void> done) implements Task {}

  private final String name;
  private final Sink sink;
  private final int maxBatch;
  private final Duration timeout;
  private final BlockingQueue<Task> queue = new LinkedBlockingQueue<>(QUEUE_CAPACITY);
  private final Thread thread;
  private boolean closed;

  GroupCommitter(String name, Sink sink, int maxBatch, Duration timeout) {
    this.name = name;
    this.sink = sink;
    this.maxBatch = maxBatch;
    this.timeout = timeout;
    this.thread = new Thread(this::run, name);
    thread.setDaemon(true);
    thread.start();
  }

  /** Appends and waits until durable. */
  AuditEvent submit(EventDraft draft) {
    Append task = new Append(draft, new CompletableFuture<>());
    enqueue(task);
    return await(task.result());
  }

  /**
   * Appends without blocking; the future completes once durable, or with {@link
   * AuditUnavailableException} (also after the timeout).
   */
  CompletableFuture<AuditEvent> submitAsync(EventDraft draft) {
    Append task = new Append(draft, new CompletableFuture<>());
    try {
      enqueue(task);
    } catch (AuditUnavailableException e) {
      return CompletableFuture.failedFuture(e);
    }
    CompletableFuture<AuditEvent> result = new CompletableFuture<>();
    var unused =
        task.result()
            .orTimeout(timeout.toMillis(), TimeUnit.MILLISECONDS)
            .whenComplete(
                (event, failure) -> {
                  if (failure == null) {
                    result.complete(event);
                  } else {
                    result.completeExceptionally(asyncFailure(failure));
                  }
                });
    return result;
  }

  private AuditUnavailableException asyncFailure(Throwable failure) {
    Throwable cause = failure instanceof CompletionException ? failure.getCause() : failure;
    return cause instanceof TimeoutException
        ? new AuditUnavailableException(name + ": not durable within " + timeout, cause)
        : unavailable(cause);
  }

  /** Runs {@code work} on the writer thread between batches, and waits for it. */
  <T> T call(Callable<T> work) {
    return await(callAsync(work));
  }

  /**
   * Queues {@code work} for the writer thread, to run between batches (purge). The future completes
   * once it ran, or once it was dropped because the committer closed; unlike {@link #submitAsync}
   * it has no timeout, so it tells when the work is really over.
   */
  @SuppressWarnings("unchecked")
  <T> CompletableFuture<T> callAsync(Callable<T> work) {
    Call task = new Call(work, new CompletableFuture<>());
    enqueue(task);
    return (CompletableFuture<T>) task.result();
  }

  /** Tasks waiting for the writer thread (tests). */
  int queued() {
    return queue.size();
  }

  @Override
  public void close() {
    Stop stop = new Stop(new CompletableFuture<>());
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
      putUninterruptibly(stop);
    }
    stop.done().join();
  }

  private synchronized void enqueue(Task task) {
    if (closed) {
      throw new AuditUnavailableException(name + " is closed");
    }
    if (!queue.offer(task)) {
      throw new AuditUnavailableException(name + ": too many appends waiting");
    }
  }

  /** Waits for a future of this committer, at most the append timeout. */
  <T> T await(CompletableFuture<T> result) {
    try {
      return result.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AuditUnavailableException(name + ": interrupted while waiting for durability", e);
    } catch (TimeoutException e) {
      throw new AuditUnavailableException(name + ": not durable within " + timeout, e);
    } catch (ExecutionException e) {
      throw unavailable(e.getCause());
    }
  }

  private AuditUnavailableException unavailable(@Nullable Throwable cause) {
    if (cause instanceof AuditUnavailableException u) {
      return new AuditUnavailableException(String.valueOf(u.getMessage()), u);
    }
    return new AuditUnavailableException(name + " failed: " + describe(cause), cause);
  }

  private static String describe(@Nullable Throwable cause) {
    return cause == null ? "unknown cause" : cause.getClass().getSimpleName();
  }

  private void run() {
    List<Task> tasks = new ArrayList<>();
    while (true) {
      tasks.clear();
      tasks.add(takeUninterruptibly());
      queue.drainTo(tasks, maxBatch - 1);
      if (process(tasks)) {
        return;
      }
    }
  }

  /** Runs one batch; returns true once a stop was seen. */
  private boolean process(List<Task> tasks) {
    List<Append> appends = new ArrayList<>();
    for (Task t : tasks) {
      if (t instanceof Append a) {
        appends.add(a);
      } else {
        flush(appends);
        appends.clear();
        if (t instanceof Call c) {
          runCall(c);
        } else if (t instanceof Stop s) {
          stop(s);
          return true;
        }
      }
    }
    flush(appends);
    return false;
  }

  private void flush(List<Append> appends) {
    if (appends.isEmpty()) {
      return;
    }
    try {
      List<AuditEvent> events = sink.write(appends.stream().map(Append::draft).toList());
      for (int i = 0; i < appends.size(); i++) {
        appends.get(i).result().complete(events.get(i));
      }
    } catch (Exception | Error e) {
      appends.forEach(a -> a.result().completeExceptionally(e));
    }
  }

  private static void runCall(Call c) {
    try {
      c.result().complete(c.work().call());
    } catch (Exception | Error e) {
      c.result().completeExceptionally(e);
    }
  }

  private void stop(Stop s) {
    try {
      sink.closing();
    } catch (Exception e) {
      // The final checkpoint is an optimisation: the next open seals the tail.
    } finally {
      failRemaining();
      s.done().complete(null);
    }
  }

  private void failRemaining() {
    List<Task> rest = new ArrayList<>();
    queue.drainTo(rest);
    AuditUnavailableException closedException = new AuditUnavailableException(name + " is closed");
    rest.forEach(t -> fail(t, closedException));
  }

  private static void fail(Task t, AuditUnavailableException failure) {
    if (t instanceof Append a) {
      a.result().completeExceptionally(failure);
    } else if (t instanceof Call c) {
      c.result().completeExceptionally(failure);
    }
  }

  private Task takeUninterruptibly() {
    while (true) {
      try {
        return queue.take();
      } catch (InterruptedException e) {
        // The writer thread stops only through a Stop task, so that no caller is left waiting.
      }
    }
  }

  private void putUninterruptibly(Task task) {
    boolean interrupted = false;
    while (true) {
      try {
        queue.put(task);
        break;
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }
}
