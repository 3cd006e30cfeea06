package dev.protorad.training.data;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The paraphrase lexicon: clinical reasons per protocol id, read from {@code indications.txt}. */
final class Lexicon {

  /** A paraphrase; {@code tag} is empty, a scenario tag such as {@code appy}, or {@code x}. */
  record Phrase(String tag, String text) {
    boolean exclusive() {
      return tag.equals("x");
    }
  }

  private static final String RESOURCE = "/dev/protorad/training/data/indications.txt";

  private final Map<String, List<Phrase>> byId;

  private Lexicon(Map<String, List<Phrase>> byId) {
    this.byId = byId;
  }

  static Lexicon loadDefault() {
    try (InputStream in = Lexicon.class.getResourceAsStream(RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException("lexicon resource not found: " + RESOURCE);
      }
      return parse(new String(in.readAllBytes(), StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException("reading " + RESOURCE, e);
    }
  }

  static Lexicon parse(String text) {
    Map<String, List<Phrase>> byId = new LinkedHashMap<>();
    List<Phrase> current = null;
    for (String raw : text.lines().toList()) {
      String line = raw.strip();
      if (line.isEmpty() || line.startsWith("#")) {
        continue;
      }
      if (line.startsWith("[") && line.endsWith("]")) {
        current =
            byId.computeIfAbsent(line.substring(1, line.length() - 1), k -> new ArrayList<>());
      } else if (current == null) {
        throw new IllegalStateException("lexicon: phrase before the first [id] header");
      } else {
        current.add(phrase(line));
      }
    }
    return new Lexicon(byId);
  }

  private static Phrase phrase(String line) {
    if (!line.startsWith("@")) {
      return new Phrase("", line);
    }
    int space = line.indexOf(' ');
    return new Phrase(line.substring(1, space), line.substring(space + 1).strip());
  }

  List<Phrase> phrases(String id) {
    return byId.getOrDefault(id, List.of());
  }

  Iterable<String> ids() {
    return byId.keySet();
  }
}
