package dev.protorad.policy;

import static java.util.Objects.requireNonNull;

import dev.protorad.policy.YamlReader.Entry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import javax.security.auth.x500.X500Principal;
import org.apache.shiro.authz.permission.WildcardPermission;
import org.jspecify.annotations.Nullable;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;

/**
 * Validates a composed policy tree and builds a {@link Policy}, collecting every error with its
 * line. One instance parses one file.
 */
final class PolicyParser {
  static final int SUPPORTED_VERSION = 1;
  private static final Pattern ROLE_NAME = Pattern.compile("[a-z][a-z0-9-]{0,63}");
  private static final Pattern PRINCIPAL_ID = Pattern.compile("[a-z0-9][a-z0-9._@-]{0,127}");
  private static final Set<String> ROOT_KEYS =
      Set.of("version", "roles", "principals", "breakGlass");
  private static final Set<String> PRINCIPAL_KEYS =
      Set.of("id", "kind", "roles", "apiKeyHashes", "certificates", "gateway");
  private static final Set<String> CERTIFICATE_KEYS = Set.of("subjects", "sans");
  private static final Set<String> GATEWAY_KEYS =
      Set.of(
          "issuer",
          "audience",
          "keys",
          "assertableRoles",
          "maxTokenLifetime",
          "clockSkew",
          "rolesClaim");
  private static final Set<String> KEY_KEYS = Set.of("pem", "jwk", "kid");
  private static final Set<String> BREAK_GLASS_KEYS = Set.of("maxDuration", "maxReasonLength");

  private final YamlReader yaml;
  private final Map<String, Set<String>> defaultRoles;
  private final Map<String, Node> seenKeyHashes = new HashMap<>();
  private final Map<String, Node> seenSubjects = new HashMap<>();
  private final Map<SubjectAltName, Node> seenSans = new HashMap<>();
  private Map<String, Set<String>> roles = Map.of();

  PolicyParser(String source, Map<String, Set<String>> defaultRoles) {
    this.yaml = new YamlReader(source);
    this.defaultRoles = defaultRoles;
  }

  /** Every problem found, ordered by line (stable for problems on the same line). */
  List<PolicyError> errors() {
    return yaml.errors().stream().sorted(Comparator.comparingInt(PolicyError::line)).toList();
  }

  /** The policy, or empty when {@link #errors()} is not empty. */
  Optional<Policy> parse(Node root, String source, String digest) {
    if (YamlReader.isNull(root)) {
      yaml.error(0, "the policy is empty");
      return Optional.empty();
    }
    Map<String, Entry> fields = yaml.fields(root, "the policy", ROOT_KEYS);
    checkVersion(root, fields);
    Entry rolesEntry = fields.get("roles");
    roles = rolesEntry == null ? defaultRoles : roles(rolesEntry.value());
    List<PolicyPrincipal> principals = principals(fields.get("principals"));
    BreakGlassSettings breakGlass = breakGlass(fields.get("breakGlass"));
    if (!yaml.errors().isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(new Policy(source, digest, roles, principals, breakGlass));
  }

  private void checkVersion(Node root, Map<String, Entry> fields) {
    yaml.requiredString(root, fields, "version", "the policy")
        .filter(v -> !v.equals(String.valueOf(SUPPORTED_VERSION)))
        .ifPresent(
            v ->
                yaml.error(
                    valueAt(fields, "version"),
                    "version: " + v + " (expected: " + SUPPORTED_VERSION + ")"));
  }

  private Map<String, Set<String>> roles(Node node) {
    Map<String, Set<String>> result = new LinkedHashMap<>();
    for (Entry entry : yaml.entries(node, "roles")) {
      if (!ROLE_NAME.matcher(entry.key()).matches()) {
        yaml.error(
            entry.keyNode(),
            "role name '" + entry.key() + "' is invalid (expected [a-z][a-z0-9-]*)");
      }
      Set<String> permissions = new LinkedHashSet<>();
      for (Node item : yaml.sequence(entry, "roles." + entry.key())) {
        yaml.string(item, "a permission").ifPresent(p -> addPermission(item, p, permissions));
      }
      result.put(entry.key(), permissions);
    }
    return result;
  }

  private void addPermission(Node node, String permission, Set<String> permissions) {
    if (!Permissions.isWellFormed(permission)) {
      yaml.error(
          node,
          "bad permission '" + permission + "' (expected domain:action[:instance], lower case)");
    } else if (!permissions.add(permission)) {
      yaml.error(node, "permission '" + permission + "' is listed twice");
    }
  }

  private List<PolicyPrincipal> principals(@Nullable Entry entry) {
    Map<String, PolicyPrincipal> byId = new LinkedHashMap<>();
    Map<String, Node> seenIds = new HashMap<>();
    for (Node node : yaml.sequence(entry, "principals")) {
      principal(node).ifPresent(p -> addPrincipal(seenIds, p.id(), node, byId, p));
    }
    return List.copyOf(byId.values());
  }

  private void addPrincipal(
      Map<String, Node> seenIds,
      String id,
      Node node,
      Map<String, PolicyPrincipal> byId,
      PolicyPrincipal principal) {
    Node first = seenIds.putIfAbsent(id, node);
    if (first != null) {
      yaml.error(
          node, "duplicate principal '" + id + "' (first on line " + YamlReader.line(first) + ")");
    } else {
      byId.put(id, principal);
    }
  }

  private Optional<PolicyPrincipal> principal(Node node) {
    if (!(node instanceof MappingNode)) {
      yaml.error(node, "a principal must be a mapping");
      return Optional.empty();
    }
    Map<String, Entry> fields = yaml.fields(node, "a principal", PRINCIPAL_KEYS);
    Optional<String> id = yaml.requiredString(node, fields, "id", "a principal");
    id.filter(v -> !PRINCIPAL_ID.matcher(v).matches())
        .ifPresent(
            v ->
                yaml.error(
                    valueAt(fields, "id"),
                    "principal id '" + v + "' is invalid (expected [a-z0-9][a-z0-9._@-]*)"));
    String what = "principal " + id.orElse("?");
    Optional<PrincipalKind> kind = kind(node, fields, what);
    Set<String> principalRoles = roleRefs(fields.get("roles"), what + ".roles");
    List<byte[]> hashes = keyHashes(fields.get("apiKeyHashes"), what);
    Set<String> subjects = new LinkedHashSet<>();
    Set<SubjectAltName> sans = new LinkedHashSet<>();
    certificates(fields.get("certificates"), what, subjects, sans);
    GatewaySettings gateway = gatewayOf(node, fields, kind, what);
    if (id.isEmpty() || kind.isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(
        new PolicyPrincipal(id.get(), kind.get(), principalRoles, hashes, subjects, sans, gateway));
  }

  private Optional<PrincipalKind> kind(Node node, Map<String, Entry> fields, String what) {
    return yaml.requiredString(node, fields, "kind", what)
        .flatMap(text -> kindNamed(valueAt(fields, "kind"), text, what));
  }

  private Optional<PrincipalKind> kindNamed(Node node, String text, String what) {
    Optional<PrincipalKind> kind = PrincipalKind.fromYaml(text);
    if (kind.isEmpty()) {
      yaml.error(
          node, what + ": kind '" + text + "' is invalid (expected service, gateway or user)");
    }
    return kind;
  }

  private Set<String> roleRefs(@Nullable Entry entry, String what) {
    Set<String> refs = new LinkedHashSet<>();
    for (Node item : yaml.sequence(entry, what)) {
      yaml.string(item, what)
          .ifPresent(
              role -> {
                if (!roles.containsKey(role)) {
                  yaml.error(item, what + ": unknown role '" + role + "'");
                } else {
                  refs.add(role);
                }
              });
    }
    return refs;
  }

  private List<byte[]> keyHashes(@Nullable Entry entry, String what) {
    List<byte[]> hashes = new ArrayList<>();
    for (Node item : yaml.sequence(entry, what + ".apiKeyHashes")) {
      Optional<String> text = yaml.string(item, what + ".apiKeyHashes");
      if (text.isEmpty()) {
        continue;
      }
      if (!ApiKeys.isWellFormedHash(text.get())) {
        // The value is not echoed: it may be a raw key pasted by mistake.
        yaml.error(
            item,
            what + ": malformed API key hash (expected sha256:<64 lower-case hex>; never the key)");
        continue;
      }
      Node first = seenKeyHashes.putIfAbsent(text.get(), item);
      if (first != null) {
        yaml.error(
            item, what + ": duplicate API key hash (first on line " + YamlReader.line(first) + ")");
        continue;
      }
      hashes.add(ApiKeys.hashBytes(text.get()));
    }
    return hashes;
  }

  private void certificates(
      @Nullable Entry entry, String what, Set<String> subjects, Set<SubjectAltName> sans) {
    if (entry == null || YamlReader.isNull(entry.value())) {
      return;
    }
    Map<String, Entry> fields =
        yaml.fields(entry.value(), what + ".certificates", CERTIFICATE_KEYS);
    for (Node item : yaml.sequence(fields.get("subjects"), what + ".certificates.subjects")) {
      yaml.string(item, "a subject")
          .flatMap(dn -> canonicalDn(item, dn, what))
          .ifPresent(dn -> addUnique(seenSubjects, dn, item, subjects, what + ": subject"));
    }
    for (Node item : yaml.sequence(fields.get("sans"), what + ".certificates.sans")) {
      yaml.string(item, "a SAN")
          .flatMap(text -> san(item, text, what))
          .ifPresent(san -> addUnique(seenSans, san, item, sans, what + ": SAN"));
    }
  }

  private Optional<String> canonicalDn(Node node, String dn, String what) {
    try {
      return Optional.of(new X500Principal(dn).getName(X500Principal.CANONICAL));
    } catch (IllegalArgumentException e) {
      yaml.error(node, what + ": '" + dn + "' is not an X.500 distinguished name");
      return Optional.empty();
    }
  }

  private Optional<SubjectAltName> san(Node node, String text, String what) {
    Optional<SubjectAltName> san = SubjectAltName.parse(text);
    if (san.isEmpty()) {
      yaml.error(node, what + ": SAN '" + text + "' is invalid (expected dns:, uri: or email:)");
    }
    return san;
  }

  private <T> void addUnique(Map<T, Node> seen, T value, Node node, Set<T> target, String what) {
    Node first = seen.putIfAbsent(value, node);
    if (first != null) {
      yaml.error(node, what + " is already mapped (first on line " + YamlReader.line(first) + ")");
    } else {
      target.add(value);
    }
  }

  private @Nullable GatewaySettings gatewayOf(
      Node node, Map<String, Entry> fields, Optional<PrincipalKind> kind, String what) {
    Entry entry = fields.get("gateway");
    boolean isGateway = kind.filter(PrincipalKind.GATEWAY::equals).isPresent();
    if (entry == null) {
      if (isGateway) {
        yaml.error(node, what + ": a principal of kind gateway needs a 'gateway' block");
      }
      return null;
    }
    if (kind.isPresent() && !isGateway) {
      yaml.error(entry.keyNode(), what + ": only a principal of kind gateway may have 'gateway'");
    }
    return gateway(entry.value(), entry.keyNode(), what + ".gateway");
  }

  private GatewaySettings gateway(Node node, Node anchor, String what) {
    Map<String, Entry> fields = yaml.fields(node, what, GATEWAY_KEYS);
    String issuer = yaml.requiredString(anchor, fields, "issuer", what).orElse("");
    String audience = yaml.requiredString(anchor, fields, "audience", what).orElse("");
    List<GatewayKey> keys = gatewayKeys(anchor, fields.get("keys"), what);
    Set<String> assertable = assertableRoles(fields.get("assertableRoles"), what);
    Duration lifetime =
        bounded(
            fields,
            "maxTokenLifetime",
            what,
            GatewaySettings.DEFAULT_MAX_TOKEN_LIFETIME,
            Duration.ofSeconds(1),
            GatewaySettings.MAX_MAX_TOKEN_LIFETIME);
    Duration skew =
        bounded(
            fields,
            "clockSkew",
            what,
            GatewaySettings.DEFAULT_CLOCK_SKEW,
            Duration.ZERO,
            GatewaySettings.MAX_CLOCK_SKEW);
    String rolesClaim =
        yaml.optionalString(fields, "rolesClaim", what).orElse(GatewaySettings.DEFAULT_ROLES_CLAIM);
    return new GatewaySettings(issuer, audience, keys, assertable, lifetime, skew, rolesClaim);
  }

  private List<GatewayKey> gatewayKeys(Node parent, @Nullable Entry entry, String what) {
    List<Node> items = yaml.sequence(entry, what + ".keys");
    if (items.isEmpty()) {
      yaml.error(entry == null ? parent : entry.keyNode(), what + ": at least one key is required");
    }
    List<GatewayKey> keys = new ArrayList<>();
    for (Node item : items) {
      gatewayKey(item, what + ".keys").ifPresent(keys::add);
    }
    return keys;
  }

  private Optional<GatewayKey> gatewayKey(Node node, String what) {
    Map<String, Entry> fields = yaml.fields(node, "a key", KEY_KEYS);
    Entry pem = fields.get("pem");
    Entry jwk = fields.get("jwk");
    if ((pem == null) == (jwk == null)) {
      yaml.error(node, what + ": each key needs exactly one of 'pem' or 'jwk'");
      return Optional.empty();
    }
    try {
      if (pem != null) {
        Optional<String> kid = yaml.optionalString(fields, "kid", what);
        Optional<String> text = yaml.string(pem.value(), what + ".pem");
        return text.isEmpty()
            ? Optional.empty()
            : Optional.of(GatewayKey.fromPem(text.get(), kid.orElse(null)));
      }
      if (fields.containsKey("kid")) {
        yaml.error(fields.get("kid").keyNode(), what + ": put 'kid' inside the JWK");
      }
      return jwkKey(jwk.value(), what);
    } catch (GatewayKey.KeyException e) {
      yaml.error((pem != null ? pem : jwk).value(), what + ": " + e.getMessage());
      return Optional.empty();
    }
  }

  @SuppressWarnings("unchecked")
  private Optional<GatewayKey> jwkKey(Node node, String what) throws GatewayKey.KeyException {
    Optional<Object> value = yaml.plainValue(node, what + ".jwk");
    if (value.isEmpty() || !(value.get() instanceof Map<?, ?>)) {
      yaml.error(node, what + ": 'jwk' must be a mapping (a JWK object)");
      return Optional.empty();
    }
    return Optional.of(GatewayKey.fromJwk((Map<String, Object>) value.get()));
  }

  private Set<String> assertableRoles(@Nullable Entry entry, String what) {
    Set<String> assertable = roleRefs(entry, what + ".assertableRoles");
    for (String role : assertable) {
      if (roles.getOrDefault(role, Set.of()).stream()
          .anyMatch(p -> implies(p, Permissions.IDENTITY_ASSERT))) {
        yaml.error(
            requireNonNull(entry, "assertableRoles").keyNode(),
            what + ": role '" + role + "' grants identity:assert and cannot be asserted");
      }
    }
    return assertable;
  }

  private static boolean implies(String granted, String permission) {
    return new WildcardPermission(granted, true).implies(new WildcardPermission(permission, true));
  }

  private Duration bounded(
      Map<String, Entry> fields,
      String key,
      String what,
      Duration dflt,
      Duration min,
      Duration max) {
    Duration value = yaml.duration(fields, key, what).orElse(dflt);
    if (value.compareTo(min) < 0 || value.compareTo(max) > 0) {
      yaml.error(
          valueAt(fields, key),
          what + "." + key + ": " + value + " (expected: " + min + ".." + max + ")");
      return dflt;
    }
    return value;
  }

  private BreakGlassSettings breakGlass(@Nullable Entry entry) {
    if (entry == null || YamlReader.isNull(entry.value())) {
      return BreakGlassSettings.DEFAULTS;
    }
    Map<String, Entry> fields = yaml.fields(entry.value(), "breakGlass", BREAK_GLASS_KEYS);
    Duration max =
        bounded(
            fields,
            "maxDuration",
            "breakGlass",
            BreakGlassSettings.DEFAULT_MAX_DURATION,
            Duration.ofMinutes(1),
            BreakGlassSettings.MAX_MAX_DURATION);
    int reasonLength = reasonLength(fields);
    return new BreakGlassSettings(max, reasonLength);
  }

  private int reasonLength(Map<String, Entry> fields) {
    Optional<String> text = yaml.optionalString(fields, "maxReasonLength", "breakGlass");
    if (text.isEmpty()) {
      return BreakGlassSettings.DEFAULT_MAX_REASON_LENGTH;
    }
    try {
      int value = Integer.parseInt(text.get());
      if (value >= 1 && value <= BreakGlassSettings.MAX_MAX_REASON_LENGTH) {
        return value;
      }
    } catch (NumberFormatException e) {
      // Reported below.
    }
    yaml.error(
        valueAt(fields, "maxReasonLength"),
        "breakGlass.maxReasonLength: "
            + text.get()
            + " (expected: 1.."
            + BreakGlassSettings.MAX_MAX_REASON_LENGTH
            + ")");
    return BreakGlassSettings.DEFAULT_MAX_REASON_LENGTH;
  }

  /** The value node of a field a check before found present. */
  private static Node valueAt(Map<String, Entry> fields, String key) {
    return requireNonNull(fields.get(key), key).value();
  }
}
