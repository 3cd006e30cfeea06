package dev.protorad.server.serving;

import dev.protorad.server.config.KeyFile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The note encryption key file ({@code predictions.note_key_file}): one {@code id=base64key} per
 * line (256-bit AES keys), {@code #} comments allowed, the last key current. Rotation appends a
 * line; older lines must stay while notes they sealed are kept. Created owner-only ({@code
 * rw-------}) with one key when missing, like the note HMAC key file.
 */
public final class NoteKeyFile {

  private NoteKeyFile() {}

  /** Loads the vault from {@code file}, first creating the file with one fresh key if missing. */
  public static NoteVault loadOrCreate(Path file, SecureRandom random) throws IOException {
    if (!Files.exists(file)) {
      create(file, random);
    }
    return load(file, random);
  }

  /**
   * Loads the vault from an existing {@code file}.
   *
   * @throws IllegalArgumentException when a line is malformed; the message names the line, never
   *     the key
   */
  public static NoteVault load(Path file, SecureRandom random) throws IOException {
    Map<String, byte[]> keys = new LinkedHashMap<>();
    List<KeyFile.Key> lines = KeyFile.read(file);
    lines.forEach(k -> keys.put(k.id(), decode(file, k.line(), k.base64())));
    return NoteVault.of(keys, lines.get(lines.size() - 1).id(), random);
  }

  private static byte[] decode(Path file, int line, String base64) {
    try {
      return Base64.getDecoder().decode(base64);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(file + ":" + line + ": key is not base64 (not shown)");
    }
  }

  private static void create(Path file, SecureRandom random) throws IOException {
    byte[] key = new byte[NoteVault.KEY_BYTES];
    random.nextBytes(key);
    KeyFile.create(
        file,
        """
        # ProtoRad note keys (AES-256-GCM): id=base64key, the last line is current.
        # Append a line to rotate; keep old lines while notes they sealed are kept.
        """,
        "n1",
        Base64.getEncoder().encodeToString(key));
  }
}
