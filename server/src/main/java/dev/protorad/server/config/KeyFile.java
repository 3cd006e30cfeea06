package dev.protorad.server.config;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;

/**
 * A secret key file of {@code id=base64key} lines, {@code #} comments allowed, the last key
 * current; rotation appends a line. Created owner-only ({@code rw-------}). The note HMAC keys and
 * the note encryption keys are both kept this way. Error messages name the file and line, never a
 * key.
 */
public final class KeyFile {

  /** One line: its key id, its base64 key and its line number (from 1). */
  public record Key(String id, String base64, int line) {}

  private KeyFile() {}

  /**
   * The keys of {@code file} in file order; the last is current.
   *
   * @throws IllegalArgumentException for a malformed line or a file without keys
   */
  public static List<Key> read(Path file) throws IOException {
    List<Key> keys = new ArrayList<>();
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
      keys.add(new Key(line.substring(0, eq).strip(), line.substring(eq + 1).strip(), i + 1));
    }
    if (keys.isEmpty()) {
      throw new IllegalArgumentException(file + ": no keys (expected: id=base64key lines)");
    }
    return keys;
  }

  /** Creates {@code file} owner-only with {@code header} (comment lines) and one key. */
  public static void create(Path file, String header, String id, String base64) throws IOException {
    Files.createDirectories(file.toAbsolutePath().getParent());
    Files.createFile(
        file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    Files.writeString(file, header + id + "=" + base64 + "\n", StandardCharsets.US_ASCII);
  }
}
