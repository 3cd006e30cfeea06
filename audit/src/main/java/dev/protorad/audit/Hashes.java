package dev.protorad.audit;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** SHA-256 helpers for the hash chain. */
final class Hashes {

  /** The previous hash of a writer's first event. */
  static final String GENESIS = "0".repeat(64);

  private static final HexFormat HEX = HexFormat.of();

  private Hashes() {}

  /** SHA-256 over the previous hash (as hex text) followed by the canonical bytes. */
  static String chain(String previousHash, byte[] canonical) {
    MessageDigest sha = sha256();
    sha.update(previousHash.getBytes(StandardCharsets.US_ASCII));
    sha.update(canonical);
    return HEX.formatHex(sha.digest());
  }

  static String sha256Hex(byte[] bytes) {
    return HEX.formatHex(sha256().digest(bytes));
  }

  static boolean isHash(String s) {
    return s.length() == 64
        && s.chars().allMatch(c -> (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'));
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 missing from the JDK", e);
    }
  }
}
