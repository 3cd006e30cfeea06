package dev.protorad.spark;

import dev.protorad.api.v1.AssignProtocolRequest;
import dev.protorad.api.v1.AssignProtocolResponse;
import dev.protorad.api.v1.AssignProtocolsRequest;
import dev.protorad.api.v1.AssignProtocolsResponse;
import dev.protorad.api.v1.ScoredLabel;
import dev.protorad.client.ProtoradClient;
import dev.protorad.client.ProtoradException;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.util.LongAccumulator;
import org.apache.spark.util.TaskCompletionListener;
import org.jspecify.annotations.Nullable;

/**
 * Scores one partition: reads its orders in chunks, sends each chunk over one {@code
 * AssignProtocols} stream (at most {@code maxInFlight} unanswered, paced to the partition's share
 * of the job's rate), resends what is still unanswered after UNAVAILABLE or RESOURCE_EXHAUSTED with
 * back-off, and yields one output row per order. Each note carries the idempotency key {@code
 * jobId:orderId}, so a note sent again, by this loop or by a retried task, is answered with the
 * prediction the server made the first time. Note text never leaves this function but to the
 * server.
 */
final class OrderScorer implements MapPartitionsFunction<Row, Row> {

  private static final long serialVersionUID = 1L;

  private final BulkSettings settings;
  private final String runId;
  private final double partitionRate;
  private final LongAccumulator scored;
  private final LongAccumulator review;
  private final LongAccumulator failed;

  OrderScorer(
      BulkSettings settings,
      String runId,
      int partitions,
      LongAccumulator scored,
      LongAccumulator review,
      LongAccumulator failed) {
    this.settings = settings;
    this.runId = runId;
    this.partitionRate =
        settings.maxRatePerSecond() == 0
            ? 0
            : settings.maxRatePerSecond() / Math.max(1, partitions);
    this.scored = scored;
    this.review = review;
    this.failed = failed;
  }

  @Override
  public Iterator<Row> call(Iterator<Row> orders) {
    ManagedChannel channel = settings.openChannel();
    closeWithTask(channel);
    return new Scored(orders, channel, client(channel), new Pacer(partitionRate));
  }

  /** Shuts {@code channel} down when the task running this partition completes, if there is one. */
  private static void closeWithTask(ManagedChannel channel) {
    TaskContext task = TaskContext.get();
    if (task != null) {
      TaskCompletionListener close = ctx -> channel.shutdownNow();
      task.addTaskCompletionListener(close);
    }
  }

  private ProtoradClient client(ManagedChannel channel) {
    return ProtoradClient.builder(channel).apiKey(settings.apiKey()).maxAttempts(1).build();
  }

  /** The partition's output rows, scored a chunk at a time as they are asked for. */
  private final class Scored implements Iterator<Row> {
    private final Iterator<Row> orders;
    private final ManagedChannel channel;
    private final ProtoradClient client;
    private final Pacer pacer;
    private Iterator<Row> ready = List.<Row>of().iterator();

    Scored(Iterator<Row> orders, ManagedChannel channel, ProtoradClient client, Pacer pacer) {
      this.orders = orders;
      this.channel = channel;
      this.client = client;
      this.pacer = pacer;
    }

    @Override
    public boolean hasNext() {
      while (!ready.hasNext() && orders.hasNext()) {
        List<Row> chunk = new ArrayList<>(settings.chunk());
        while (orders.hasNext() && chunk.size() < settings.chunk()) {
          chunk.add(orders.next());
        }
        ready = score(client, pacer, chunk).iterator();
      }
      if (!ready.hasNext()) {
        channel.shutdownNow();
      }
      return ready.hasNext();
    }

    @Override
    public Row next() {
      if (!hasNext()) {
        throw new NoSuchElementException();
      }
      return ready.next();
    }
  }

  private List<Row> score(ProtoradClient client, Pacer pacer, List<Row> chunk) {
    Map<String, Row> out = new LinkedHashMap<>();
    Map<String, AssignProtocolsRequest> pending = new ConcurrentHashMap<>();
    for (Row order : chunk) {
      String orderId = text(order, "order_id");
      if (orderId.isBlank()) {
        continue; // BulkJob drops orders without an id before scoring; nothing to key one by.
      }
      out.put(orderId, null);
      if (text(order, "note").isBlank()) {
        out.put(orderId, error(orderId, "INVALID_ARGUMENT: note: empty"));
      } else {
        pending.put(orderId, request(order, orderId));
      }
    }
    Map<String, Row> answered = send(client, pacer, pending);
    List<Row> rows = new ArrayList<>(out.size());
    out.forEach((orderId, early) -> rows.add(early != null ? early : answered.get(orderId)));
    rows.forEach(this::count);
    return rows;
  }

  /** The stream item for one order, keyed by the job and the order: a retry scores it once. */
  private AssignProtocolsRequest request(Row order, String orderId) {
    AssignProtocolRequest.Builder request =
        AssignProtocolRequest.newBuilder()
            .setOrderId(orderId)
            .setNote(text(order, "note"))
            .setAdapter(settings.adapter())
            .setIdempotencyKey(settings.jobId() + ":" + orderId);
    String patient = text(order, "patient_ref");
    if (!patient.isBlank()) {
      request.setPatientRef(patient);
    }
    return AssignProtocolsRequest.newBuilder().setRequestId(orderId).setRequest(request).build();
  }

  /**
   * Sends {@code pending} on one stream, again with back-off while items or the stream fail in a
   * way worth retrying; an order still unanswered after the last attempt gets an error row.
   */
  private Map<String, Row> send(
      ProtoradClient client, Pacer pacer, Map<String, AssignProtocolsRequest> pending) {
    Map<String, Row> answered = new ConcurrentHashMap<>();
    long backoff = 200;
    for (int attempt = 1; !pending.isEmpty() && attempt <= settings.maxAttempts(); attempt++) {
      stream(client, pacer, pending, answered);
      if (!pending.isEmpty() && attempt < settings.maxAttempts()) {
        sleep(backoff);
        backoff = Math.min(backoff * 2, 10_000);
      }
    }
    for (String orderId : pending.keySet()) {
      answered.put(
          orderId,
          error(orderId, "UNAVAILABLE: no answer after " + settings.maxAttempts() + " attempts"));
    }
    return answered;
  }

  /** One stream of the pending items; what is answered for good moves to {@code answered}. */
  private void stream(
      ProtoradClient client,
      Pacer pacer,
      Map<String, AssignProtocolsRequest> pending,
      Map<String, Row> answered) {
    List<AssignProtocolsRequest> send = new ArrayList<>(pending.values());
    try {
      client.assignProtocols(
          pacer.paced(send.iterator()),
          settings.maxInFlight(),
          r -> {
            Row row = answer(r);
            if (row != null) {
              answered.put(r.getRequestId(), row);
              pending.remove(r.getRequestId());
            }
          });
    } catch (ProtoradException e) {
      if (!retryable(e.code())) {
        throw e;
      }
    }
  }

  /** The output row for an answer, or null when the item should be sent again. */
  private @Nullable Row answer(AssignProtocolsResponse r) {
    if (r.hasResponse()) {
      return prediction(r.getRequestId(), r.getResponse());
    }
    Status.Code code = Status.fromCodeValue(r.getError().getCode()).getCode();
    if (retryable(code)) {
      return null;
    }
    // The server's item errors name fields and limits, never note text.
    return error(r.getRequestId(), code + ": " + r.getError().getMessage());
  }

  private void count(Row r) {
    if (!r.isNullAt(BulkSchema.ERROR)) {
      failed.add(1);
    } else {
      scored.add(1);
      if (r.getBoolean(BulkSchema.NEEDS_REVIEW)) {
        review.add(1);
      }
    }
  }

  private Row prediction(String orderId, AssignProtocolResponse p) {
    List<Row> alternatives = new ArrayList<>();
    for (ScoredLabel l : p.getAlternativesList()) {
      alternatives.add(RowFactory.create(l.getLabel().getId(), l.getProbability()));
    }
    return RowFactory.create(
        orderId,
        p.getPredictionId(),
        p.hasLabel() ? p.getLabel().getId() : null,
        p.hasLabel() ? p.getLabel().getName() : null,
        p.hasLabel() ? p.getConfidence() : null,
        scala(alternatives),
        p.getNeedsReview(),
        scala(new ArrayList<>(p.getReviewReasonsList())),
        scala(new ArrayList<>(p.getFlagsList())),
        p.getAdapterVersion(),
        p.getAuditEventId(),
        null,
        runId);
  }

  private Row error(String orderId, String message) {
    return RowFactory.create(
        orderId, null, null, null, null, null, null, null, null, null, null, message, runId);
  }

  private static <T> scala.collection.immutable.Seq<T> scala(List<T> values) {
    return scala.jdk.javaapi.CollectionConverters.asScala(values).toSeq();
  }

  static boolean retryable(Status.Code code) {
    return code == Status.Code.UNAVAILABLE || code == Status.Code.RESOURCE_EXHAUSTED;
  }

  private static String text(Row row, String column) {
    int i;
    try {
      i = row.fieldIndex(column);
    } catch (IllegalArgumentException e) {
      return "";
    }
    Object v = row.get(i);
    return v == null ? "" : v.toString();
  }

  private static void sleep(long millis) {
    try {
      TimeUnit.MILLISECONDS.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("bulk: interrupted", e);
    }
  }

  /** Paces the notes a partition sends to at most its rate a second; no limit at rate 0. */
  static final class Pacer {
    private final long intervalNanos;
    private long next = System.nanoTime();

    Pacer(double perSecond) {
      this.intervalNanos = perSecond == 0 ? 0 : (long) (1e9 / perSecond);
    }

    <T> Iterator<T> paced(Iterator<T> items) {
      return new Iterator<>() {
        @Override
        public boolean hasNext() {
          return items.hasNext();
        }

        @Override
        public T next() {
          if (intervalNanos > 0) {
            long wait = next - System.nanoTime();
            if (wait > 0) {
              sleep(TimeUnit.NANOSECONDS.toMillis(wait) + 1);
            }
            next = Math.max(next, System.nanoTime()) + intervalNanos;
          }
          return items.next();
        }
      };
    }
  }
}
