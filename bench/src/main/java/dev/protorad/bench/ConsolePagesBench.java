package dev.protorad.bench;

import dev.protorad.api.v1.AssignProtocolRequest;
import dev.protorad.cli.DemoSetup;
import dev.protorad.client.ProtoradClient;
import dev.protorad.console.ConsoleServer;
import dev.protorad.console.ConsoleSettings;
import dev.protorad.server.app.ServerProcess;
import dev.protorad.server.config.ConfigLoader;
import dev.protorad.server.config.ServerConfig;
import dev.protorad.server.serving.PredictionStore;
import dev.protorad.server.serving.StoredPrediction;
import dev.protorad.testing.TinyCheckpoint;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.CookieManager;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Console page loads over HTTP, as a browser signed in per role gets them, on a server wired as
 * {@code protorad serve} wires it (file audit trail, H2 prediction store, notes kept): first with
 * one prediction made through the API, then with {@code -Dprotorad.bench.predictions} predictions
 * (default 10,000, all waiting for review) and {@code -Dprotorad.bench.events} audit events
 * (default 100,000, each from a governed API call) in the stores. Each page is loaded {@code
 * -Dprotorad.bench.loads} times (default 60) after {@value #WARM_UP} warm-up loads; p50 and p95 per
 * page, and the ratio of the filled store's p95 to the near-empty one's.
 */
public final class ConsolePagesBench implements Benchmark {

  private static final Pattern CSRF = Pattern.compile("name=\"csrf\" value=\"([^\"]+)\"");

  /** Loads of each page before it is timed (the first pages also warm the JIT up). */
  private static final int WARM_UP = 30;

  private static final Pattern OPEN = Pattern.compile("href=\"/review/([^\"]+)\"");

  private final int predictions = Integer.getInteger("protorad.bench.predictions", 10_000);
  private final int events = Integer.getInteger("protorad.bench.events", 100_000);
  private final int loads = Integer.getInteger("protorad.bench.loads", 60);
  private final int threads = Integer.getInteger("protorad.bench.threads", 8);

  @Override
  public String name() {
    return "console-pages";
  }

  @Override
  public String description() {
    return "console page load p95 with 10k predictions and 100k audit events vs a near-empty store";
  }

  @Override
  public void run(BenchReport report) throws Exception {
    report.device("cpu");
    Path dir = Files.createTempDirectory("protorad-console-bench");
    try {
      Path data = Files.createDirectories(dir.resolve("data"));
      Map<String, String> keys = DemoSetup.prepare(data);
      Path model = TinyCheckpoint.write(Files.createDirectories(dir.resolve("model")));
      Path yaml =
          Files.writeString(
              dir.resolve("protorad.yaml"),
              "model:\n  review_threshold: 1.0\nserving:\n  rate_limit_per_second: 1000000\n");
      ServerConfig loaded =
          ConfigLoader.withEnvironment(Map.of()).load(yaml).withPort(0).withDataDir(data);
      ServerConfig config = loaded.withServing(loaded.serving().withModelDir(model));
      Map<String, long[]> empty;
      try (Served served = Served.start(config, keys)) {
        served
            .as("clinician")
            .assignProtocol(
                AssignProtocolRequest.newBuilder()
                    .setOrderId("CB-0")
                    .setNote("woman with flank pain and hematuria, r/o stone")
                    .build());
        // The filled store is measured in a warm process, after 100,000 calls: these rounds warm
        // the JIT up for the near-empty one, which keeps the last.
        measure(served);
        measure(served);
        empty = measure(served);
      }
      insertPredictions(config);
      Map<String, long[]> full;
      try (Served served = Served.start(config, keys)) {
        fillAuditTrail(served.as("clinician"));
        full = measure(served);
      }
      report.row("predictions in the store, all waiting for review", predictions, "");
      report.row("audit events in the trail, at least", events, "");
      for (String page : full.keySet()) {
        report.row(page + ", near-empty store, p95", millis(empty.get(page), 0.95), "ms");
        report.row(page + ", filled store, p50", millis(full.get(page), 0.5), "ms");
        report.row(page + ", filled store, p95", millis(full.get(page), 0.95), "ms");
      }
      for (String page : full.keySet()) {
        report.ratio(
            page + ": p95 filled / near-empty",
            millis(full.get(page), 0.95),
            millis(empty.get(page), 0.95),
            "filled p95 < 300 ms");
      }
    } finally {
      deleteTree(dir);
    }
  }

  /** The server as {@code protorad serve} wires it, and its console in demo mode. */
  private record Served(
      ServerProcess process,
      ManagedChannel channel,
      ConsoleServer console,
      Map<String, String> keys)
      implements AutoCloseable {

    static Served start(ServerConfig config, Map<String, String> keys) throws IOException {
      ServerProcess process =
          new ServerProcess(config, new PrintStream(new ByteArrayOutputStream(), true));
      int port = process.start().port();
      ManagedChannel channel =
          ManagedChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
      Map<String, String> roles = new LinkedHashMap<>(keys);
      roles.keySet().retainAll(List.of("radiologist", "compliance-officer", "ml-lead"));
      ConsoleServer console =
          ConsoleServer.start(
              new ConsoleSettings("127.0.0.1", 0, roles, Optional.empty(), false), channel);
      return new Served(process, channel, console, keys);
    }

    ProtoradClient as(String role) {
      return ProtoradClient.builder(channel).apiKey(keys.get(role)).build();
    }

    @Override
    public void close() throws InterruptedException {
      console.close();
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      process.stop();
    }
  }

  /**
   * The rest of the predictions, written into the server's prediction store while it is stopped
   * (through the model they would take the tiny random model many minutes, and the pages do not
   * depend on how they were made): all waiting for review, all newer than the one made through the
   * API, without notes.
   */
  private void insertPredictions(ServerConfig config) {
    String[] labels = {"ct-head-wo", "ct-chest-w", "us-pelvis", "ct-abdomen-pelvis-w"};
    Instant start = Instant.now();
    try (PredictionStore store =
        PredictionStore.open(
            config.serving().resolvedPredictionsJdbcUrl(config.dataDir()),
            config.serving().predictionsJdbcUser(),
            "")) {
      for (int i = 1; i < predictions; i++) {
        String id = UUID.randomUUID().toString();
        store.insert(
            new StoredPrediction(
                id,
                "CB-" + i,
                "PT-" + (i % 997),
                labels[i % labels.length],
                0.5 + (i % 40) / 100.0,
                "protocol@1",
                true,
                List.of(),
                List.of("below the review threshold"),
                List.of(),
                start.plusMillis(i),
                "bench:" + id,
                Optional.empty()),
            "");
      }
    }
  }

  /**
   * Audit events through the governed API until the trail holds {@link #events} more: catalog
   * reads, each audited like every call, from {@link #threads} callers.
   */
  private void fillAuditTrail(ProtoradClient clinician) throws Exception {
    long started = System.nanoTime();
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      AtomicInteger calls = new AtomicInteger();
      List<Future<?>> work = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        work.add(
            pool.submit(
                () -> {
                  while (calls.getAndIncrement() < events) {
                    clinician.getCatalog();
                  }
                  return null;
                }));
      }
      for (Future<?> f : work) {
        f.get();
      }
    } finally {
      pool.shutdownNow();
    }
    System.err.printf(
        Locale.ROOT, "%d audited calls in %.0f s%n", events, (System.nanoTime() - started) / 1e9);
  }

  private static void deleteTree(Path dir) throws IOException {
    try (var paths = Files.walk(dir)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }

  /** Page name to sorted load times in nanoseconds. */
  private Map<String, long[]> measure(Served served) throws Exception {
    String url = served.console().url();
    Browser radiologist = Browser.signIn(url, "radiologist");
    Browser officer = Browser.signIn(url, "compliance-officer");
    Browser lead = Browser.signIn(url, "ml-lead");
    String oldest = radiologist.firstOpenLink();
    Map<String, Browser.Page> pages = new LinkedHashMap<>();
    pages.put("review worklist", () -> radiologist.get("/review"));
    pages.put("review item", () -> radiologist.get("/review/" + oldest));
    pages.put("audit search (no filter, first page)", () -> officer.get("/audit"));
    pages.put(
        "audit search (one principal)", () -> officer.get("/audit?principal=demo-radiologist"));
    // Nobody by that name: the whole trail is read to answer an empty page.
    pages.put(
        "audit search (no match: whole trail read)",
        () -> officer.get("/audit?principal=dr-nobody&action=AssignProtocol"));
    pages.put("models", () -> lead.get("/models"));
    Map<String, long[]> out = new LinkedHashMap<>();
    for (Map.Entry<String, Browser.Page> e : pages.entrySet()) {
      for (int i = 0; i < WARM_UP; i++) {
        e.getValue().load();
      }
      long[] times = new long[loads];
      for (int i = 0; i < loads; i++) {
        long t0 = System.nanoTime();
        e.getValue().load();
        times[i] = System.nanoTime() - t0;
      }
      Arrays.sort(times);
      out.put(e.getKey(), times);
    }
    return out;
  }

  private static double millis(long[] sorted, double quantile) {
    int at = (int) Math.ceil(quantile * sorted.length) - 1;
    return sorted[Math.max(0, Math.min(sorted.length - 1, at))] / 1e6;
  }

  /** An HTTP client holding one signed-in console session, as a browser would. */
  private record Browser(HttpClient http, String base) {

    interface Page {
      void load() throws Exception;
    }

    static Browser signIn(String url, String role) throws Exception {
      String base = url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
      HttpClient http =
          HttpClient.newBuilder()
              .cookieHandler(new CookieManager())
              .followRedirects(HttpClient.Redirect.NORMAL)
              .build();
      Browser b = new Browser(http, base);
      Matcher csrf = CSRF.matcher(b.get("/signin"));
      if (!csrf.find()) {
        throw new IllegalStateException("sign-in page without a CSRF token");
      }
      String form =
          "role="
              + URLEncoder.encode(role, StandardCharsets.UTF_8)
              + "&csrf="
              + URLEncoder.encode(csrf.group(1), StandardCharsets.UTF_8);
      HttpResponse<String> r =
          http.send(
              HttpRequest.newBuilder(URI.create(base + "/signin"))
                  .header("Content-Type", "application/x-www-form-urlencoded")
                  .POST(HttpRequest.BodyPublishers.ofString(form))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      if (r.statusCode() != 200) {
        throw new IllegalStateException("sign-in as " + role + ": HTTP " + r.statusCode());
      }
      return b;
    }

    String get(String path) throws IOException, InterruptedException {
      HttpResponse<String> r =
          http.send(
              HttpRequest.newBuilder(URI.create(base + path)).build(),
              HttpResponse.BodyHandlers.ofString());
      if (r.statusCode() != 200) {
        throw new IllegalStateException(path + ": HTTP " + r.statusCode());
      }
      return r.body();
    }

    String firstOpenLink() throws IOException, InterruptedException {
      Matcher m = OPEN.matcher(get("/review"));
      if (!m.find()) {
        throw new IllegalStateException("the worklist is empty");
      }
      return m.group(1);
    }
  }
}
