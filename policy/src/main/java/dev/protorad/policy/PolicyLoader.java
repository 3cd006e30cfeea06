package dev.protorad.policy;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.io.InputStream;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.nodes.Node;

/**
 * Reads and validates policy files. The format is described in the module's README; every problem
 * is reported as {@code file:line: message} through {@link PolicyException}.
 */
public final class PolicyLoader {
  /** Class-path resource holding the default policy (the default roles, no principals). */
  public static final String DEFAULT_RESOURCE = "/dev/protorad/policy/default-policy.yaml";

  static final int MAX_FILE_BYTES = 1 << 20;
  private static final Map<String, Set<String>> DEFAULT_ROLES = loadDefaultRoles();

  private PolicyLoader() {}

  /** Loads and validates {@code file}. */
  public static Policy load(Path file) throws PolicyException {
    requireNonNull(file, "file");
    String name = String.valueOf(file.getFileName());
    byte[] bytes;
    try {
      if (Files.size(file) > MAX_FILE_BYTES) {
        throw single(name, "larger than " + MAX_FILE_BYTES + " bytes");
      }
      bytes = Files.readAllBytes(file);
    } catch (IOException e) {
      throw single(name, "cannot read the file (" + e.getClass().getSimpleName() + ")");
    }
    return parse(bytes, name);
  }

  /**
   * Validates policy text.
   *
   * @param sourceName the name used in error messages, for example {@code policy.yaml}
   */
  public static Policy parse(String yaml, String sourceName) throws PolicyException {
    requireNonNull(yaml, "yaml");
    return parse(yaml.getBytes(StandardCharsets.UTF_8), requireNonNull(sourceName, "sourceName"));
  }

  /** The policy shipped as {@link #DEFAULT_RESOURCE}: the default roles and no principals. */
  public static Policy defaults() {
    return parseBundled(DEFAULT_ROLES);
  }

  static Policy parse(byte[] bytes, String sourceName) throws PolicyException {
    return parse(bytes, sourceName, DEFAULT_ROLES);
  }

  private static Policy parse(byte[] bytes, String name, Map<String, Set<String>> defaultRoles)
      throws PolicyException {
    if (bytes.length > MAX_FILE_BYTES) {
      throw single(name, "larger than " + MAX_FILE_BYTES + " bytes");
    }
    Node root = compose(decode(bytes, name), name);
    PolicyParser parser = new PolicyParser(name, defaultRoles);
    Optional<Policy> policy = parser.parse(root, name, sha256Hex(bytes));
    if (policy.isEmpty()) {
      throw new PolicyException(parser.errors());
    }
    return policy.get();
  }

  private static String decode(byte[] bytes, String name) throws PolicyException {
    try {
      return StandardCharsets.UTF_8
          .newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(bytes))
          .toString();
    } catch (CharacterCodingException e) {
      throw single(name, "not UTF-8 text");
    }
  }

  private static Node compose(String text, String name) throws PolicyException {
    LoaderOptions options = new LoaderOptions();
    options.setAllowDuplicateKeys(false);
    options.setMaxAliasesForCollections(10);
    options.setAllowRecursiveKeys(false);
    options.setCodePointLimit(MAX_FILE_BYTES);
    try {
      return new Yaml(options).compose(new StringReader(text));
    } catch (MarkedYAMLException e) {
      // Only the problem and its line: the snippet could echo a secret pasted into the file.
      int line = e.getProblemMark() == null ? 0 : e.getProblemMark().getLine() + 1;
      throw new PolicyException(
          List.of(new PolicyError(name, line, "YAML syntax error: " + e.getProblem())));
    } catch (YAMLException e) {
      throw single(name, "YAML error");
    }
  }

  private static PolicyException single(String name, String message) {
    return new PolicyException(List.of(new PolicyError(name, 0, message)));
  }

  static String sha256Hex(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java platform has SHA-256", e);
    }
  }

  private static byte[] readResource() {
    try (InputStream in = PolicyLoader.class.getResourceAsStream(DEFAULT_RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException("missing resource " + DEFAULT_RESOURCE);
      }
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static Map<String, Set<String>> loadDefaultRoles() {
    Policy policy = parseBundled(Map.of());
    Map<String, Set<String>> roles = new HashMap<>();
    policy.roles().forEach(role -> roles.put(role, policy.permissionsOf(role)));
    return Map.copyOf(roles);
  }

  /** The bundled default policy, which must be valid. */
  private static Policy parseBundled(Map<String, Set<String>> defaultRoles) {
    try {
      return parse(readResource(), "default-policy.yaml", defaultRoles);
    } catch (PolicyException e) {
      throw new IllegalStateException("the bundled default policy is invalid", e);
    }
  }
}
