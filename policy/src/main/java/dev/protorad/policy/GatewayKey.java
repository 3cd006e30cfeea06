package dev.protorad.policy;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.crypto.RSASSAVerifier;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.OctetKeyPair;
import com.nimbusds.jose.jwk.RSAKey;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.EdECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.X509EncodedKeySpec;
import java.text.ParseException;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * A gateway's public key with the verifier for its algorithm family: RSA (RS/PS, at least 2048
 * bits), EC (ES256/384/512 on the matching curve) or Ed25519 (EdDSA).
 *
 * @param keyId the JWK {@code kid}, or {@code null} when the key has none
 */
record GatewayKey(@Nullable String keyId, JWSVerifier verifier) {
  static final int MIN_RSA_BITS = 2048;
  private static final List<String> KEY_ALGORITHMS = List.of("RSA", "EC", "Ed25519");
  // DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410); the 32 raw key bytes follow.
  private static final byte[] ED25519_SPKI_PREFIX = {
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00
  };

  /** Why a configured key cannot be used; the message never contains key material. */
  static final class KeyException extends Exception {
    private static final long serialVersionUID = 1L;

    KeyException(String message) {
      super(message);
    }
  }

  /** Reads a PEM {@code PUBLIC KEY} (SubjectPublicKeyInfo). */
  static GatewayKey fromPem(String pem, @Nullable String keyId) throws KeyException {
    if (pem.contains("PRIVATE KEY")) {
      throw new KeyException("private key material is not allowed; configure the public key");
    }
    String body =
        pem.replace("-----BEGIN PUBLIC KEY-----", "")
            .replace("-----END PUBLIC KEY-----", "")
            .replaceAll("\\s", "");
    byte[] der;
    try {
      der = Base64.getDecoder().decode(body);
    } catch (IllegalArgumentException e) {
      throw new KeyException("not a PEM public key (bad base64)");
    }
    return new GatewayKey(keyId, verifierFor(decodeSpki(der)));
  }

  /** Reads a public JWK given as a mapping. */
  static GatewayKey fromJwk(Map<String, Object> json) throws KeyException {
    JWK jwk;
    try {
      jwk = JWK.parse(json);
    } catch (ParseException e) {
      throw new KeyException("not a valid JWK");
    }
    if (jwk.isPrivate()) {
      throw new KeyException("private key material is not allowed; configure the public JWK");
    }
    return new GatewayKey(jwk.getKeyID(), verifierFor(publicKeyOf(jwk)));
  }

  private static PublicKey publicKeyOf(JWK jwk) throws KeyException {
    try {
      if (jwk instanceof RSAKey rsa) {
        return rsa.toRSAPublicKey();
      }
      if (jwk instanceof ECKey ec) {
        return ec.toECPublicKey();
      }
      if (jwk instanceof OctetKeyPair okp && Curve.Ed25519.equals(okp.getCurve())) {
        return ed25519(okp.getDecodedX());
      }
    } catch (JOSEException e) {
      throw new KeyException("JWK is not a usable public key");
    }
    throw new KeyException("unsupported JWK type (expected RSA, EC or OKP Ed25519)");
  }

  private static PublicKey ed25519(byte[] raw) throws KeyException {
    if (raw.length != 32) {
      throw new KeyException("Ed25519 key must have 32 bytes");
    }
    return decodeSpki(concat(ED25519_SPKI_PREFIX, raw));
  }

  private static byte[] concat(byte[] first, byte[] second) {
    byte[] joined = Arrays.copyOf(first, first.length + second.length);
    System.arraycopy(second, 0, joined, first.length, second.length);
    return joined;
  }

  private static PublicKey decodeSpki(byte[] der) throws KeyException {
    for (String algorithm : KEY_ALGORITHMS) {
      try {
        return KeyFactory.getInstance(algorithm).generatePublic(new X509EncodedKeySpec(der));
      } catch (GeneralSecurityException | IllegalArgumentException e) {
        // Not this algorithm; try the next.
      }
    }
    throw new KeyException("unsupported public key (expected RSA, EC or Ed25519)");
  }

  private static JWSVerifier verifierFor(PublicKey key) throws KeyException {
    if (key instanceof RSAPublicKey rsa) {
      if (rsa.getModulus().bitLength() < MIN_RSA_BITS) {
        throw new KeyException("RSA key shorter than " + MIN_RSA_BITS + " bits");
      }
      return new RSASSAVerifier(rsa);
    }
    if (key instanceof ECPublicKey ec) {
      try {
        return new ECDSAVerifier(ec);
      } catch (JOSEException e) {
        throw new KeyException("unsupported EC curve (expected P-256, P-384 or P-521)");
      }
    }
    if (key instanceof EdECPublicKey ed && "Ed25519".equals(ed.getParams().getName())) {
      return new Ed25519Verifier(ed);
    }
    throw new KeyException("unsupported public key (expected RSA, EC or Ed25519)");
  }
}
