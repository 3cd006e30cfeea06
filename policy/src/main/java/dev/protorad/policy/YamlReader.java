package dev.protorad.policy;

import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;
import org.yaml.snakeyaml.nodes.Tag;

/**
 * Reads a composed YAML node tree and collects every problem with its line, so that a policy file
 * reports all its errors at once. Values are read from nodes, never constructed as Java objects.
 */
final class YamlReader {
  private static final Pattern SHORT_DURATION = Pattern.compile("(\\d{1,6})(s|m|h)");

  private final String source;
  private final List<PolicyError> errors = new ArrayList<>();

  YamlReader(String source) {
    this.source = source;
  }

  /** A key of a mapping with the node that holds its value. */
  record Entry(String key, Node keyNode, Node value) {}

  List<PolicyError> errors() {
    return errors;
  }

  void error(Node node, String message) {
    errors.add(new PolicyError(source, line(node), message));
  }

  void error(int line, String message) {
    errors.add(new PolicyError(source, line, message));
  }

  static int line(Node node) {
    return node.getStartMark().getLine() + 1;
  }

  static boolean isNull(Node node) {
    return node == null || (node instanceof ScalarNode && Tag.NULL.equals(node.getTag()));
  }

  /** Entries of a mapping with scalar keys, reporting duplicates; empty if not a mapping. */
  List<Entry> entries(Node node, String what) {
    if (!(node instanceof MappingNode mapping)) {
      error(node, what + " must be a mapping");
      return List.of();
    }
    List<Entry> entries = new ArrayList<>();
    Map<String, Node> seen = new HashMap<>();
    for (NodeTuple tuple : mapping.getValue()) {
      Node keyNode = tuple.getKeyNode();
      if (!(keyNode instanceof ScalarNode scalar) || isNull(keyNode)) {
        error(keyNode, what + ": keys must be plain strings");
        continue;
      }
      Node first = seen.putIfAbsent(scalar.getValue(), keyNode);
      if (first != null) {
        error(
            keyNode,
            "duplicate key '" + scalar.getValue() + "' (first on line " + line(first) + ")");
        continue;
      }
      entries.add(new Entry(scalar.getValue(), keyNode, tuple.getValueNode()));
    }
    return entries;
  }

  /** Fields of a mapping, reporting keys not in {@code allowed}. */
  Map<String, Entry> fields(Node node, String what, Set<String> allowed) {
    Map<String, Entry> fields = new LinkedHashMap<>();
    for (Entry entry : entries(node, what)) {
      if (allowed.contains(entry.key())) {
        fields.put(entry.key(), entry);
      } else {
        error(
            entry.keyNode(),
            "unknown key '"
                + entry.key()
                + "' in "
                + what
                + " (expected one of "
                + sorted(allowed)
                + ")");
      }
    }
    return fields;
  }

  /** The string value of a required scalar field. */
  Optional<String> requiredString(Node parent, Map<String, Entry> fields, String key, String what) {
    if (present(fields, key).isEmpty()) {
      error(keyNodeOr(parent, fields.get(key)), what + ": '" + key + "' is required");
    }
    return optionalString(fields, key, what);
  }

  /** The string value of an optional scalar field. */
  Optional<String> optionalString(Map<String, Entry> fields, String key, String what) {
    return present(fields, key).flatMap(entry -> string(entry.value(), what + "." + key));
  }

  Optional<String> string(Node node, String what) {
    if (node instanceof ScalarNode scalar && !isNull(node)) {
      return Optional.of(scalar.getValue());
    }
    error(node, what + " must be a string");
    return Optional.empty();
  }

  /** The items of a sequence; an absent or null field is an empty list. */
  List<Node> sequence(@Nullable Entry entry, String what) {
    return entry == null || isNull(entry.value()) ? List.of() : items(entry.value(), what);
  }

  /** The items of a sequence node, reporting any other node. */
  private List<Node> items(Node node, String what) {
    if (node instanceof SequenceNode sequence) {
      return sequence.getValue();
    }
    error(node, what + " must be a list");
    return List.of();
  }

  /** A duration written as ISO-8601 ({@code PT30M}) or shortly ({@code 30m}, {@code 45s}). */
  Optional<Duration> duration(Map<String, Entry> fields, String key, String what) {
    Entry entry = fields.get(key);
    if (entry == null || isNull(entry.value())) {
      return Optional.empty();
    }
    Optional<String> text = string(entry.value(), what + "." + key);
    if (text.isEmpty()) {
      return Optional.empty();
    }
    Optional<Duration> parsed = parseDuration(text.get());
    if (parsed.isEmpty()) {
      error(
          entry.value(),
          what
              + "."
              + key
              + ": '"
              + text.get()
              + "' is not a duration (expected e.g. 30m or PT30M)");
    }
    return parsed;
  }

  static Optional<Duration> parseDuration(String text) {
    Matcher shortForm = SHORT_DURATION.matcher(text);
    if (shortForm.matches()) {
      long amount = Long.parseLong(shortForm.group(1));
      return Optional.of(
          switch (shortForm.group(2)) {
            case "s" -> Duration.ofSeconds(amount);
            case "m" -> Duration.ofMinutes(amount);
            default -> Duration.ofHours(amount);
          });
    }
    try {
      return Optional.of(Duration.parse(text));
    } catch (DateTimeParseException e) {
      return Optional.empty();
    }
  }

  /** A YAML subtree of scalars, lists and mappings as plain Java values (strings for scalars). */
  Optional<Object> plainValue(Node node, String what) {
    if (node instanceof ScalarNode scalar) {
      return Optional.of(scalar.getValue());
    }
    if (node instanceof SequenceNode sequence) {
      List<Object> list = new ArrayList<>();
      for (Node item : sequence.getValue()) {
        plainValue(item, what).ifPresent(list::add);
      }
      return Optional.of(list);
    }
    Map<String, Object> map = new LinkedHashMap<>();
    for (Entry entry : entries(node, what)) {
      plainValue(entry.value(), what).ifPresent(value -> map.put(entry.key(), value));
    }
    return Optional.of(map);
  }

  /** The field {@code key} when it is there with a non-null value. */
  private static Optional<Entry> present(Map<String, Entry> fields, String key) {
    return Optional.ofNullable(fields.get(key)).filter(entry -> !isNull(entry.value()));
  }

  /** Where to report a missing field: its key when written (with a null value), else its parent. */
  private static Node keyNodeOr(Node parent, @Nullable Entry entry) {
    return entry == null ? parent : entry.keyNode();
  }

  private static String sorted(Set<String> keys) {
    return String.join(", ", new TreeSet<>(keys));
  }
}
