package dev.protorad.server.serving;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
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
    String current = null;
    List<String> lines = Files.readAllLines(file, StandardCharsets.US_ASCII);
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i).strip();
      if (line.isEmpty() || line.startsWith("#")) {
        continue;
      }
      int eq = line.indexOf('=');
      if (eq <= 0) {
        throw new IllegalArgumentException(
            file + ":" + (i + 1) + ": expected id=base64key (key not shown)");
      }
      current = line.substring(0, eq).strip();
      keys.put(current, decode(file, i + 1, line.substring(eq + 1).strip()));
    }
    if (current == null) {
      throw new IllegalArgumentException(file + ": no keys (expected: id=base64key lines)");
    }
    return NoteVault.of(keys, current, random);
  }

  private static byte[] decode(Path file, int line, String base64) {
    try {
      return Base64.getDecoder().decode(base64);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(file + ":" + line + ": key is not base64 (not shown)");
    }
  }

  private static void create(Path file, SecureRandom random) throws IOException {
    Files.createDirectories(file.toAbsolutePath().getParent());
    byte[] key = new byte[NoteVault.KEY_BYTES];
    random.nextBytes(key);
    String text =
        "# Prediction note keys (AES-256-GCM): id=base64key, the last line is current.\n"
            + "# Append a line to rotate; keep old lines while notes they sealed are kept.\n"
            + "n1="
            + Base64.getEncoder().encodeToString(key)
            + "\n";
    Files.createFile(
        file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    Files.writeString(file, text, StandardCharsets.US_ASCII);
  }
}
