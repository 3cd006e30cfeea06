package dev.protorad.server.serving;

import static java.util.Objects.requireNonNull;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Map;
import java.util.TreeMap;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.SecretKey;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * Seals note text for storage and opens it again: AES-256-GCM with a fresh random 96-bit nonce per
 * note and the prediction id as associated data, so a sealed note copied onto another prediction
 * does not open. The current key seals; every key in the vault opens what it sealed, so keys rotate
 * by adding one ({@link NoteKeyFile}).
 *
 * <p>Holds no note text; {@link #toString()} names the key ids only, and no exception message
 * carries text or key material.
 */
public final class NoteVault {

  /** GCM nonce length: 96 bits, as NIST SP 800-38D recommends for random nonces. */
  public static final int NONCE_BYTES = 12;

  /** AES-256. */
  public static final int KEY_BYTES = 32;

  private static final int TAG_BITS = 128;
  private static final String TRANSFORMATION = "AES/GCM/NoPadding";

  private final Map<String, SecretKey> keys;
  private final String currentKeyId;
  private final SecureRandom random;

  private NoteVault(Map<String, SecretKey> keys, String currentKeyId, SecureRandom random) {
    this.keys = keys;
    this.currentKeyId = currentKeyId;
    this.random = random;
  }

  /**
   * A vault over raw 256-bit keys by id; {@code currentKeyId} seals new notes, {@code random} draws
   * the nonces.
   */
  public static NoteVault of(Map<String, byte[]> keys, String currentKeyId, SecureRandom random) {
    requireNonNull(keys, "keys");
    requireNonNull(currentKeyId, "currentKeyId");
    requireNonNull(random, "random");
    Map<String, SecretKey> specs = new TreeMap<>();
    keys.forEach((id, key) -> specs.put(checkId(id), spec(id, key)));
    if (!specs.containsKey(currentKeyId)) {
      throw new IllegalArgumentException(
          "currentKeyId: '" + currentKeyId + "' (expected one of " + specs.keySet() + ")");
    }
    return new NoteVault(Map.copyOf(specs), currentKeyId, random);
  }

  /** The id of the key that seals new notes. */
  public String currentKeyId() {
    return currentKeyId;
  }

  /** Seals {@code note} (UTF-8) for the prediction {@code predictionId}. */
  public SealedNote seal(String predictionId, String note) {
    requireNonNull(predictionId, "predictionId");
    requireNonNull(note, "note");
    byte[] nonce = new byte[NONCE_BYTES];
    random.nextBytes(nonce);
    try {
      Cipher cipher =
          cipher(
              Cipher.ENCRYPT_MODE,
              requireNonNull(keys.get(currentKeyId), "current key"),
              nonce,
              predictionId);
      byte[] sealed = cipher.doFinal(note.getBytes(StandardCharsets.UTF_8));
      return new SealedNote(currentKeyId, nonce, sealed);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("AES-GCM unavailable", e);
    }
  }

  /**
   * Opens a note sealed for {@code predictionId}.
   *
   * @throws OpenException when the key id is not in this vault, or the ciphertext, nonce or
   *     prediction id do not authenticate (tampering, or another key under the same id)
   */
  public String open(String predictionId, SealedNote sealed) throws OpenException {
    requireNonNull(predictionId, "predictionId");
    requireNonNull(sealed, "sealed");
    SecretKey key = keys.get(sealed.keyId());
    if (key == null) {
      throw new OpenException(OpenException.Reason.UNKNOWN_KEY, predictionId, sealed.keyId());
    }
    try {
      Cipher cipher = cipher(Cipher.DECRYPT_MODE, key, sealed.nonce(), predictionId);
      return new String(cipher.doFinal(sealed.ciphertext()), StandardCharsets.UTF_8);
    } catch (AEADBadTagException e) {
      throw new OpenException(OpenException.Reason.NOT_AUTHENTIC, predictionId, sealed.keyId());
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("AES-GCM unavailable", e);
    }
  }

  @Override
  public String toString() {
    return "NoteVault{keyIds=" + keys.keySet() + ", current=" + currentKeyId + "}";
  }

  private static Cipher cipher(int mode, SecretKey key, byte[] nonce, String predictionId)
      throws GeneralSecurityException {
    Cipher cipher = Cipher.getInstance(TRANSFORMATION);
    cipher.init(mode, key, new GCMParameterSpec(TAG_BITS, nonce));
    cipher.updateAAD(predictionId.getBytes(StandardCharsets.UTF_8));
    return cipher;
  }

  private static String checkId(String id) {
    if (id == null || !id.matches("[A-Za-z0-9._-]{1,64}")) {
      throw new IllegalArgumentException("key id: expected 1..64 characters of [A-Za-z0-9._-]");
    }
    return id;
  }

  private static SecretKey spec(String id, byte[] key) {
    requireNonNull(key, "key");
    if (key.length != KEY_BYTES) {
      throw new IllegalArgumentException(
          "key '" + id + "': " + key.length + " bytes (expected: " + KEY_BYTES + ")");
    }
    return new SecretKeySpec(key.clone(), "AES");
  }

  /** A sealed note that cannot be opened; the message names the prediction and key id only. */
  public static final class OpenException extends Exception {

    /** Why a note did not open. */
    public enum Reason {
      /** The key id recorded with the note is not in the vault. */
      UNKNOWN_KEY,
      /** Authentication failed: the row was altered, or a different key carries that id. */
      NOT_AUTHENTIC
    }

    private final Reason reason;

    OpenException(Reason reason, String predictionId, String keyId) {
      super(
          "note of prediction "
              + predictionId
              + (reason == Reason.UNKNOWN_KEY
                  ? ": key id '" + keyId + "' is not in the key file"
                  : ": does not authenticate under key '" + keyId + "' (altered, or another key)"));
      this.reason = reason;
    }

    /** A note sealed under a key id that is not at hand. */
    public static OpenException unknownKey(String predictionId, String keyId) {
      return new OpenException(Reason.UNKNOWN_KEY, predictionId, keyId);
    }

    public Reason reason() {
      return reason;
    }
  }
}
