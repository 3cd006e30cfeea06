package dev.protorad.console;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/** Sessions by id, created on first visit, forgotten after {@link #IDLE} without a request. */
final class Sessions {

  static final Duration IDLE = Duration.ofMinutes(30);

  private final Map<String, Session> byId = new ConcurrentHashMap<>();
  private final SecureRandom random = new SecureRandom();
  private final Clock clock;

  Sessions(Clock clock) {
    this.clock = clock;
  }

  /** The live session {@code id} names, if any; touching it keeps it alive. */
  Optional<Session> find(String id) {
    Session s = byId.get(id);
    Instant now = clock.instant();
    if (s == null || s.lastSeen().plus(IDLE).isBefore(now)) {
      if (s != null) {
        byId.remove(id);
      }
      return Optional.empty();
    }
    s.seen(now);
    return Optional.of(s);
  }

  Session create() {
    Session s = new Session(token(), token(), clock.instant());
    byId.put(s.id(), s);
    return s;
  }

  void remove(Session s) {
    byId.remove(s.id());
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
