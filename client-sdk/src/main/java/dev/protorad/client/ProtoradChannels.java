package dev.protorad.client;

import static java.util.Objects.requireNonNull;

import io.grpc.ChannelCredentials;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.TlsChannelCredentials;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Channels to a ProtoRad server, for callers that do not build their own: plaintext for a local
 * server, TLS for anything else, with a client certificate for mutual TLS. Pass the channel to
 * {@link ProtoradClient#builder} and shut it down when done.
 *
 * <pre>{@code
 * ManagedChannel channel = ProtoradChannels.open("protorad.hospital.internal:50051",
 *     ProtoradChannels.Tls.verifying(Path.of("ca.pem"))
 *         .withClientCertificate(Path.of("client.pem"), Path.of("client.key")));
 * }</pre>
 */
public final class ProtoradChannels {

  private ProtoradChannels() {}

  /**
   * How a channel is secured.
   *
   * @param enabled whether TLS is used at all
   * @param ca PEM certificates the server's chain must lead to; empty for the JVM's trusted roots
   * @param clientCertificate PEM certificate chain presented for mutual TLS, with {@code clientKey}
   * @param clientKey PEM PKCS#8 private key of {@code clientCertificate}
   */
  public record Tls(
      boolean enabled,
      Optional<Path> ca,
      Optional<Path> clientCertificate,
      Optional<Path> clientKey) {

    public Tls {
      requireNonNull(ca, "ca");
      requireNonNull(clientCertificate, "clientCertificate");
      requireNonNull(clientKey, "clientKey");
      if (clientCertificate.isPresent() != clientKey.isPresent()) {
        throw new IllegalArgumentException(
            "clientCertificate and clientKey: one without the other (expected: both or neither)");
      }
      if (!enabled && (ca.isPresent() || clientCertificate.isPresent())) {
        throw new IllegalArgumentException("ca or client certificate given without TLS");
      }
    }

    /** No TLS: only for a server on this machine or a trusted network segment. */
    public static Tls plaintext() {
      return new Tls(false, Optional.empty(), Optional.empty(), Optional.empty());
    }

    /** TLS verifying the server against the JVM's trusted roots. */
    public static Tls systemRoots() {
      return new Tls(true, Optional.empty(), Optional.empty(), Optional.empty());
    }

    /** TLS verifying the server against the certificates in {@code caPem}. */
    public static Tls verifying(Path caPem) {
      return new Tls(true, Optional.of(caPem), Optional.empty(), Optional.empty());
    }

    /** This, presenting {@code certificatePem} and its {@code keyPem} (mutual TLS). */
    public Tls withClientCertificate(Path certificatePem, Path keyPem) {
      return new Tls(true, ca, Optional.of(certificatePem), Optional.of(keyPem));
    }
  }

  /**
   * A channel to {@code target} ({@code HOST:PORT}).
   *
   * @throws IOException when a certificate or key file cannot be read or parsed
   * @throws IllegalArgumentException for a target that is not {@code HOST:PORT}
   */
  public static ManagedChannel open(String target, Tls tls) throws IOException {
    requireNonNull(target, "target");
    requireNonNull(tls, "tls");
    int colon = target.lastIndexOf(':');
    if (colon <= 0 || colon == target.length() - 1) {
      throw new IllegalArgumentException("target: " + target + " (expected: HOST:PORT)");
    }
    return Grpc.newChannelBuilder(target, credentials(tls)).build();
  }

  private static ChannelCredentials credentials(Tls tls) throws IOException {
    if (!tls.enabled()) {
      return InsecureChannelCredentials.create();
    }
    TlsChannelCredentials.Builder b = TlsChannelCredentials.newBuilder();
    if (tls.ca().isPresent()) {
      b.trustManager(tls.ca().get().toFile());
    }
    if (tls.clientCertificate().isPresent() && tls.clientKey().isPresent()) {
      b.keyManager(tls.clientCertificate().get().toFile(), tls.clientKey().get().toFile());
    }
    return b.build();
  }
}
