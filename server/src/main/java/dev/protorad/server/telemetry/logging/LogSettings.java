package dev.protorad.server.telemetry.logging;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import org.jspecify.annotations.Nullable;
import org.slf4j.event.Level;

/**
 * Levels and format of the server's logs: {@code level} and {@code level.<logger prefix>} from
 * {@code protorad-logging.properties} on the class path, the format from {@code
 * PROTORAD_LOG_FORMAT} ({@code text}, the default, or {@code json}).
 *
 * @param json whether each event is a JSON object
 * @param defaultLevel the least severe level logged unless a prefix says otherwise
 * @param byPrefix levels by logger-name prefix; the longest matching prefix wins
 */
record LogSettings(boolean json, Level defaultLevel, Map<String, Level> byPrefix) {

  static final String RESOURCE = "protorad-logging.properties";

  /** The settings of this process. */
  static LogSettings load() {
    return of(bundled(), System.getenv("PROTORAD_LOG_FORMAT"));
  }

  /** The properties of {@link #RESOURCE}; none when the class path has no such resource. */
  private static Properties bundled() {
    Properties p = new Properties();
    try (InputStream in = LogSettings.class.getClassLoader().getResourceAsStream(RESOURCE)) {
      if (in != null) {
        p.load(in);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return p;
  }

  static LogSettings of(Properties p, @Nullable String format) {
    Map<String, Level> byPrefix = byPrefix(p);
    return new LogSettings(
        "json".equalsIgnoreCase(format), level(p.getProperty("level", "info")), byPrefix);
  }

  /** The {@code level.<prefix>} properties, by prefix. */
  private static Map<String, Level> byPrefix(Properties p) {
    Map<String, Level> byPrefix = new TreeMap<>();
    for (String key : p.stringPropertyNames()) {
      if (key.startsWith("level.")) {
        byPrefix.put(key.substring("level.".length()), level(p.getProperty(key)));
      }
    }
    return byPrefix;
  }

  /** The level for the logger {@code name}. */
  Level levelOf(String name) {
    Level found = defaultLevel;
    int longest = -1;
    for (var e : byPrefix.entrySet()) {
      String prefix = e.getKey();
      boolean matches = name.equals(prefix) || name.startsWith(prefix + ".");
      if (matches && prefix.length() > longest) {
        found = e.getValue();
        longest = prefix.length();
      }
    }
    return found;
  }

  private static Level level(String name) {
    return Level.valueOf(name.trim().toUpperCase(Locale.ROOT));
  }
}
