package dev.protorad.clinical.catalog;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.jspecify.annotations.Nullable;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.YAMLException;

/**
 * The closed protocol catalog and its rules, validated at load.
 *
 * <p>Invariants checked when loading: every protocol has an id, name, modality, region and a
 * contrast value from {@link Contrast}; ids and names are unique; every id in a rule's {@code
 * prefer} or {@code avoid} list names a protocol. Violations raise {@link CatalogException} naming
 * the entry.
 */
public final class Catalog {

  /** Classpath location of the project's copy of the catalog. */
  public static final String RESOURCE = "/dev/protorad/clinical/catalog/protocols.yaml";

  private final Map<String, Protocol> byId;
  private final List<Rule> rules;

  private Catalog(Map<String, Protocol> byId, List<Rule> rules) {
    this.byId = byId;
    this.rules = rules;
  }

  /** Loads the catalog bundled on the classpath ({@link #RESOURCE}). */
  public static Catalog loadDefault() {
    try (InputStream in = Catalog.class.getResourceAsStream(RESOURCE)) {
      if (in == null) {
        throw new CatalogException("catalog resource not found: " + RESOURCE);
      }
      return parse(new String(in.readAllBytes(), StandardCharsets.UTF_8), RESOURCE);
    } catch (IOException e) {
      throw new UncheckedIOException("reading " + RESOURCE, e);
    }
  }

  /** Loads a catalog file. */
  public static Catalog load(Path file) {
    requireNonNull(file, "file");
    try {
      return parse(Files.readString(file, StandardCharsets.UTF_8), file.toString());
    } catch (IOException e) {
      throw new UncheckedIOException("reading catalog " + file, e);
    }
  }

  /**
   * Parses catalog YAML.
   *
   * @param yaml the document
   * @param source where it came from, used in error messages
   */
  public static Catalog parse(String yaml, String source) {
    requireNonNull(yaml, "yaml");
    requireNonNull(source, "source");
    Object root;
    try {
      root = new Yaml(new SafeConstructor(new LoaderOptions())).load(yaml);
    } catch (YAMLException e) {
      throw new CatalogException(source + ": not valid YAML", e);
    }
    if (!(root instanceof Map<?, ?> top)) {
      throw new CatalogException(source + ": expected a mapping with 'protocols' and 'rules'");
    }
    Map<String, Protocol> byId = readProtocols(top.get("protocols"), source);
    List<Rule> rules = readRules(top.get("rules"), source, byId);
    return new Catalog(byId, rules);
  }

  /** All protocols in catalog order. */
  public List<Protocol> protocols() {
    return List.copyOf(byId.values());
  }

  /** All protocol ids in catalog order. */
  public List<String> ids() {
    return List.copyOf(byId.keySet());
  }

  /** The rules in catalog order. */
  public List<Rule> rules() {
    return rules;
  }

  /** The protocol with this id, if any. */
  public Optional<Protocol> find(String id) {
    return Optional.ofNullable(byId.get(requireNonNull(id, "id")));
  }

  /**
   * The protocol with this id.
   *
   * @throws IllegalArgumentException when no protocol has this id
   */
  public Protocol get(String id) {
    return find(id)
        .orElseThrow(
            () -> new IllegalArgumentException("id: " + id + " (expected a catalog protocol id)"));
  }

  /** Whether a protocol has this id. */
  public boolean contains(String id) {
    return byId.containsKey(requireNonNull(id, "id"));
  }

  /** Number of protocols. */
  public int size() {
    return byId.size();
  }

  private static Map<String, Protocol> readProtocols(@Nullable Object node, String source) {
    if (!(node instanceof List<?> list) || list.isEmpty()) {
      throw new CatalogException(source + ": 'protocols' must be a non-empty list");
    }
    Map<String, Protocol> byId = new LinkedHashMap<>();
    Set<String> names = new HashSet<>();
    for (int i = 0; i < list.size(); i++) {
      Protocol p = readProtocol(list.get(i), source + ": protocols[" + i + "]");
      if (byId.putIfAbsent(p.id(), p) != null) {
        throw new CatalogException(source + ": duplicate protocol id '" + p.id() + "'");
      }
      if (!names.add(p.name())) {
        throw new CatalogException(
            source + ": duplicate protocol name '" + p.name() + "' (id '" + p.id() + "')");
      }
    }
    return byId;
  }

  private static Protocol readProtocol(Object node, String where) {
    if (!(node instanceof Map<?, ?> m)) {
      throw new CatalogException(where + ": expected a mapping");
    }
    String id = text(m, "id", where);
    String entry = where + " (id '" + id + "')";
    try {
      return new Protocol(
          id,
          text(m, "name", entry),
          Modality.fromYaml(text(m, "modality", entry)),
          text(m, "region", entry),
          Contrast.fromYaml(text(m, "contrast", entry)),
          strings(m.get("indications"), "indications", entry));
    } catch (IllegalArgumentException e) {
      throw new CatalogException(entry + ": " + e.getMessage(), e);
    }
  }

  private static List<Rule> readRules(
      @Nullable Object node, String source, Map<String, Protocol> byId) {
    if (node == null) {
      return List.of();
    }
    if (!(node instanceof List<?> list)) {
      throw new CatalogException(source + ": 'rules' must be a list");
    }
    List<Rule> rules = new ArrayList<>();
    for (int i = 0; i < list.size(); i++) {
      String where = source + ": rules[" + i + "]";
      if (!(list.get(i) instanceof Map<?, ?> m)) {
        throw new CatalogException(where + ": expected a mapping");
      }
      Rule rule =
          new Rule(
              text(m, "when", where),
              strings(m.get("prefer"), "prefer", where),
              strings(m.get("avoid"), "avoid", where),
              m.get("why") == null ? "" : m.get("why").toString().trim());
      checkKnown(rule.prefer(), "prefer", where, byId);
      checkKnown(rule.avoid(), "avoid", where, byId);
      rules.add(rule);
    }
    return List.copyOf(rules);
  }

  private static void checkKnown(
      List<String> ids, String field, String where, Map<String, Protocol> byId) {
    for (String id : ids) {
      if (!byId.containsKey(id)) {
        throw new CatalogException(
            where + ": " + field + " names unknown protocol id '" + id + "'");
      }
    }
  }

  private static String text(Map<?, ?> m, String key, String where) {
    Object v = m.get(key);
    if (v == null || v.toString().isBlank()) {
      throw new CatalogException(where + ": missing '" + key + "'");
    }
    return v.toString().trim();
  }

  private static List<String> strings(@Nullable Object v, String key, String where) {
    if (v == null) {
      return List.of();
    }
    if (!(v instanceof List<?> list)) {
      throw new CatalogException(where + ": '" + key + "' must be a list");
    }
    List<String> out = new ArrayList<>();
    for (Object o : list) {
      out.add(String.valueOf(o).trim());
    }
    return out;
  }
}
