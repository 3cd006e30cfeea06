package dev.protorad.policy;

import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;

/**
 * A subject alternative name of a client certificate, normalized for comparison. Written in the
 * policy as {@code dns:host.example}, {@code uri:spiffe://…} or {@code email:name@host}.
 */
record SubjectAltName(Type type, String value) {

  enum Type {
    EMAIL(1),
    DNS(2),
    URI(6);

    private final int x509Tag;

    Type(int x509Tag) {
      this.x509Tag = x509Tag;
    }

    static Optional<Type> ofTag(int tag) {
      return Arrays.stream(values()).filter(type -> type.x509Tag == tag).findFirst();
    }
  }

  static SubjectAltName of(Type type, String value) {
    // Host names compare case-insensitively; URIs (SPIFFE ids) compare exactly.
    return new SubjectAltName(type, type == Type.URI ? value : value.toLowerCase(Locale.ROOT));
  }

  /** Parses {@code type:value} from the policy file. */
  static Optional<SubjectAltName> parse(String text) {
    int colon = text.indexOf(':');
    if (colon <= 0 || colon == text.length() - 1) {
      return Optional.empty();
    }
    String value = text.substring(colon + 1);
    return switch (text.substring(0, colon)) {
      case "dns" -> Optional.of(of(Type.DNS, value));
      case "uri" -> Optional.of(of(Type.URI, value));
      case "email" -> Optional.of(of(Type.EMAIL, value));
      default -> Optional.empty();
    };
  }
}
