package dev.protorad.server.serving;

import static java.util.Objects.requireNonNull;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * A prediction as stored: never the note text.
 *
 * @param predictionId server-assigned id
 * @param orderId the order it answers
 * @param patientRef opaque patient reference, or empty
 * @param labelId the predicted catalog id
 * @param confidence its probability
 * @param adapterVersion {@code name@version}, or empty for the bare base
 * @param needsReview whether review was requested
 * @param flags catalog rule flag ids
 * @param reviewReasons why review was requested ({@link dev.protorad.clinical.gate.ReviewReason})
 * @param alternatives the top-k labels answered with it, most probable first (empty for a
 *     prediction stored before they were kept)
 * @param createdAt when it was made
 * @param auditEventId id of the audit event that recorded it
 * @param review the review, once recorded
 */
public record StoredPrediction(
    String predictionId,
    String orderId,
    String patientRef,
    String labelId,
    double confidence,
    String adapterVersion,
    boolean needsReview,
    List<String> flags,
    List<String> reviewReasons,
    List<StoredPrediction.Alternative> alternatives,
    Instant createdAt,
    String auditEventId,
    Optional<Review> review) {

  public StoredPrediction {
    requireNonNull(predictionId, "predictionId");
    requireNonNull(orderId, "orderId");
    requireNonNull(patientRef, "patientRef");
    requireNonNull(labelId, "labelId");
    requireNonNull(adapterVersion, "adapterVersion");
    flags = List.copyOf(flags);
    reviewReasons = List.copyOf(reviewReasons);
    alternatives = List.copyOf(alternatives);
    requireNonNull(createdAt, "createdAt");
    requireNonNull(auditEventId, "auditEventId");
    requireNonNull(review, "review");
  }

  /** One of the top-k labels of a prediction and its probability. */
  public record Alternative(String labelId, double probability) {
    public Alternative {
      requireNonNull(labelId, "labelId");
    }
  }

  /**
   * A radiologist's review.
   *
   * @param accepted true when the predicted label was right
   * @param correctedLabelId the right label when not accepted, else empty
   * @param reviewer who reviewed
   * @param reviewedAt when
   * @param comment optional comment, empty when none
   */
  public record Review(
      boolean accepted,
      String correctedLabelId,
      String reviewer,
      Instant reviewedAt,
      String comment) {

    public Review {
      requireNonNull(correctedLabelId, "correctedLabelId");
      requireNonNull(reviewer, "reviewer");
      requireNonNull(reviewedAt, "reviewedAt");
      requireNonNull(comment, "comment");
      if (accepted == !correctedLabelId.isEmpty()) {
        throw new IllegalArgumentException(
            "correctedLabelId: expected empty when accepted, a label id when corrected");
      }
    }
  }
}
