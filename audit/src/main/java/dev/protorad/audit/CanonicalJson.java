package dev.protorad.audit;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.jspecify.annotations.Nullable;

/**
 * Deterministic JSON: keys sorted, no whitespace, minimal string escapes. Hashes and signatures are
 * computed over these bytes, and stored records must equal them byte for byte.
 */
final class CanonicalJson {

  private final Map<String, Object> fields = new TreeMap<>();

  CanonicalJson put(String key, @Nullable Object value) {
    fields.put(key, value);
    return this;
  }

  String write() {
    StringBuilder out = new StringBuilder(512);
    writeObject(out, fields);
    return out.toString();
  }

  private static void writeObject(StringBuilder out, Map<String, Object> map) {
    out.append('{');
    boolean first = true;
    for (Map.Entry<String, Object> e : map.entrySet()) {
      if (!first) {
        out.append(',');
      }
      first = false;
      writeString(out, e.getKey());
      out.append(':');
      writeValue(out, e.getValue());
    }
    out.append('}');
  }

  private static void writeValue(StringBuilder out, Object value) {
    if (value == null) {
      out.append("null");
    } else if (value instanceof String s) {
      writeString(out, s);
    } else if (value instanceof Long || value instanceof Integer) {
      out.append(value);
    } else if (value instanceof Double d) {
      out.append(Double.toString(d));
    } else if (value instanceof List<?> list) {
      writeList(out, list);
    } else {
      throw new IllegalArgumentException("unsupported JSON value type: " + value.getClass());
    }
  }

  private static void writeList(StringBuilder out, List<?> list) {
    out.append('[');
    for (int i = 0; i < list.size(); i++) {
      if (i > 0) {
        out.append(',');
      }
      writeValue(out, list.get(i));
    }
    out.append(']');
  }

  private static void writeString(StringBuilder out, String s) {
    out.append('"');
    escape(out, s);
    out.append('"');
  }

  /** {@code s} as it appears between the quotes of a string in canonical JSON. */
  static String escaped(String s) {
    StringBuilder out = new StringBuilder(s.length() + 8);
    escape(out, s);
    return out.toString();
  }

  private static void escape(StringBuilder out, String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append("\\t");
        default -> {
          if (c < 0x20) {
            out.append(String.format("\\u%04x", (int) c));
          } else {
            out.append(c);
          }
        }
      }
    }
  }
}
