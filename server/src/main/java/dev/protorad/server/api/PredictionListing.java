package dev.protorad.server.api;

import dev.protorad.api.v1.ListPredictionsRequest;
import dev.protorad.server.serving.PredictionFilter;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Base64;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * {@code ListPredictionsRequest} read into a filter, a page size and a cursor; page tokens are the
 * last prediction's time and id, base64url-encoded (opaque to callers, never note text).
 */
final class PredictionListing {

  static final int DEFAULT_PAGE_SIZE = 50;
  static final int MAX_PAGE_SIZE = 500;

  private static final Pattern ADAPTER =
      Pattern.compile("[a-z0-9][a-z0-9._-]{0,63}(@[1-9][0-9]{0,8})?");

  private PredictionListing() {}

  static PredictionFilter filter(ListPredictionsRequest r) {
    Optional<Instant> after =
        r.hasCreatedAfter()
            ? Optional.of(ProtoTimes.toInstant(r.getCreatedAfter()))
            : Optional.empty();
    Optional<Instant> before =
        r.hasCreatedBefore()
            ? Optional.of(ProtoTimes.toInstant(r.getCreatedBefore()))
            : Optional.empty();
    if (after.isPresent() && before.isPresent() && !after.get().isBefore(before.get())) {
      throw InvalidArgument.of("created_before", "not after created_after");
    }
    if (!r.getAdapter().isEmpty() && !ADAPTER.matcher(r.getAdapter()).matches()) {
      throw InvalidArgument.of("adapter", "malformed (expected: name or name@version)");
    }
    if (r.getOrderId().length() > 128) {
      throw InvalidArgument.of("order_id", "too long (expected: at most 128 characters)");
    }
    return new PredictionFilter(
        r.hasNeedsReview() ? Optional.of(r.getNeedsReview()) : Optional.empty(),
        r.hasReviewed() ? Optional.of(r.getReviewed()) : Optional.empty(),
        after,
        before,
        r.getAdapter().isEmpty() ? Optional.empty() : Optional.of(r.getAdapter()),
        r.getOrderId().isEmpty() ? Optional.empty() : Optional.of(r.getOrderId()));
  }

  static int pageSize(ListPredictionsRequest r) {
    int size = r.getPageSize();
    if (size < 0 || size > MAX_PAGE_SIZE) {
      throw InvalidArgument.of("page_size", size + " (expected: 1..500, 0 for 50)");
    }
    return size == 0 ? DEFAULT_PAGE_SIZE : size;
  }

  static String token(PredictionFilter.Cursor c) {
    Instant t = c.createdAt();
    String raw = t.getEpochSecond() + "." + t.getNano() + "." + c.predictionId();
    return Base64.getUrlEncoder()
        .withoutPadding()
        .encodeToString(raw.getBytes(StandardCharsets.UTF_8));
  }

  static Optional<PredictionFilter.Cursor> cursor(String token) {
    if (token.isEmpty()) {
      return Optional.empty();
    }
    try {
      String raw = new String(Base64.getUrlDecoder().decode(token), StandardCharsets.UTF_8);
      String[] parts = raw.split("\\.", 3);
      String id = parts[2];
      if (id.isEmpty() || id.length() > 64) {
        throw new IllegalArgumentException("id");
      }
      return Optional.of(
          new PredictionFilter.Cursor(
              Instant.ofEpochSecond(Long.parseLong(parts[0]), Integer.parseInt(parts[1])), id));
    } catch (RuntimeException e) {
      throw InvalidArgument.of("page_token", "not a token from ListPredictions");
    }
  }
}
