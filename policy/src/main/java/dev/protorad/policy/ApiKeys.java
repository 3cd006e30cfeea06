package dev.protorad.policy;

import static java.util.Objects.requireNonNull;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HexFormat;
import java.util.regex.Pattern;

/**
 * Generates API keys and the hashes that the policy file stores instead of the keys.
 *
 * <p>The stored form is {@code sha256:<64 lower-case hex digits>}. An unsalted, fast SHA-256 is
 * enough here because the keys are 256-bit random strings, not passwords: nobody can guess one, so
 * a slow or salted KDF would only add latency to every call without adding protection, while a
 * plain digest lets the server find a key in one pass.
 */
public final class ApiKeys {
  /** Prefix of generated keys; it makes leaked keys easy to find with secret scanners. */
  public static final String KEY_PREFIX = "prk_";

  static final String HASH_PREFIX = "sha256:";
  static final int MAX_KEY_LENGTH = 512;
  private static final int KEY_BYTES = 32;
  private static final Pattern HASH = Pattern.compile("sha256:[0-9a-f]{64}");

  private ApiKeys() {}

  /**
   * A new key from {@code random}.
   *
   * @param random the source of the key's 256 random bits
   */
  public static ApiKey generate(SecureRandom random) {
    requireNonNull(random, "random");
    byte[] bytes = new byte[KEY_BYTES];
    random.nextBytes(bytes);
    String key = KEY_PREFIX + Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    return new ApiKey(key, hash(key));
  }

  /** The stored form of {@code key}: {@code sha256:<hex>}. */
  public static String hash(String key) {
    requireNonNull(key, "key");
    return HASH_PREFIX + HexFormat.of().formatHex(digest(key));
  }

  /** Whether {@code value} has the stored form {@code sha256:<64 lower-case hex digits>}. */
  public static boolean isWellFormedHash(String value) {
    return value != null && HASH.matcher(value).matches();
  }

  static byte[] digest(String key) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java platform has SHA-256", e);
    }
  }

  static byte[] hashBytes(String wellFormedHash) {
    return HexFormat.of().parseHex(wellFormedHash.substring(HASH_PREFIX.length()));
  }

  /**
   * A generated key and its hash. {@link #toString()} hides the key so that it cannot reach a log
   * by accident.
   *
   * @param key the secret handed to the client once
   * @param hash the value to put into the policy file
   */
  public record ApiKey(String key, String hash) {

    /** Validates the fields. */
    public ApiKey {
      requireNonNull(key, "key");
      requireNonNull(hash, "hash");
    }

    @Override
    public String toString() {
      return "ApiKey[key=<redacted>, hash=" + hash + "]";
    }
  }
}
