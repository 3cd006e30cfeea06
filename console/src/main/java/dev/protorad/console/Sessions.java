package dev.protorad.console;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Base64;
import java.util.Optional;

/**
 * Sessions by id, created on first visit, forgotten after {@link #IDLE} without a request; at most
 * {@link #MAX} are held, the least recently used going first, so clients that never send the cookie
 * back cannot grow them without bound.
 */
final class Sessions {

  static final Duration IDLE = Duration.ofMinutes(30);
  static final int MAX = 10_000;

  private final Cache<String, Session> byId =
      Caffeine.newBuilder().expireAfterAccess(IDLE).maximumSize(MAX).build();
  private final SecureRandom random = new SecureRandom();

  /** The live session {@code id} names, if any; finding it keeps it alive. */
  Optional<Session> find(String id) {
    return Optional.ofNullable(byId.getIfPresent(id));
  }

  Session create() {
    Session s = new Session(token(), token());
    byId.put(s.id(), s);
    return s;
  }

  void remove(Session s) {
    byId.invalidate(s.id());
  }

  /** Whether {@code given} is the session's CSRF token, compared in constant time. */
  static boolean csrfMatches(Session s, String given) {
    return MessageDigest.isEqual(
        s.csrf().getBytes(StandardCharsets.UTF_8), given.getBytes(StandardCharsets.UTF_8));
  }

  private String token() {
    byte[] bytes = new byte[32];
    random.nextBytes(bytes);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
  }
}
