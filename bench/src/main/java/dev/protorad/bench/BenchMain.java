package dev.protorad.bench;

import java.util.Map;
import java.util.ServiceLoader;
import java.util.TreeMap;

/** Runs named benchmarks: {@code ./protorad bench [NAME...]}; no name lists them. */
public final class BenchMain {

  private BenchMain() {}

  public static void main(String[] args) throws Exception {
    Map<String, Benchmark> all = new TreeMap<>();
    for (Benchmark b : ServiceLoader.load(Benchmark.class)) {
      all.put(b.name(), b);
    }
    if (args.length == 0 || args[0].equals("--help") || args[0].equals("list")) {
      System.out.println("Usage: protorad bench NAME [NAME...]\n\nBenchmarks:");
      all.values().forEach(b -> System.out.printf("  %-22s %s%n", b.name(), b.description()));
      return;
    }
    for (String name : args) {
      Benchmark b = all.get(name);
      if (b == null) {
        System.err.println(
            "unknown benchmark: " + name + " (expected one of " + all.keySet() + ")");
        System.exit(2);
      }
      BenchReport report = new BenchReport(name);
      b.run(report);
      report.print(System.out);
    }
  }
}
