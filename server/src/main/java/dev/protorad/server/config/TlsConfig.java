package dev.protorad.server.config;

import static java.util.Objects.requireNonNull;

import java.nio.file.Path;
import java.util.Optional;

/**
 * TLS settings. TLS is on when a certificate is set; client certificates are then requested or
 * required per {@link #clientAuth()} and verified against {@link #clientCaFile()}.
 *
 * @param certFile server certificate chain (PEM)
 * @param keyFile server private key (PKCS#8 PEM)
 * @param clientCaFile CA certificates trusted for client certificates (PEM)
 * @param clientAuth {@code none}, {@code optional} or {@code require}
 */
public record TlsConfig(
    Optional<Path> certFile,
    Optional<Path> keyFile,
    Optional<Path> clientCaFile,
    String clientAuth) {

  public TlsConfig {
    requireNonNull(certFile, "certFile");
    requireNonNull(keyFile, "keyFile");
    requireNonNull(clientCaFile, "clientCaFile");
    requireNonNull(clientAuth, "clientAuth");
    if (certFile.isPresent() != keyFile.isPresent()) {
      throw new ConfigException(
          "tls.key_file", "tls.cert_file and tls.key_file go together (expected: both or neither)");
    }
    if (!clientAuth.equals("none")
        && !clientAuth.equals("optional")
        && !clientAuth.equals("require")) {
      throw new ConfigException(
          "tls.client_auth", "'" + clientAuth + "' (expected: none, optional or require)");
    }
    if (!clientAuth.equals("none") && clientCaFile.isEmpty()) {
      throw new ConfigException(
          "tls.client_ca_file", "missing (expected: a PEM file when tls.client_auth is not none)");
    }
    if (!clientAuth.equals("none") && certFile.isEmpty()) {
      throw new ConfigException(
          "tls.cert_file", "missing (expected: a server certificate when client auth is on)");
    }
  }

  /** Plaintext. */
  public static TlsConfig disabled() {
    return new TlsConfig(Optional.empty(), Optional.empty(), Optional.empty(), "none");
  }

  /** Whether the server speaks TLS. */
  public boolean enabled() {
    return certFile.isPresent();
  }
}
