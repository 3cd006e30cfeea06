package dev.protorad.audit;

import static java.util.Objects.requireNonNull;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Map;
import java.util.TreeMap;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * HMAC-SHA256 of note text, so that an auditor holding a note can prove it is the one an event
 * refers to, while the audit trail itself never holds the text. Keys rotate by adding a new id and
 * making it current; old ids stay to check old events.
 *
 * <p>Holds no note text; {@link #toString()} names the key ids only.
 */
public final class NoteHmac {

  private static final String ALGORITHM = "HmacSHA256";
  private static final int MIN_KEY_BYTES = 32;

  /**
   * A note's digest.
   *
   * @param keyId id of the key that made it
   * @param hmac 64 lowercase hex digits
   */
  public record Digest(String keyId, String hmac) {
    /** Validates both fields. */
    public Digest {
      requireNonNull(keyId, "keyId");
      requireNonNull(hmac, "hmac");
    }
  }

  private final Map<String, SecretKeySpec> keys;
  private final String currentKeyId;

  private NoteHmac(Map<String, SecretKeySpec> keys, String currentKeyId) {
    this.keys = keys;
    this.currentKeyId = currentKeyId;
  }

  /**
   * Creates the HMAC from raw keys (at least 32 bytes each) and the id of the key to use for new
   * digests.
   */
  public static NoteHmac of(Map<String, byte[]> keys, String currentKeyId) {
    requireNonNull(keys, "keys");
    requireNonNull(currentKeyId, "currentKeyId");
    Map<String, SecretKeySpec> specs = new TreeMap<>();
    keys.forEach((id, key) -> specs.put(checkId(id), spec(id, key)));
    if (!specs.containsKey(currentKeyId)) {
      throw new IllegalArgumentException(
          "currentKeyId: '" + currentKeyId + "' (expected one of " + specs.keySet() + ")");
    }
    return new NoteHmac(Map.copyOf(specs), currentKeyId);
  }

  /** Like {@link #of(Map, String)} with base64-encoded keys, as found in configuration. */
  public static NoteHmac ofBase64(Map<String, String> keys, String currentKeyId) {
    requireNonNull(keys, "keys");
    Map<String, byte[]> raw = new TreeMap<>();
    keys.forEach((id, key) -> raw.put(id, decode(id, key)));
    return of(raw, currentKeyId);
  }

  /** A fresh random 256-bit key, base64-encoded, for demos and first installs. */
  public static String generateKey() {
    byte[] key = new byte[MIN_KEY_BYTES];
    new SecureRandom().nextBytes(key);
    return Base64.getEncoder().encodeToString(key);
  }

  /** The id used for new digests. */
  public String currentKeyId() {
    return currentKeyId;
  }

  /** Digest of {@code note} (UTF-8) with the current key. */
  public Digest digest(String note) {
    requireNonNull(note, "note");
    return new Digest(currentKeyId, hmac(requireNonNull(keys.get(currentKeyId), "key"), note));
  }

  /**
   * Whether {@code note} is the text behind {@code digest}, using the key the digest names. Unknown
   * key ids give false.
   */
  public boolean matches(String note, Digest digest) {
    requireNonNull(note, "note");
    requireNonNull(digest, "digest");
    SecretKeySpec key = keys.get(digest.keyId());
    return key != null && MessageDigest.isEqual(ascii(hmac(key, note)), ascii(digest.hmac()));
  }

  private static byte[] ascii(String hex) {
    return hex.getBytes(StandardCharsets.US_ASCII);
  }

  @Override
  public String toString() {
    return "NoteHmac{keyIds=" + keys.keySet() + ", current=" + currentKeyId + "}";
  }

  private static String hmac(SecretKeySpec key, String note) {
    try {
      Mac mac = Mac.getInstance(ALGORITHM);
      mac.init(key);
      return HexFormat.of().formatHex(mac.doFinal(note.getBytes(StandardCharsets.UTF_8)));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 unavailable", e);
    }
  }

  private static String checkId(String id) {
    if (id == null || id.isBlank() || id.length() > 64) {
      throw new IllegalArgumentException("key id: blank or longer than 64 characters");
    }
    return id;
  }

  private static SecretKeySpec spec(String id, byte[] key) {
    requireNonNull(key, "key");
    if (key.length < MIN_KEY_BYTES) {
      throw new IllegalArgumentException(
          "key '" + id + "': " + key.length + " bytes (expected: >= " + MIN_KEY_BYTES + ")");
    }
    return new SecretKeySpec(key.clone(), ALGORITHM);
  }

  private static byte[] decode(String id, String base64) {
    requireNonNull(base64, "key");
    try {
      return Base64.getDecoder().decode(base64.trim());
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("key '" + id + "': not base64", e);
    }
  }
}
