package dev.protorad.policy;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Holds the policy in force and reloads it: on demand ({@link #reload()}, which the server calls on
 * SIGHUP) and, once {@link #start() started}, whenever the file's content changes.
 *
 * <p>The policy is an immutable snapshot swapped atomically, so calls in flight finish with the
 * snapshot they read. A new file that fails validation is refused: the old policy stays, listeners
 * hear {@link PolicyListener#onRejected} with every error, and one warning is logged (errors carry
 * lines and messages, never credential material).
 *
 * <p>Changes are detected by polling the file's content hash rather than with a {@code
 * WatchService}: Kubernetes updates mounted ConfigMaps by swapping symlinks, which directory
 * watches miss, and an unchanged hash never triggers a reload.
 */
public final class PolicyHolder implements AutoCloseable {
  /** Default interval between checks of the policy file. */
  public static final Duration DEFAULT_POLL_INTERVAL = Duration.ofSeconds(5);

  private static final Logger log = LoggerFactory.getLogger(PolicyHolder.class);

  private final @Nullable Path file;
  private final Duration pollInterval;
  private final AtomicReference<Policy> current;
  private final List<PolicyListener> listeners = new CopyOnWriteArrayList<>();
  private final Object reloadLock = new Object();
  private @Nullable String lastSeenDigest;
  private @Nullable ScheduledExecutorService poller;

  /** What a reload did. */
  public enum Outcome {
    /** A new policy is in force. */
    APPLIED,
    /** The file's content is the one already seen; nothing changed. */
    UNCHANGED,
    /** The file could not be read or failed validation; the old policy stays. */
    REJECTED
  }

  /**
   * The result of a reload.
   *
   * @param outcome what happened
   * @param policy the policy in force afterwards
   * @param errors why the file was refused; empty unless {@code REJECTED}
   */
  public record ReloadResult(Outcome outcome, Policy policy, List<PolicyError> errors) {
    /** Validates and copies. */
    public ReloadResult {
      requireNonNull(outcome, "outcome");
      requireNonNull(policy, "policy");
      errors = List.copyOf(errors);
    }
  }

  private PolicyHolder(@Nullable Path file, Duration pollInterval, Policy initial) {
    this.file = file;
    this.pollInterval = pollInterval;
    this.current = new AtomicReference<>(initial);
    this.lastSeenDigest = initial.digest();
  }

  /**
   * Loads {@code file} now and holds it. Failing fast here is deliberate: a server must not start
   * without a valid policy.
   *
   * @throws PolicyException if the file cannot be read or is invalid
   */
  public static PolicyHolder load(Path file) throws PolicyException {
    return load(file, DEFAULT_POLL_INTERVAL);
  }

  /** As {@link #load(Path)}, checking the file every {@code pollInterval} once started. */
  public static PolicyHolder load(Path file, Duration pollInterval) throws PolicyException {
    requireNonNull(file, "file");
    return new PolicyHolder(file, checkPollInterval(pollInterval), PolicyLoader.load(file));
  }

  private static Duration checkPollInterval(Duration pollInterval) {
    requireNonNull(pollInterval, "pollInterval");
    if (pollInterval.isNegative() || pollInterval.isZero()) {
      throw new IllegalArgumentException("pollInterval: " + pollInterval + " (expected: > 0)");
    }
    return pollInterval;
  }

  /** Holds a fixed policy, for example {@link PolicyLoader#defaults()}; reloads do nothing. */
  public static PolicyHolder of(Policy policy) {
    return new PolicyHolder(null, DEFAULT_POLL_INTERVAL, requireNonNull(policy, "policy"));
  }

  /** The policy in force now. */
  public Policy current() {
    return requireNonNull(current.get(), "policy");
  }

  /** Adds a listener for later reloads. */
  public void addListener(PolicyListener listener) {
    listeners.add(requireNonNull(listener, "listener"));
  }

  /** Starts checking the file for changes in a daemon thread; idempotent. */
  public synchronized void start() {
    if (file == null || poller != null) {
      return;
    }
    poller =
        Executors.newSingleThreadScheduledExecutor(
            runnable -> {
              Thread thread = new Thread(runnable, "policy-watcher");
              thread.setDaemon(true);
              return thread;
            });
    long millis = pollInterval.toMillis();
    var unused =
        poller.scheduleWithFixedDelay(this::pollQuietly, millis, millis, TimeUnit.MILLISECONDS);
  }

  /** Stops checking the file. */
  @Override
  public synchronized void close() {
    if (poller != null) {
      poller.shutdownNow();
      poller = null;
    }
  }

  /** Re-reads the file now, as on SIGHUP; the old policy stays if the new one is invalid. */
  public ReloadResult reload() {
    return reload(true);
  }

  /** One poll: reloads only if the file's content differs from the last content seen. */
  ReloadResult checkForChange() {
    return reload(false);
  }

  private void pollQuietly() {
    try {
      checkForChange();
    } catch (RuntimeException e) {
      log.warn("policy check failed: {}", e.getClass().getSimpleName());
    }
  }

  private ReloadResult reload(boolean force) {
    synchronized (reloadLock) {
      Policy old = current();
      if (file == null) {
        return new ReloadResult(Outcome.UNCHANGED, old, List.of());
      }
      String name = String.valueOf(file.getFileName());
      byte[] bytes = null;
      String digest;
      try {
        bytes = Files.readAllBytes(file);
        digest = PolicyLoader.sha256Hex(bytes);
      } catch (IOException e) {
        digest = "unreadable:" + e.getClass().getSimpleName();
      }
      boolean seen = digest.equals(lastSeenDigest);
      lastSeenDigest = digest;
      // A poll reports a refused file once, not on every tick; an explicit reload always reports.
      if (digest.equals(old.digest()) || (seen && !force)) {
        return new ReloadResult(Outcome.UNCHANGED, old, List.of());
      }
      if (bytes == null) {
        return reject(old, List.of(new PolicyError(name, 0, "cannot read the file")));
      }
      try {
        return apply(old, PolicyLoader.parse(bytes, name));
      } catch (PolicyException e) {
        return reject(old, e.errors());
      }
    }
  }

  private ReloadResult apply(Policy old, Policy fresh) {
    current.set(fresh);
    log.info("policy applied: {} (was sha256 {})", fresh, old.digest().substring(0, 12));
    notifyListeners(listener -> listener.onApplied(fresh));
    return new ReloadResult(Outcome.APPLIED, fresh, List.of());
  }

  private ReloadResult reject(Policy old, List<PolicyError> errors) {
    log.warn("policy file refused, keeping {}: {}", old, joined(errors));
    notifyListeners(listener -> listener.onRejected(old, errors));
    return new ReloadResult(Outcome.REJECTED, old, errors);
  }

  private static String joined(List<PolicyError> errors) {
    return String.join("; ", errors.stream().map(PolicyError::toString).toList());
  }

  private void notifyListeners(Consumer<PolicyListener> event) {
    for (PolicyListener listener : listeners) {
      notify(() -> event.accept(listener));
    }
  }

  private static void notify(Runnable call) {
    try {
      call.run();
    } catch (RuntimeException e) {
      log.warn("policy listener failed: {}", e.getClass().getSimpleName());
    }
  }
}
