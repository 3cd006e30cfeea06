package dev.protorad.server.adapters;

import static java.util.Objects.requireNonNull;

import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * A reference to an adapter: {@code name@3} (a version), {@code name@production} (an alias) or
 * {@code name} (the {@code production} alias, else the newest active version).
 *
 * @param name the adapter name
 * @param version the version, or 0 when the reference is by alias or name only
 * @param alias the alias, or null
 */
public record AdapterRef(String name, int version, @Nullable String alias) {

  static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9._-]{0,63}");
  static final Pattern ALIAS = Pattern.compile("[a-z][a-z0-9-]{0,31}");

  /** Checks the name, version and alias. */
  public AdapterRef {
    requireName(name);
    if (version < 0) {
      throw new IllegalArgumentException("version: " + version + " (expected: >= 1)");
    }
    if (alias != null) {
      requireAlias(alias);
    }
  }

  /** Parses {@code name}, {@code name@N} or {@code name@alias}. */
  public static AdapterRef parse(String ref) {
    requireNonNull(ref, "ref");
    int at = ref.indexOf('@');
    if (at < 0) {
      return new AdapterRef(ref, 0, null);
    }
    String name = ref.substring(0, at);
    String tail = ref.substring(at + 1);
    if (!tail.isEmpty() && tail.chars().allMatch(Character::isDigit) && tail.length() <= 9) {
      int v = Integer.parseInt(tail);
      if (v < 1) {
        throw new IllegalArgumentException("ref: version " + v + " (expected: >= 1)");
      }
      return new AdapterRef(name, v, null);
    }
    return new AdapterRef(name, 0, tail);
  }

  /** A reference to one version. */
  public static AdapterRef of(String name, int version) {
    if (version < 1) {
      throw new IllegalArgumentException("version: " + version + " (expected: >= 1)");
    }
    return new AdapterRef(name, version, null);
  }

  static void requireName(String name) {
    requireMatch(
        NAME, name, "name", "not a valid adapter name (expected: [a-z0-9][a-z0-9._-]{0,63})");
  }

  /** Checks an alias name, naming the parameter and the expected form. */
  public static void requireAlias(String alias) {
    requireMatch(
        ALIAS,
        alias,
        "alias",
        "not a valid alias (expected: [a-z][a-z0-9-]{0,31}, e.g. production)");
  }

  /** Checks that {@code value} is present and matches {@code pattern}, naming {@code key}. */
  private static void requireMatch(Pattern pattern, String value, String key, String problem) {
    requireNonNull(value, key);
    if (!pattern.matcher(value).matches()) {
      throw new IllegalArgumentException(key + ": " + problem);
    }
  }

  @Override
  public String toString() {
    return name + (version > 0 ? "@" + version : alias != null ? "@" + alias : "");
  }
}
