package dev.protorad.server.telemetry;

import static java.util.Objects.requireNonNull;

import com.github.benmanes.caffeine.cache.stats.CacheStats;
import dev.protorad.server.jobs.FineTuneJob;
import dev.protorad.server.jobs.FineTuneJobs;
import dev.protorad.server.serving.PredictionQueue;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.metrics.Meter;
import java.util.Comparator;
import java.util.Optional;
import java.util.function.DoubleSupplier;
import java.util.function.IntSupplier;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import java.util.function.ToLongFunction;

/**
 * Observable instruments over the serving components: queue depth, adapter cache statistics and
 * training loss. Each is read when a metric reader collects, so nothing is paid between scrapes.
 * Attributes name adapters at most, never requests.
 */
public final class ServingMetrics {

  static final AttributeKey<String> ADAPTER = AttributeKey.stringKey("adapter");

  private ServingMetrics() {}

  /** {@code protorad.queue.depth}: requests waiting for an inference thread. */
  public static void observeQueue(OpenTelemetry openTelemetry, PredictionQueue queue) {
    requireNonNull(queue, "queue");
    meter(openTelemetry)
        .gaugeBuilder("protorad.queue.depth")
        .setDescription("Requests waiting for an inference thread")
        .setUnit("{request}")
        .ofLongs()
        .buildWithCallback(m -> m.record(queue.depth()));
    Meter meter = meter(openTelemetry);
    meter
        .counterBuilder("protorad.queue.batches")
        .setDescription("Batches the model ran")
        .setUnit("{batch}")
        .buildWithCallback(m -> m.record(queue.timings().batches()));
    meter
        .counterBuilder("protorad.queue.predictions")
        .setDescription("Predictions answered from those batches")
        .setUnit("{prediction}")
        .buildWithCallback(m -> m.record(queue.timings().predictions()));
    meter
        .counterBuilder("protorad.queue.needs_review")
        .setDescription("Predictions sent to review (over protorad.queue.predictions: review rate)")
        .setUnit("{prediction}")
        .buildWithCallback(m -> m.record(queue.needsReviewCount()));
    timeCounter(
        meter,
        "wait_time",
        "Time predictions waited for their batch, summed",
        () -> queue.timings().queueWaitTotalMillis());
    timeCounter(
        meter,
        "model_time",
        "Time the model ran batches, summed",
        () -> queue.timings().modelTotalMillis());
    timeCounter(
        meter,
        "answer_time",
        "Time answers took once the model was done (audit, insert, response), summed",
        () -> queue.timings().answerTotalMillis());
  }

  private static void timeCounter(
      Meter meter, String name, String description, DoubleSupplier millis) {
    meter
        .counterBuilder("protorad.queue." + name)
        .ofDoubles()
        .setDescription(description)
        .setUnit("s")
        .buildWithCallback(m -> m.record(millis.getAsDouble() / 1000));
  }

  /**
   * {@code protorad.adapter_cache.hits}, {@code .misses} and {@code .evictions}: counters over the
   * adapter cache's statistics (the cache must record them); {@code protorad.adapter_cache.size}:
   * the adapters held on the device now.
   */
  public static void observeAdapterCache(
      OpenTelemetry openTelemetry, Supplier<CacheStats> stats, LongSupplier loaded) {
    requireNonNull(stats, "stats");
    requireNonNull(loaded, "loaded");
    Meter meter = meter(openTelemetry);
    meter
        .gaugeBuilder("protorad.adapter_cache.size")
        .setDescription("Adapters held on the device")
        .setUnit("{adapter}")
        .ofLongs()
        .buildWithCallback(m -> m.record(loaded.getAsLong()));
    cacheCounter(meter, "hits", "Adapter lookups served from memory", stats, CacheStats::hitCount);
    cacheCounter(meter, "misses", "Adapter lookups that loaded", stats, CacheStats::missCount);
    cacheCounter(
        meter, "evictions", "Adapters evicted for space", stats, CacheStats::evictionCount);
  }

  /**
   * {@code protorad.model.native_arrays}: native arrays alive under the model (weights, adapters
   * and requests in flight). Flat between requests once the adapters are loaded; a rise that does
   * not fall back is native memory leaking.
   */
  public static void observeModel(OpenTelemetry openTelemetry, IntSupplier liveArrays) {
    requireNonNull(liveArrays, "liveArrays");
    meter(openTelemetry)
        .gaugeBuilder("protorad.model.native_arrays")
        .setDescription("Native arrays alive under the model")
        .setUnit("{array}")
        .ofLongs()
        .buildWithCallback(m -> m.record(liveArrays.getAsInt()));
  }

  /** {@code protorad.training.loss}: the latest loss of the most recent job that reported one. */
  public static void observeTraining(OpenTelemetry openTelemetry, FineTuneJobs jobs) {
    requireNonNull(jobs, "jobs");
    meter(openTelemetry)
        .gaugeBuilder("protorad.training.loss")
        .setDescription("Latest training loss (mean over label tokens)")
        .buildWithCallback(
            m ->
                latestLoss(jobs)
                    .ifPresent(
                        job ->
                            m.record(
                                job.latest().loss(), Attributes.of(ADAPTER, job.adapterName()))));
  }

  private static Optional<FineTuneJob> latestLoss(FineTuneJobs jobs) {
    return jobs.list().stream()
        .filter(j -> Double.isFinite(j.latest().loss()))
        .max(Comparator.comparing(FineTuneJob::createdAt));
  }

  private static void cacheCounter(
      Meter meter,
      String name,
      String description,
      Supplier<CacheStats> stats,
      ToLongFunction<CacheStats> count) {
    meter
        .counterBuilder("protorad.adapter_cache." + name)
        .setDescription(description)
        .buildWithCallback(m -> m.record(count.applyAsLong(stats.get())));
  }

  private static Meter meter(OpenTelemetry openTelemetry) {
    return requireNonNull(openTelemetry, "openTelemetry").getMeter(Telemetry.SCOPE);
  }
}
