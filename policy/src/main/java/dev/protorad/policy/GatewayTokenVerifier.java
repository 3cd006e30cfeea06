package dev.protorad.policy;

import static dev.protorad.policy.IdentityAssertionException.Reason.BAD_SIGNATURE;
import static dev.protorad.policy.IdentityAssertionException.Reason.EXPIRED;
import static dev.protorad.policy.IdentityAssertionException.Reason.LIFETIME_TOO_LONG;
import static dev.protorad.policy.IdentityAssertionException.Reason.MALFORMED;
import static dev.protorad.policy.IdentityAssertionException.Reason.NOT_YET_VALID;
import static dev.protorad.policy.IdentityAssertionException.Reason.UNKNOWN_ROLES;
import static dev.protorad.policy.IdentityAssertionException.Reason.WRONG_AUDIENCE;
import static dev.protorad.policy.IdentityAssertionException.Reason.WRONG_ISSUER;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jwt.JWT;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.JWTParser;
import com.nimbusds.jwt.SignedJWT;
import dev.protorad.policy.IdentityAssertionException.Reason;
import java.text.ParseException;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Checks one end-user token against one gateway's settings: signature first (nothing in an
 * unverified token is trusted), then issuer, audience, times with bounded skew, lifetime, subject
 * and roles. Exceptions name the failed check, never the token or its claims.
 */
final class GatewayTokenVerifier {
  static final int MAX_TOKEN_CHARS = 16 * 1024;
  private static final Pattern SUBJECT = Pattern.compile("[\\p{Graph}]{1,256}");

  private GatewayTokenVerifier() {}

  static Identity verify(
      String gatewayId, GatewaySettings gateway, Policy policy, String token, Instant now) {
    JWTClaimsSet claims = verifiedClaims(token, gateway, now);
    return Identity.endUser(gatewayId, subject(claims), assertedRoles(claims, gateway, policy));
  }

  /** The claims of a token whose signature, issuer, audience and times all check out. */
  private static JWTClaimsSet verifiedClaims(String token, GatewaySettings gateway, Instant now) {
    SignedJWT jwt = parseSigned(token);
    verifySignature(jwt, gateway);
    JWTClaimsSet claims = claims(jwt);
    checkIssuerAndAudience(claims, gateway);
    checkTimes(claims, gateway, now);
    return claims;
  }

  private static SignedJWT parseSigned(String token) {
    if (token.isEmpty() || token.length() > MAX_TOKEN_CHARS) {
      throw fail(MALFORMED, "token empty or longer than " + MAX_TOKEN_CHARS + " characters");
    }
    JWT parsed;
    try {
      parsed = JWTParser.parse(token);
    } catch (ParseException e) {
      throw fail(MALFORMED, "not a JWT");
    }
    if (parsed instanceof SignedJWT signed) {
      return signed;
    }
    throw fail(BAD_SIGNATURE, "token is not signed (" + parsed.getHeader().getAlgorithm() + ")");
  }

  private static void verifySignature(SignedJWT jwt, GatewaySettings gateway) {
    String kid = jwt.getHeader().getKeyID();
    for (GatewayKey key : gateway.keys()) {
      if (kid != null && key.keyId() != null && !kid.equals(key.keyId())) {
        continue;
      }
      try {
        if (jwt.verify(key.verifier())) {
          return;
        }
      } catch (JOSEException | IllegalStateException e) {
        // An algorithm this key cannot check: try the next key.
      }
    }
    throw fail(BAD_SIGNATURE, "no key of the gateway verifies the signature");
  }

  private static JWTClaimsSet claims(SignedJWT jwt) {
    try {
      return jwt.getJWTClaimsSet();
    } catch (ParseException e) {
      throw fail(MALFORMED, "claims are not a JSON object");
    }
  }

  private static void checkIssuerAndAudience(JWTClaimsSet claims, GatewaySettings gateway) {
    if (!gateway.issuer().equals(claims.getIssuer())) {
      throw fail(WRONG_ISSUER, "iss is not the gateway's issuer");
    }
    List<String> audience = claims.getAudience();
    if (audience == null || !audience.contains(gateway.audience())) {
      throw fail(WRONG_AUDIENCE, "aud does not contain the expected audience");
    }
  }

  private static void checkTimes(JWTClaimsSet claims, GatewaySettings gateway, Instant now) {
    Instant expires = required(claims.getExpirationTime(), "exp");
    Instant issued = required(claims.getIssueTime(), "iat");
    Duration skew = gateway.clockSkew();
    if (now.isAfter(expires.plus(skew))) {
      throw fail(EXPIRED, "exp is past (skew " + skew + ")");
    }
    Date notBefore = claims.getNotBeforeTime();
    if (notBefore != null && now.plus(skew).isBefore(notBefore.toInstant())) {
      throw fail(NOT_YET_VALID, "nbf is in the future (skew " + skew + ")");
    }
    if (now.plus(skew).isBefore(issued)) {
      throw fail(NOT_YET_VALID, "iat is in the future (skew " + skew + ")");
    }
    if (Duration.between(issued, expires).compareTo(gateway.maxTokenLifetime()) > 0) {
      throw fail(LIFETIME_TOO_LONG, "exp - iat exceeds " + gateway.maxTokenLifetime());
    }
  }

  private static Instant required(Date date, String claim) {
    if (date == null) {
      throw fail(MALFORMED, claim + " is missing");
    }
    return date.toInstant();
  }

  private static String subject(JWTClaimsSet claims) {
    String subject = claims.getSubject();
    if (subject == null || !SUBJECT.matcher(subject).matches()) {
      throw fail(MALFORMED, "sub is missing or not 1..256 visible characters");
    }
    return subject;
  }

  private static Set<String> assertedRoles(
      JWTClaimsSet claims, GatewaySettings gateway, Policy policy) {
    List<String> claimed;
    try {
      claimed = claims.getStringListClaim(gateway.rolesClaim());
    } catch (ParseException e) {
      throw fail(MALFORMED, "the roles claim is not a list of strings");
    }
    if (claimed == null) {
      return Set.of();
    }
    Set<String> allowed = new LinkedHashSet<>();
    for (String role : claimed) {
      if (role == null || !policy.roles().contains(role)) {
        throw fail(UNKNOWN_ROLES, "the token asserts a role the policy does not define");
      }
      if (gateway.assertableRoles().contains(role)) {
        allowed.add(role);
      }
    }
    return allowed;
  }

  private static IdentityAssertionException fail(Reason reason, String detail) {
    return new IdentityAssertionException(reason, detail);
  }
}
