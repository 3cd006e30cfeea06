package dev.protorad.policy;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.OctetKeyPair;
import com.nimbusds.jose.util.Base64URL;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PublicKey;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPrivateKey;
import java.security.spec.ECGenParameterSpec;
import java.time.Instant;
import java.util.Arrays;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.stream.Stream;
import javax.security.auth.x500.X500Principal;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/** Keys, tokens and certificates made in the test, never checked in. */
final class TestKeys {
  private TestKeys() {}

  static KeyPair rsa() {
    return generate("RSA", 2048);
  }

  static KeyPair ec() {
    try {
      KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
      generator.initialize(new ECGenParameterSpec("secp256r1"));
      return generator.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new AssertionError(e);
    }
  }

  static KeyPair ed25519() {
    try {
      return KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new AssertionError(e);
    }
  }

  private static KeyPair generate(String algorithm, int bits) {
    try {
      KeyPairGenerator generator = KeyPairGenerator.getInstance(algorithm);
      generator.initialize(bits);
      return generator.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new AssertionError(e);
    }
  }

  static String pem(PublicKey key) {
    String body =
        Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
            .encodeToString(key.getEncoded());
    return "-----BEGIN PUBLIC KEY-----\n" + body + "\n-----END PUBLIC KEY-----\n";
  }

  /** The public JWK of an Ed25519 key, as JSON. */
  static String ed25519Jwk(PublicKey key, String kid) {
    byte[] spki = key.getEncoded();
    byte[] raw = Arrays.copyOfRange(spki, spki.length - 32, spki.length);
    return new OctetKeyPair.Builder(Curve.Ed25519, Base64URL.encode(raw))
        .keyID(kid)
        .build()
        .toJSONString();
  }

  /** Claims for a token issued at {@code iat}, expiring {@code lifetimeSeconds} later. */
  static JWTClaimsSet.Builder claims(
      String issuer, String audience, String subject, Instant iat, long lifetimeSeconds) {
    return new JWTClaimsSet.Builder()
        .issuer(issuer)
        .audience(audience)
        .subject(subject)
        .issueTime(Date.from(iat))
        .expirationTime(Date.from(iat.plusSeconds(lifetimeSeconds)));
  }

  static String sign(KeyPair keys, JWTClaimsSet claims) {
    try {
      JWSSigner signer;
      JWSAlgorithm algorithm;
      if (keys.getPrivate() instanceof ECPrivateKey ec) {
        signer = new ECDSASigner(ec);
        algorithm = JWSAlgorithm.ES256;
      } else {
        signer = new RSASSASigner(keys.getPrivate());
        algorithm = JWSAlgorithm.RS256;
      }
      SignedJWT jwt =
          new SignedJWT(new JWSHeader.Builder(algorithm).type(JOSEObjectType.JWT).build(), claims);
      jwt.sign(signer);
      return jwt.serialize();
    } catch (JOSEException e) {
      throw new AssertionError(e);
    }
  }

  /** Signs with the JDK's Ed25519 (Nimbus's signer would need Tink). */
  static String signEd25519(KeyPair keys, JWTClaimsSet claims) {
    String header = Base64URL.encode("{\"alg\":\"EdDSA\",\"typ\":\"JWT\"}").toString();
    String payload = Base64URL.encode(claims.toString()).toString();
    String input = header + "." + payload;
    try {
      Signature signature = Signature.getInstance("Ed25519");
      signature.initSign(keys.getPrivate());
      signature.update(input.getBytes(StandardCharsets.US_ASCII));
      return input + "." + Base64URL.encode(signature.sign());
    } catch (GeneralSecurityException e) {
      throw new AssertionError(e);
    }
  }

  /** An unsecured token ({@code alg: none}) with the given claims. */
  static String unsigned(JWTClaimsSet claims) {
    String header = Base64URL.encode("{\"alg\":\"none\"}").toString();
    return header + "." + Base64URL.encode(claims.toString()) + ".";
  }

  /** A throwaway self-signed certificate with {@code subject} and DNS/URI SANs. */
  static X509Certificate selfSigned(String subject, List<String> dnsNames, List<String> uris) {
    KeyPair keys = ec();
    try {
      Instant now = Instant.parse("2026-01-01T00:00:00Z");
      // Through X500Principal: Bouncy Castle's string parser keeps RDN order, the JDK reverses it.
      X500Name name = X500Name.getInstance(new X500Principal(subject).getEncoded());
      JcaX509v3CertificateBuilder builder =
          new JcaX509v3CertificateBuilder(
              name,
              BigInteger.ONE,
              Date.from(now),
              Date.from(now.plusSeconds(86_400L * 365)),
              name,
              keys.getPublic());
      GeneralName[] names =
          Stream.concat(
                  dnsNames.stream().map(d -> new GeneralName(GeneralName.dNSName, d)),
                  uris.stream().map(u -> new GeneralName(GeneralName.uniformResourceIdentifier, u)))
              .toArray(GeneralName[]::new);
      if (names.length > 0) {
        builder.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(names));
      }
      return new JcaX509CertificateConverter()
          .getCertificate(
              builder.build(
                  new JcaContentSignerBuilder("SHA256withECDSA").build(keys.getPrivate())));
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }
}
