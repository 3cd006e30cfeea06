package dev.protorad.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.protorad.policy.ApiKeys;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Prepares a demo data directory: a policy with one principal per default role, and their API keys
 * in {@code demo-credentials.json} ({@code {"role": "bearer token"}}, owner-only). The policy holds
 * only the keys' hashes. Existing files are kept, so the credentials survive restarts.
 */
public final class DemoSetup {

  static final List<String> ROLES =
      List.of(
          "order-intake",
          "clinician",
          "radiologist",
          "technologist",
          "ml-engineer",
          "ml-lead",
          "compliance-officer",
          "gateway");
  static final String CREDENTIALS_FILE = "demo-credentials.json";
  static final String GATEWAY_KEY_FILE = "demo-gateway-key.json";
  static final String GATEWAY_ISSUER = "https://demo-gateway.protorad.local";
  static final String GATEWAY_AUDIENCE = "protorad";

  private DemoSetup() {}

  /** Writes the demo policy and credentials unless present; returns the credentials by role. */
  public static Map<String, String> prepare(Path dataDir) throws IOException {
    Files.createDirectories(dataDir);
    Path credentials = dataDir.resolve(CREDENTIALS_FILE);
    Path policy = dataDir.resolve("policy.yaml");
    if (Files.exists(credentials) && Files.exists(policy)) {
      return read(credentials);
    }
    Map<String, String> keys = new LinkedHashMap<>();
    SecureRandom random = new SecureRandom();
    for (String role : ROLES) {
      keys.put(role, ApiKeys.generate(random).key());
    }
    ECKey gatewayKey = generateGatewayKey();
    writeOwnerOnly(dataDir.resolve(GATEWAY_KEY_FILE), gatewayKey.toJSONString());
    Files.writeString(policy, policyYaml(keys, gatewayKey.toPublicJWK().toJSONString()));
    writeOwnerOnly(credentials, json().writeValueAsString(keys));
    return keys;
  }

  /** The demo gateway's signing key (private), for minting end-user tokens in the tour. */
  static ECKey gatewayKey(Path dataDir) throws IOException {
    try {
      return ECKey.parse(Files.readString(dataDir.resolve(GATEWAY_KEY_FILE)));
    } catch (java.text.ParseException e) {
      throw new IOException(GATEWAY_KEY_FILE + " is not a JWK", e);
    }
  }

  /** A 5-minute end-user token as the demo gateway's identity provider would issue it. */
  static String endUserToken(Path dataDir, String user, String role) throws IOException {
    ECKey key = gatewayKey(dataDir);
    Instant now = Instant.now();
    SignedJWT jwt =
        new SignedJWT(
            new JWSHeader.Builder(JWSAlgorithm.ES256).keyID(key.getKeyID()).build(),
            new JWTClaimsSet.Builder()
                .issuer(GATEWAY_ISSUER)
                .audience(GATEWAY_AUDIENCE)
                .subject(user)
                .issueTime(Date.from(now))
                .expirationTime(Date.from(now.plusSeconds(300)))
                .claim("roles", List.of(role))
                .build());
    try {
      jwt.sign(new ECDSASigner(key));
    } catch (JOSEException e) {
      throw new IOException("cannot sign the demo token", e);
    }
    return jwt.serialize();
  }

  private static ECKey generateGatewayKey() throws IOException {
    try {
      return new ECKeyGenerator(Curve.P_256).keyID("demo-gateway-1").generate();
    } catch (JOSEException e) {
      throw new IOException("cannot generate the demo gateway key", e);
    }
  }

  static String principal(String role) {
    return "demo-" + role;
  }

  private static String policyYaml(Map<String, String> keys, String gatewayJwk) {
    StringBuilder y =
        new StringBuilder(
            """
            # Demo policy written by `protorad demo`: one principal per default role.
            # The API keys themselves are in demo-credentials.json; only hashes are here.
            version: 1
            principals:
            """);
    keys.forEach(
        (role, key) ->
            y.append("  - id: ")
                .append(principal(role))
                .append("\n    kind: ")
                .append(role.equals("gateway") ? "gateway" : "service")
                .append("\n    roles: [")
                .append(role)
                .append("]\n    apiKeyHashes: [")
                .append(ApiKeys.hash(key))
                .append("]\n")
                .append(role.equals("gateway") ? gatewayBlock(gatewayJwk) : ""));
    return y.toString();
  }

  private static String gatewayBlock(String jwk) {
    return "    gateway:\n"
        + "      issuer: "
        + GATEWAY_ISSUER
        + "\n      audience: "
        + GATEWAY_AUDIENCE
        + "\n      keys:\n        - jwk: "
        + jwk
        + "\n      assertableRoles: [clinician, radiologist, technologist]\n"
        + "      maxTokenLifetime: 15m\n      clockSkew: 30s\n";
  }

  private static Map<String, String> read(Path credentials) throws IOException {
    @SuppressWarnings("unchecked")
    Map<String, String> keys = json().readValue(credentials.toFile(), LinkedHashMap.class);
    return keys;
  }

  private static void writeOwnerOnly(Path file, String text) throws IOException {
    Files.createFile(
        file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    Files.writeString(file, text);
  }

  private static ObjectMapper json() {
    return new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
  }
}
