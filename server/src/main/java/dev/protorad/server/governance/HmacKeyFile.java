package dev.protorad.server.governance;

import dev.protorad.audit.NoteHmac;
import dev.protorad.server.config.KeyFile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
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
    List<KeyFile.Key> lines = KeyFile.read(file);
    lines.forEach(k -> keys.put(k.id(), k.base64()));
    return NoteHmac.ofBase64(keys, lines.get(lines.size() - 1).id());
  }

  private static void create(Path file) throws IOException {
    KeyFile.create(
        file,
        "# Note HMAC keys: id=base64key, the last line is current. Append to rotate.\n",
        "k1",
        NoteHmac.generateKey());
  }
}
