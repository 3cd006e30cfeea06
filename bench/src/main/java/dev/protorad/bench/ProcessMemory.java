package dev.protorad.bench;

import java.io.IOException;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryUsage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Where a process's resident memory sits (Linux): peak and current RSS, its anonymous part (Java
 * heap, direct buffers, native tensors, malloc arenas) and its file-backed part (memory-mapped
 * files), next to the JVM's own view of its heap and of direct and mapped buffers. A sampler keeps
 * the peaks of each part and the phase in which the resident set peaked.
 */
final class ProcessMemory implements AutoCloseable, Runnable {
  private final BenchReport report;
  private final Thread thread = new Thread(this, "rss-sampler");
  private volatile boolean running = true;
  private volatile String phase = "start";
  private volatile long peakAnonymous;
  private volatile long peakFile;
  private volatile long peakRss;
  private volatile String peakPhase = "start";

  private ProcessMemory(BenchReport report) {
    this.report = report;
  }

  /** Starts sampling every 50 ms. */
  static ProcessMemory start(BenchReport report) {
    ProcessMemory m = new ProcessMemory(report);
    m.thread.setDaemon(true);
    m.thread.start();
    return m;
  }

  /** Reports the breakdown now, labelled {@code done}, and names the phase that starts. */
  void phase(String done, String next) throws IOException {
    sample();
    MemoryUsage heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage();
    String p = "after " + done + ": ";
    report.row(p + "RSS (VmRSS)", status("VmRSS") / 1e9, "GB");
    report.row(p + "peak RSS so far (VmHWM)", status("VmHWM") / 1e9, "GB");
    report.row(p + "RssAnon", status("RssAnon") / 1e9, "GB");
    report.row(p + "RssFile (mapped checkpoint pages)", status("RssFile") / 1e9, "GB");
    report.row(p + "Java heap used", heap.getUsed() / 1e9, "GB");
    report.row(p + "Java heap committed", heap.getCommitted() / 1e9, "GB");
    for (BufferPoolMXBean pool : ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class)) {
      report.row(
          String.format(Locale.ROOT, "%s%s buffers (%d)", p, pool.getName(), pool.getCount()),
          pool.getMemoryUsed() / 1e9,
          "GB");
    }
    phase = next;
  }

  /** Sampled peak of RssAnon (the kernel keeps no peak for it). */
  long peakAnonymous() {
    return peakAnonymous;
  }

  /** Sampled peak of RssFile. */
  long peakFile() {
    return peakFile;
  }

  /** The phase during which the sampled resident set peaked. */
  String peakPhase() {
    return peakPhase;
  }

  @Override
  public void run() {
    while (running) {
      try {
        sample();
        Thread.sleep(50);
      } catch (IOException | InterruptedException e) {
        return;
      }
    }
  }

  private synchronized void sample() throws IOException {
    long anonymous = status("RssAnon");
    long file = status("RssFile");
    peakAnonymous = Math.max(peakAnonymous, anonymous);
    peakFile = Math.max(peakFile, file);
    if (anonymous + file > peakRss) {
      peakRss = anonymous + file;
      peakPhase = phase;
    }
  }

  @Override
  public void close() throws InterruptedException {
    running = false;
    thread.join();
  }

  /** A field of /proc/self/status in bytes, or -1 when absent. */
  static long status(String field) throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
      if (line.startsWith(field + ":")) {
        return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
      }
    }
    return -1;
  }
}
