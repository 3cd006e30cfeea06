package dev.protorad.policy;

import java.security.MessageDigest;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import javax.security.auth.x500.X500Principal;

/**
 * One loaded, validated policy: an immutable snapshot. Reloading builds a new snapshot and swaps it
 * in; decisions already running keep the snapshot they started with. Obtain one from {@link
 * PolicyLoader} or {@link PolicyHolder#current()}.
 */
public final class Policy {
  private final String source;
  private final String digest;
  private final Map<String, Set<String>> rolePermissions;
  private final Map<String, PolicyPrincipal> principals;
  private final BreakGlassSettings breakGlass;
  private final PolicyRealm realm;

  Policy(
      String source,
      String digest,
      Map<String, Set<String>> rolePermissions,
      List<PolicyPrincipal> principals,
      BreakGlassSettings breakGlass) {
    this.source = source;
    this.digest = digest;
    Map<String, Set<String>> roles = new TreeMap<>();
    rolePermissions.forEach((role, permissions) -> roles.put(role, Set.copyOf(permissions)));
    this.rolePermissions = Map.copyOf(roles);
    Map<String, PolicyPrincipal> byId = new TreeMap<>();
    principals.forEach(p -> byId.put(p.id(), p));
    this.principals = Map.copyOf(byId);
    this.breakGlass = breakGlass;
    this.realm = new PolicyRealm(this.rolePermissions);
  }

  /** The file name the policy came from. */
  public String source() {
    return source;
  }

  /** SHA-256 hex of the file's bytes; logs and audit records name the policy by it. */
  public String digest() {
    return digest;
  }

  /** The names of all roles the policy defines. */
  public Set<String> roles() {
    return rolePermissions.keySet();
  }

  /** The permission strings granted to {@code role}; empty for an unknown role. */
  public Set<String> permissionsOf(String role) {
    return rolePermissions.getOrDefault(role, Set.of());
  }

  /** The ids of all principals the policy names. */
  public Set<String> principalIds() {
    return principals.keySet();
  }

  /** The longest break-glass grant this policy allows. */
  public Duration breakGlassMaxDuration() {
    return breakGlass.maxDuration();
  }

  BreakGlassSettings breakGlass() {
    return breakGlass;
  }

  boolean permits(Set<String> roles, String permission) {
    return realm.permits(roles, permission);
  }

  Optional<PolicyPrincipal> principal(String id) {
    return Optional.ofNullable(principals.get(id));
  }

  /** The principal holding {@code hash}, comparing every stored hash in constant time. */
  Optional<PolicyPrincipal> principalForKeyHash(byte[] hash) {
    PolicyPrincipal match = null;
    // No early exit: the time taken must not depend on which hash (if any) matched.
    for (PolicyPrincipal principal : principals.values()) {
      for (byte[] stored : principal.keyHashes()) {
        if (MessageDigest.isEqual(stored, hash)) {
          match = principal;
        }
      }
    }
    return Optional.ofNullable(match);
  }

  /** Every principal whose subject DN or one of whose SANs the certificate carries. */
  Collection<PolicyPrincipal> principalsForCertificate(X509Certificate certificate)
      throws CertificateParsingException {
    String subject = certificate.getSubjectX500Principal().getName(X500Principal.CANONICAL);
    Set<SubjectAltName> sans = subjectAltNames(certificate);
    Set<PolicyPrincipal> matches = new LinkedHashSet<>();
    for (PolicyPrincipal principal : principals.values()) {
      if (principal.certificateSubjects().contains(subject)
          || principal.subjectAltNames().stream().anyMatch(sans::contains)) {
        matches.add(principal);
      }
    }
    return matches;
  }

  private static Set<SubjectAltName> subjectAltNames(X509Certificate certificate)
      throws CertificateParsingException {
    Collection<List<?>> entries = certificate.getSubjectAlternativeNames();
    List<SubjectAltName> names = new ArrayList<>();
    if (entries != null) {
      for (List<?> entry : entries) {
        if (entry.size() >= 2
            && entry.get(0) instanceof Integer tag
            && entry.get(1) instanceof String v) {
          SubjectAltName.Type.ofTag(tag).ifPresent(type -> names.add(SubjectAltName.of(type, v)));
        }
      }
    }
    return Set.copyOf(names);
  }

  @Override
  public String toString() {
    return "Policy[source="
        + source
        + ", sha256="
        + digest.substring(0, 12)
        + ", roles="
        + rolePermissions.size()
        + ", principals="
        + principals.size()
        + "]";
  }
}
