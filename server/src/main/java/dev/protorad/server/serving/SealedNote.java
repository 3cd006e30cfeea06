package dev.protorad.server.serving;

import static java.util.Objects.requireNonNull;

/**
 * A note as kept at rest by {@link NoteVault}: never the text.
 *
 * @param keyId id of the key that sealed it
 * @param nonce the 96-bit GCM nonce, random per note
 * @param ciphertext the AES-GCM ciphertext followed by its 128-bit tag
 */
public record SealedNote(String keyId, byte[] nonce, byte[] ciphertext) {

  public SealedNote {
    requireNonNull(keyId, "keyId");
    requireNonNull(nonce, "nonce");
    requireNonNull(ciphertext, "ciphertext");
    if (nonce.length != NoteVault.NONCE_BYTES) {
      throw new IllegalArgumentException(
          "nonce: " + nonce.length + " bytes (expected: " + NoteVault.NONCE_BYTES + ")");
    }
    nonce = nonce.clone();
    ciphertext = ciphertext.clone();
  }

  @Override
  public byte[] nonce() {
    return nonce.clone();
  }

  @Override
  public byte[] ciphertext() {
    return ciphertext.clone();
  }

  @Override
  public String toString() {
    return "SealedNote[keyId=" + keyId + ", bytes=" + ciphertext.length + "]";
  }
}
