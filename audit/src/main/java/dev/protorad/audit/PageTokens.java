package dev.protorad.audit;

import java.nio.charset.StandardCharsets;
import java.util.Base64;

/** Opaque page tokens: a store prefix and the position after the last returned event. */
final class PageTokens {

  private PageTokens() {}

  static String encode(String store, long position) {
    String raw = store + ":" + position;
    return Base64.getUrlEncoder()
        .withoutPadding()
        .encodeToString(raw.getBytes(StandardCharsets.UTF_8));
  }

  /** The position in {@code token}, 0 for the empty token. */
  static long decode(String store, String token) {
    if (token.isEmpty()) {
      return 0;
    }
    try {
      String raw = new String(Base64.getUrlDecoder().decode(token), StandardCharsets.UTF_8);
      if (!raw.startsWith(store + ":")) {
        throw new IllegalArgumentException("pageToken: not from this store");
      }
      long position = Long.parseLong(raw.substring(store.length() + 1));
      if (position < 0) {
        throw new IllegalArgumentException("pageToken: invalid");
      }
      return position;
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("pageToken: invalid", e);
    }
  }
}
