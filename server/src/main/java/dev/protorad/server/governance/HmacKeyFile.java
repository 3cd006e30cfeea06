package dev.protorad.server.governance;

import dev.protorad.audit.NoteHmac;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The note HMAC key file: one {@code id=base64key} per line, {@code #} comments allowed, the last
 * key current. Rotation appends a line; older keys stay so old digests still verify.
 */
final class HmacKeyFile {

  private HmacKeyFile() {}

  static NoteHmac loadOrCreate(Path file) throws IOException {
    if (!Files.exists(file)) {
      create(file);
    }
    return load(file);
  }

  static NoteHmac load(Path file) throws IOException {
    Map<String, String> keys = new LinkedHashMap<>();
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
      keys.put(current, line.substring(eq + 1).strip());
    }
    if (current == null) {
      throw new IllegalArgumentException(file + ": no keys (expected: id=base64key lines)");
    }
    return NoteHmac.ofBase64(keys, current);
  }

  private static void create(Path file) throws IOException {
    Files.createDirectories(file.toAbsolutePath().getParent());
    String text =
        "# Note HMAC keys: id=base64key, the last line is current. Append to rotate.\n"
            + "k1="
            + NoteHmac.generateKey()
            + "\n";
    Files.createFile(
        file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    Files.writeString(file, text, StandardCharsets.US_ASCII);
  }
}
