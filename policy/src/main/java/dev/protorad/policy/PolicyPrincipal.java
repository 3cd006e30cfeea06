package dev.protorad.policy;

import java.util.List;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * A principal as the policy file names it.
 *
 * @param gateway the gateway settings; present exactly for principals of kind gateway
 */
record PolicyPrincipal(
    String id,
    PrincipalKind kind,
    Set<String> roles,
    List<byte[]> keyHashes,
    Set<String> certificateSubjects,
    Set<SubjectAltName> subjectAltNames,
    @Nullable GatewaySettings gateway) {

  PolicyPrincipal {
    roles = Set.copyOf(roles);
    keyHashes = keyHashes.stream().map(byte[]::clone).toList();
    certificateSubjects = Set.copyOf(certificateSubjects);
    subjectAltNames = Set.copyOf(subjectAltNames);
  }

  Identity identity() {
    return Identity.of(id, kind, roles);
  }
}
