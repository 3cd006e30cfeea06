package dev.protorad.policy;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jose.jca.JCAContext;
import com.nimbusds.jose.util.Base64URL;
import java.security.GeneralSecurityException;
import java.security.PublicKey;
import java.security.Signature;
import java.util.Set;

/**
 * Verifies EdDSA (Ed25519) signatures with the JDK's own provider. Nimbus's Ed25519 verifier needs
 * Google Tink at run time; Java 17 verifies Ed25519 natively, so this avoids the extra dependency.
 */
final class Ed25519Verifier implements JWSVerifier {
  private static final Set<JWSAlgorithm> ALGORITHMS =
      Set.of(JWSAlgorithm.EdDSA, JWSAlgorithm.Ed25519);
  private static final int SIGNATURE_BYTES = 64;

  private final PublicKey key;
  private final JCAContext jcaContext = new JCAContext();

  Ed25519Verifier(PublicKey key) {
    this.key = key;
  }

  @Override
  public boolean verify(JWSHeader header, byte[] signingInput, Base64URL signature) {
    if (!ALGORITHMS.contains(header.getAlgorithm())
        || (header.getCriticalParams() != null && !header.getCriticalParams().isEmpty())) {
      return false;
    }
    byte[] bytes = signature.decode();
    if (bytes.length != SIGNATURE_BYTES) {
      return false;
    }
    try {
      Signature verifier = Signature.getInstance("Ed25519");
      verifier.initVerify(key);
      verifier.update(signingInput);
      return verifier.verify(bytes);
    } catch (GeneralSecurityException e) {
      return false;
    }
  }

  @Override
  public Set<JWSAlgorithm> supportedJWSAlgorithms() {
    return ALGORITHMS;
  }

  @Override
  public JCAContext getJCAContext() {
    return jcaContext;
  }
}
