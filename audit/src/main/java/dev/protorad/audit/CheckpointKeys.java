package dev.protorad.audit;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.jspecify.annotations.Nullable;

/**
 * The Ed25519 keys of signed checkpoints: the private key that signs (absent on a verify-only
 * instance) and the public keys trusted when verifying. A forged chain, recomputed by someone
 * without the private key, carries no valid checkpoint past the point of tampering.
 *
 * <p>Key files are PEM: {@code PRIVATE KEY} (PKCS#8) followed by {@code PUBLIC KEY} (X.509), as
 * written by {@link #generate(Path)}. A file from {@code openssl genpkey -algorithm ed25519} holds
 * only the private block: put the public key ({@code openssl pkey -in KEY -pubout}) in the same
 * file or next to it as {@code KEY.pub}.
 */
public final class CheckpointKeys {

  private static final String ALGORITHM = "Ed25519";
  private static final Pattern PEM =
      Pattern.compile("-----BEGIN ([A-Z ]+)-----([A-Za-z0-9+/=\\s]+)-----END \\1-----");

  private final @Nullable PrivateKey signingKey;
  private final String signingKeyId;
  private final Map<String, PublicKey> trusted;

  private CheckpointKeys(
      @Nullable PrivateKey signingKey, String signingKeyId, Map<String, PublicKey> trusted) {
    this.signingKey = signingKey;
    this.signingKeyId = signingKeyId;
    this.trusted = Map.copyOf(trusted);
  }

  /** A fresh in-memory key pair (tests, benchmarks). */
  public static CheckpointKeys generateInMemory() {
    KeyPair pair = newPair();
    return signing(pair.getPrivate(), pair.getPublic());
  }

  /**
   * Generates a key pair and writes it to {@code keyFile} (owner read/write only) and the public
   * key to {@code keyFile.pub}. Fails if {@code keyFile} exists.
   */
  public static CheckpointKeys generate(Path keyFile) throws IOException {
    requireNonNull(keyFile, "keyFile");
    KeyPair pair = newPair();
    String pub = pem("PUBLIC KEY", pair.getPublic().getEncoded());
    writePrivate(keyFile, pem("PRIVATE KEY", pair.getPrivate().getEncoded()) + pub);
    Files.writeString(publicFile(keyFile), pub, StandardCharsets.US_ASCII);
    return signing(pair.getPrivate(), pair.getPublic());
  }

  /** Loads the key file written by {@link #generate(Path)} (or openssl, see above). */
  public static CheckpointKeys load(Path keyFile) throws IOException {
    requireNonNull(keyFile, "keyFile");
    Map<String, byte[]> blocks = readPem(keyFile);
    byte[] priv = blocks.get("PRIVATE KEY");
    if (priv == null) {
      throw new IllegalArgumentException(keyFile + ": no PRIVATE KEY block");
    }
    byte[] pub = blocks.get("PUBLIC KEY");
    if (pub == null && Files.exists(publicFile(keyFile))) {
      pub = readPem(publicFile(keyFile)).get("PUBLIC KEY");
    }
    if (pub == null) {
      throw new IllegalArgumentException(
          keyFile + ": no PUBLIC KEY block here or in " + publicFile(keyFile));
    }
    return signing(privateKey(priv), publicKey(pub));
  }

  /** Loads {@code keyFile}, or generates it if absent (demo installs). */
  public static CheckpointKeys loadOrGenerate(Path keyFile) throws IOException {
    return Files.exists(keyFile) ? load(keyFile) : generate(keyFile);
  }

  /** Verify-only keys from PEM public key files (auditors; no signing). */
  public static CheckpointKeys verifyOnly(List<Path> publicKeyFiles) throws IOException {
    Map<String, PublicKey> trusted = new LinkedHashMap<>();
    for (Path file : publicKeyFiles) {
      byte[] pub = readPem(file).get("PUBLIC KEY");
      if (pub == null) {
        throw new IllegalArgumentException(file + ": no PUBLIC KEY block");
      }
      PublicKey key = publicKey(pub);
      trusted.put(keyId(key), key);
    }
    return new CheckpointKeys(null, "", trusted);
  }

  /** These keys, also trusting {@code older}'s public keys (after a key rotation). */
  public CheckpointKeys alsoTrusting(CheckpointKeys older) {
    Map<String, PublicKey> all = new LinkedHashMap<>(older.trusted);
    all.putAll(trusted);
    return new CheckpointKeys(signingKey, signingKeyId, all);
  }

  /** A verify-only copy of these keys. */
  public CheckpointKeys publicOnly() {
    return new CheckpointKeys(null, "", trusted);
  }

  /** Id of the signing key (hex prefix of its public key's SHA-256), empty if verify-only. */
  public String keyId() {
    return signingKeyId;
  }

  boolean canSign() {
    return signingKey != null;
  }

  Checkpoint sign(Checkpoint unsigned) {
    if (signingKey == null) {
      throw new IllegalStateException("verify-only checkpoint keys cannot sign");
    }
    Checkpoint withKey = unsigned.withSignature(signingKeyId, "");
    try {
      Signature s = Signature.getInstance(ALGORITHM);
      s.initSign(signingKey);
      s.update(withKey.signedBytes());
      return withKey.withSignature(signingKeyId, Base64.getEncoder().encodeToString(s.sign()));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("Ed25519 signing failed", e);
    }
  }

  /**
   * The key that authorizes purges in a PostgreSQL store: derived from the signing key (so that
   * there is no second secret to keep), installed by the schema's owner ({@link
   * AuditSchema#migrate}) where the server's database role cannot read it, and checked by the purge
   * function.
   */
  byte[] anchorMacKey() {
    if (signingKey == null) {
      throw new IllegalStateException("verify-only checkpoint keys hold no purge key");
    }
    return hmac(signingKey.getEncoded(), "protorad audit purge anchor v1".getBytes(UTF_8));
  }

  /** The MAC the purge function expects for the anchor {@code body} of {@code writer}. */
  String anchorMac(String writer, long sequence, String body) {
    byte[] message = (writer + "\n" + sequence + "\n" + body).getBytes(UTF_8);
    return HexFormat.of().formatHex(hmac(anchorMacKey(), message));
  }

  private static byte[] hmac(byte[] key, byte[] message) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(key, "HmacSHA256"));
      return mac.doFinal(message);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 unavailable", e);
    }
  }

  boolean verify(Checkpoint checkpoint) {
    PublicKey key = trusted.get(checkpoint.keyId());
    if (key == null) {
      return false;
    }
    try {
      Signature s = Signature.getInstance(ALGORITHM);
      s.initVerify(key);
      s.update(checkpoint.signedBytes());
      return s.verify(Base64.getDecoder().decode(checkpoint.signature()));
    } catch (GeneralSecurityException | IllegalArgumentException e) {
      return false;
    }
  }

  @Override
  public String toString() {
    return "CheckpointKeys{signing=" + signingKeyId + ", trusted=" + trusted.keySet() + "}";
  }

  private static CheckpointKeys signing(PrivateKey priv, PublicKey pub) {
    String id = keyId(pub);
    return new CheckpointKeys(priv, id, Map.of(id, pub));
  }

  private static String keyId(PublicKey key) {
    return Hashes.sha256Hex(key.getEncoded()).substring(0, 16);
  }

  private static KeyPair newPair() {
    try {
      return KeyPairGenerator.getInstance(ALGORITHM).generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("Ed25519 unavailable", e);
    }
  }

  private static PrivateKey privateKey(byte[] pkcs8) {
    try {
      return KeyFactory.getInstance(ALGORITHM).generatePrivate(new PKCS8EncodedKeySpec(pkcs8));
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException("not an Ed25519 PKCS#8 private key", e);
    }
  }

  private static PublicKey publicKey(byte[] x509) {
    try {
      return KeyFactory.getInstance(ALGORITHM).generatePublic(new X509EncodedKeySpec(x509));
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException("not an Ed25519 public key", e);
    }
  }

  private static Path publicFile(Path keyFile) {
    return keyFile.resolveSibling(keyFile.getFileName() + ".pub");
  }

  private static String pem(String type, byte[] der) {
    String body = Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der);
    return "-----BEGIN " + type + "-----\n" + body + "\n-----END " + type + "-----\n";
  }

  private static Map<String, byte[]> readPem(Path file) throws IOException {
    Map<String, byte[]> blocks = new LinkedHashMap<>();
    Matcher m = PEM.matcher(Files.readString(file, StandardCharsets.US_ASCII));
    while (m.find()) {
      blocks.putIfAbsent(m.group(1), Base64.getMimeDecoder().decode(m.group(2)));
    }
    return blocks;
  }

  private static void writePrivate(Path keyFile, String text) throws IOException {
    if (Files.exists(keyFile)) {
      throw new FileAlreadyExistsException(keyFile.toString());
    }
    Optional.ofNullable(keyFile.toAbsolutePath().getParent()).ifPresent(CheckpointKeys::mkdirs);
    Files.createFile(
        keyFile,
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    Files.writeString(keyFile, text, StandardCharsets.US_ASCII);
  }

  private static void mkdirs(Path dir) {
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
