package dev.protorad.policy;

import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;

/** What a principal named in the policy is. */
public enum PrincipalKind {
  /** An internal service calling with an API key or a client certificate. */
  SERVICE,
  /** A gateway that may assert end users (it needs {@code identity:assert}). */
  GATEWAY,
  /** A person calling directly, for example with a personal client certificate. */
  USER;

  /** The spelling used in the policy file. */
  public String yamlName() {
    return name().toLowerCase(Locale.ROOT);
  }

  static Optional<PrincipalKind> fromYaml(String value) {
    return Arrays.stream(values()).filter(kind -> kind.yamlName().equals(value)).findFirst();
  }
}
