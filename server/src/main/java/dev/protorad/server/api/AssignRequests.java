package dev.protorad.server.api;

import dev.protorad.api.v1.AssignProtocolRequest;
import java.util.regex.Pattern;

/** Input rules of {@code AssignProtocol}; each failure names its field (DESIGN §3). */
final class AssignRequests {

  static final int MAX_NOTE_CHARS = 20_000;
  static final int MAX_ID_CHARS = 128;
  static final int DEFAULT_TOP_K = 3;
  static final int MAX_TOP_K = 10;
  static final int MAX_IDEMPOTENCY_KEY_CHARS = 256;
  private static final Pattern ADAPTER_REF =
      Pattern.compile("[a-z0-9][a-z0-9-]{0,62}@(?:[1-9][0-9]{0,8}|[a-z][a-z0-9-]{0,31})");
  private static final Pattern ID = Pattern.compile("[\\x21-\\x7e]+");

  private AssignRequests() {}

  /** The request with its note trimmed and top_k defaulted, or INVALID_ARGUMENT. */
  static AssignProtocolRequest validate(AssignProtocolRequest r) {
    checkId("order_id", r.getOrderId(), true);
    checkId("patient_ref", r.getPatientRef(), false);
    String note = r.getNote().strip();
    if (note.isEmpty()) {
      throw InvalidArgument.of("note", "empty (expected: 1.." + MAX_NOTE_CHARS + " characters)");
    }
    if (!hasVisibleCharacter(note)) {
      throw InvalidArgument.of(
          "note", "no visible character (expected: text, not only spaces or control characters)");
    }
    if (note.length() > MAX_NOTE_CHARS) {
      throw InvalidArgument.of(
          "note",
          note.length() + " characters (expected: 1.." + MAX_NOTE_CHARS + " after trimming)");
    }
    int topK = r.getTopK() == 0 ? DEFAULT_TOP_K : r.getTopK();
    if (topK < 1 || topK > MAX_TOP_K) {
      throw InvalidArgument.of("top_k", r.getTopK() + " (expected: 1.." + MAX_TOP_K + ")");
    }
    if (!r.getAdapter().isEmpty() && !ADAPTER_REF.matcher(r.getAdapter()).matches()) {
      throw InvalidArgument.of("adapter", "malformed (expected: name@version or name@alias)");
    }
    String key = r.getIdempotencyKey();
    if (!key.isEmpty()
        && (key.length() > MAX_IDEMPOTENCY_KEY_CHARS || !ID.matcher(key).matches())) {
      throw InvalidArgument.of(
          "idempotency_key",
          "malformed (expected: 1.." + MAX_IDEMPOTENCY_KEY_CHARS + " printable ASCII characters)");
    }
    return r.toBuilder().setNote(note).setTopK(topK).build();
  }

  /**
   * Whether the text holds a character that shows: not white space of any kind (no-break and wide
   * spaces included), not a control character, not a format character such as a zero-width space.
   */
  static boolean hasVisibleCharacter(String text) {
    return text.codePoints()
        .anyMatch(
            c -> {
              int type = Character.getType(c);
              return !Character.isWhitespace(c)
                  && !Character.isSpaceChar(c)
                  && type != Character.CONTROL
                  && type != Character.FORMAT
                  && type != Character.UNASSIGNED
                  && type != Character.SURROGATE;
            });
  }

  private static void checkId(String field, String value, boolean required) {
    if (value.isEmpty()) {
      if (required) {
        throw InvalidArgument.of(field, "missing (expected: 1.." + MAX_ID_CHARS + " characters)");
      }
      return;
    }
    if (value.length() > MAX_ID_CHARS || !ID.matcher(value).matches()) {
      throw InvalidArgument.of(
          field, "malformed (expected: 1.." + MAX_ID_CHARS + " printable ASCII characters)");
    }
  }
}
