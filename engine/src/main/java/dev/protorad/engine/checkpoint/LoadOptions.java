package dev.protorad.engine.checkpoint;

/**
 * How {@link BaseCheckpoint#load} works.
 *
 * @param parallelism threads used to quantize an FP checkpoint (1 = the calling thread only)
 * @param requireFinite refuse NaN and infinite weights (on by default)
 */
public record LoadOptions(int parallelism, boolean requireFinite) {

  /** Checks the thread count. */
  public LoadOptions {
    if (parallelism < 1 || parallelism > 1024) {
      throw new IllegalArgumentException("parallelism: " + parallelism + " (expected: 1..1024)");
    }
  }

  /** All available processors, finite weights required. */
  public static LoadOptions defaults() {
    return new LoadOptions(Runtime.getRuntime().availableProcessors(), true);
  }

  /** Defaults with {@code threads} quantization threads; 0 means all processors. */
  public static LoadOptions ofThreads(int threads) {
    if (threads < 0) {
      throw new IllegalArgumentException("threads: " + threads + " (expected: >= 0)");
    }
    return threads == 0 ? defaults() : defaults().withParallelism(threads);
  }

  /** These options with another thread count. */
  public LoadOptions withParallelism(int threads) {
    return new LoadOptions(threads, requireFinite);
  }
}
