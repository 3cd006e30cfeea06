package dev.protorad.cli;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Base64;
import java.util.Date;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/** A throwaway certificate authority made in the test, and the PEM files TLS needs. */
final class TestPki {

  record Issued(KeyPair keys, X509Certificate certificate) {
    void writeCertificate(Path file) throws IOException {
      Files.writeString(file, pem("CERTIFICATE", encoded(certificate)), StandardCharsets.US_ASCII);
    }

    void writeKey(Path file) throws IOException {
      Files.writeString(
          file, pem("PRIVATE KEY", keys.getPrivate().getEncoded()), StandardCharsets.US_ASCII);
    }
  }

  private final Issued ca;
  private long serial = 1;

  private TestPki(Issued ca) {
    this.ca = ca;
  }

  static TestPki create(String name) throws Exception {
    KeyPair keys = ecKeys();
    X500Name subject = x500("CN=" + name);
    JcaX509v3CertificateBuilder b = builder(subject, subject, keys, 1);
    b.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
    return new TestPki(new Issued(keys, sign(b, keys)));
  }

  Issued ca() {
    return ca;
  }

  /** A leaf certificate for {@code subject} with a DNS and IP name for loopback. */
  Issued issue(String subject) throws Exception {
    KeyPair keys = ecKeys();
    JcaX509v3CertificateBuilder b =
        builder(
            X500Name.getInstance(ca.certificate().getSubjectX500Principal().getEncoded()),
            x500(subject),
            keys,
            ++serial);
    b.addExtension(
        Extension.subjectAlternativeName,
        false,
        new GeneralNames(
            new GeneralName[] {
              new GeneralName(GeneralName.dNSName, "localhost"),
              new GeneralName(GeneralName.iPAddress, "127.0.0.1")
            }));
    return new Issued(keys, sign(b, ca.keys()));
  }

  /** An RFC 2253 name (most specific first) encoded as X.509 orders it. */
  private static X500Name x500(String rfc2253) {
    return X500Name.getInstance(new javax.security.auth.x500.X500Principal(rfc2253).getEncoded());
  }

  private static JcaX509v3CertificateBuilder builder(
      X500Name issuer, X500Name subject, KeyPair keys, long serial) {
    Instant now = Instant.now();
    return new JcaX509v3CertificateBuilder(
        issuer,
        BigInteger.valueOf(serial),
        Date.from(now.minus(1, ChronoUnit.HOURS)),
        Date.from(now.plus(1, ChronoUnit.DAYS)),
        subject,
        keys.getPublic());
  }

  private static X509Certificate sign(JcaX509v3CertificateBuilder b, KeyPair signer)
      throws OperatorCreationException, GeneralSecurityException {
    return new JcaX509CertificateConverter()
        .getCertificate(
            b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(signer.getPrivate())));
  }

  private static KeyPair ecKeys() throws GeneralSecurityException {
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
    g.initialize(new ECGenParameterSpec("secp256r1"));
    return g.generateKeyPair();
  }

  private static byte[] encoded(X509Certificate c) {
    try {
      return c.getEncoded();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String pem(String type, byte[] der) {
    return "-----BEGIN "
        + type
        + "-----\n"
        + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der)
        + "\n-----END "
        + type
        + "-----\n";
  }
}
