package dev.protorad.server.serving;

import static java.util.Objects.requireNonNull;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * A caller's retry key as the prediction store keeps it: the SHA-256 of the principal and the key
 * (so one caller's key never answers another's call, and the key itself is not stored), and the
 * SHA-256 of what the request asked, to tell a retry from a different request sent under the same
 * key. The request's parts carry the note's HMAC, never the note.
 *
 * @param keyDigest hex SHA-256 of the principal and the key
 * @param requestDigest hex SHA-256 of the request's parts
 */
public record Idempotency(String keyDigest, String requestDigest) {

  public Idempotency {
    requireNonNull(keyDigest, "keyDigest");
    requireNonNull(requestDigest, "requestDigest");
  }

  /** The key {@code key} of {@code principal} for a request made of {@code requestParts}. */
  public static Idempotency of(String principal, String key, String... requestParts) {
    requireNonNull(principal, "principal");
    requireNonNull(key, "key");
    return new Idempotency(sha256(principal, key), sha256(requestParts));
  }

  private static String sha256(String... parts) {
    MessageDigest digest;
    try {
      digest = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 missing from the JDK", e);
    }
    for (String part : parts) {
      // Length-prefixed, so that no two different lists of parts hash alike.
      byte[] bytes = part.getBytes(StandardCharsets.UTF_8);
      digest.update((bytes.length + ":").getBytes(StandardCharsets.US_ASCII));
      digest.update(bytes);
    }
    return HexFormat.of().formatHex(digest.digest());
  }
}
