package dev.protorad.bench;

/**
 * One named benchmark. Implementations are listed in {@code
 * META-INF/services/dev.protorad.bench.Benchmark} and run by {@code ./protorad bench NAME}.
 *
 * <p>A benchmark measures its baseline in the same run and reports ratios against it: these
 * machines are noisy, absolute figures from different runs are not comparable.
 */
public interface Benchmark {

  /** Short name used on the command line, for example {@code audit-append}. */
  String name();

  /** One line saying what is measured against what. */
  String description();

  /** Runs the benchmark, adding rows and ratios to the report. */
  void run(BenchReport report) throws Exception;
}
