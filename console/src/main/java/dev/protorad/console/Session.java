package dev.protorad.console;

import static java.util.Objects.requireNonNull;

import org.jspecify.annotations.Nullable;

/**
 * One browser's session: its CSRF token and, once signed in through the role picker (demo mode),
 * the role and its key. Held in memory only; the browser keeps an opaque id in an {@code HttpOnly},
 * {@code SameSite=Strict} cookie.
 */
final class Session {

  private final String id;
  private final String csrf;
  private volatile @Nullable String demoRole;
  private @Nullable String person;

  Session(String id, String csrf) {
    this.id = requireNonNull(id, "id");
    this.csrf = requireNonNull(csrf, "csrf");
  }

  String id() {
    return id;
  }

  String csrf() {
    return csrf;
  }

  @Nullable String demoRole() {
    return demoRole;
  }

  void signInAs(String role) {
    this.demoRole = role;
  }

  /**
   * Binds the session to the person a proxy token names, on first use; false when it already
   * belongs to someone else (its CSRF token then must not serve them).
   */
  synchronized boolean belongsTo(String who) {
    if (person == null) {
      person = who;
    }
    return person.equals(who);
  }
}
