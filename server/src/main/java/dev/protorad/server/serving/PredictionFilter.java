package dev.protorad.server.serving;

import static java.util.Objects.requireNonNull;

import java.time.Instant;
import java.util.Optional;

/**
 * Which stored predictions a listing shows; an empty field matches every prediction.
 *
 * @param needsReview only those whose {@code needs_review} is this
 * @param reviewed only reviewed ({@code true}) or not yet reviewed ({@code false}) ones
 * @param createdAfter only those made at or after this instant
 * @param createdBefore only those made before this instant
 * @param adapter only those answered by this adapter: {@code name@version}, or {@code name} for
 *     every version of it
 * @param orderId only those of this order
 */
public record PredictionFilter(
    Optional<Boolean> needsReview,
    Optional<Boolean> reviewed,
    Optional<Instant> createdAfter,
    Optional<Instant> createdBefore,
    Optional<String> adapter,
    Optional<String> orderId) {

  /** Every prediction. */
  public static final PredictionFilter ALL =
      new PredictionFilter(
          Optional.empty(),
          Optional.empty(),
          Optional.empty(),
          Optional.empty(),
          Optional.empty(),
          Optional.empty());

  public PredictionFilter {
    requireNonNull(needsReview, "needsReview");
    requireNonNull(reviewed, "reviewed");
    requireNonNull(createdAfter, "createdAfter");
    requireNonNull(createdBefore, "createdBefore");
    requireNonNull(adapter, "adapter");
    requireNonNull(orderId, "orderId");
  }

  /** The review worklist: predictions that need review and have none yet. */
  public static PredictionFilter worklist() {
    return new PredictionFilter(
        Optional.of(true),
        Optional.of(false),
        Optional.empty(),
        Optional.empty(),
        Optional.empty(),
        Optional.empty());
  }

  /**
   * Where a page starts: after the prediction made at {@code createdAt} with id {@code
   * predictionId}, in listing order (time, then id).
   */
  public record Cursor(Instant createdAt, String predictionId) {
    public Cursor {
      requireNonNull(createdAt, "createdAt");
      requireNonNull(predictionId, "predictionId");
    }

    /** The cursor just after {@code p}. */
    public static Cursor after(StoredPrediction p) {
      return new Cursor(p.createdAt(), p.predictionId());
    }
  }
}
