package dev.protorad.console;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.protorad.client.ProtoradClient;
import dev.protorad.client.ProtoradException;
import io.grpc.Channel;
import io.javalin.Javalin;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import io.javalin.http.HttpStatus;
import io.javalin.http.staticfiles.Location;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Optional;

/**
 * The console's HTTP server (Javalin): sign-in, sessions, CSRF, security headers and the pages of
 * {@link ReviewPages}, {@link AuditPages} and {@link ModelPages}. Every page calls the gRPC API
 * through the client SDK as the signed-in person, so whatever the API refuses the console refuses
 * too, with the same audit record.
 *
 * <p>No note text goes into a URL, a log line or browser storage: notes are read only into the body
 * of the review page, which the browser is told not to cache.
 */
public final class ConsoleServer implements AutoCloseable {

  static final String COOKIE = "protorad_console";

  /** Scripts and styles only from the console itself; no inline code, no frames, no plugins. */
  static final String CONTENT_SECURITY_POLICY =
      "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:;"
          + " connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

  private static final ObjectMapper JSON = new ObjectMapper();

  private final ConsoleSettings settings;
  private final Channel channel;
  private final Sessions sessions;
  private final Javalin app;

  private ConsoleServer(ConsoleSettings settings, Channel channel) {
    this.settings = settings;
    this.channel = channel;
    this.sessions = new Sessions();
    this.app =
        Javalin.create(
            config -> {
              config.startup.showJavalinBanner = false;
              config.staticFiles.add(
                  s -> {
                    s.hostedPath = "/static";
                    s.directory = "/dev/protorad/console/static";
                    s.location = Location.CLASSPATH;
                  });
              routes(config.routes);
            });
  }

  /**
   * Starts the console on {@code settings}' host and port, calling the API over {@code channel}
   * (the server's own port, or an in-process channel in tests).
   */
  public static ConsoleServer start(ConsoleSettings settings, Channel channel) {
    ConsoleServer server =
        new ConsoleServer(requireNonNull(settings, "settings"), requireNonNull(channel, "channel"));
    server.app.start(settings.host(), settings.port());
    return server;
  }

  /** The port it listens on. */
  public int port() {
    return app.port();
  }

  /** The console's address, for people to open. */
  public String url() {
    return "http://" + settings.host() + ":" + port() + "/";
  }

  @Override
  public void close() {
    app.stop();
  }

  private void routes(RoutesConfig routes) {
    routes.before(this::secure);
    routes.before(this::checkCsrf);
    routes.exception(ProtoradException.class, this::apiError);
    routes.exception(
        BadRequest.class,
        (e, ctx) -> page(ctx, HttpStatus.BAD_REQUEST, "Bad request", error(e.message())));
    routes.exception(
        NotFound.class,
        (e, ctx) ->
            page(ctx, HttpStatus.NOT_FOUND, "Not found", error(String.valueOf(e.getMessage()))));
    routes.get("/", ctx -> ctx.redirect("/review"));
    byte[] echarts = Charts.echarts();
    routes.get(
        "/static/echarts.min.js",
        ctx -> ctx.contentType("text/javascript; charset=utf-8").result(echarts));
    routes.get("/signin", this::signInPage);
    routes.post("/signin", this::signIn);
    routes.post("/signout", this::signOut);
    pages(routes);
  }

  private void pages(RoutesConfig routes) {
    ReviewPages review = new ReviewPages(this);
    routes.get("/review", review::worklist);
    routes.get("/review/{id}", review::item);
    routes.post("/review/{id}", review::decide);
    AuditPages audit = new AuditPages(this);
    routes.get("/audit", audit::search);
    routes.post("/audit/verify", audit::verify);
    routes.get("/audit/event", audit::event);
    routes.get("/audit/export.csv", audit::csv);
    routes.get("/audit/export.jsonl", audit::jsonl);
    ModelPages models = new ModelPages(this);
    routes.get("/models", models::list);
    routes.post("/models/alias", models::confirmAlias);
    routes.post("/models/alias/confirm", models::moveAlias);
    routes.get("/models/versions/{name}/{version}", new VersionPages(this)::show);
    routes.get("/models/jobs/{id}", models::job);
    routes.get("/models/jobs/{id}/latest.json", models::latest);
  }

  /** Headers on every answer: the policy above, no caching, no sniffing, no referrer. */
  private void secure(Context ctx) {
    ctx.header("Content-Security-Policy", CONTENT_SECURITY_POLICY);
    ctx.header("Cache-Control", "no-store");
    ctx.header("X-Content-Type-Options", "nosniff");
    ctx.header("Referrer-Policy", "no-referrer");
    ctx.header("X-Frame-Options", "DENY");
  }

  /** Every POST carries the session's CSRF token, or nothing happens. */
  private void checkCsrf(Context ctx) {
    if ("POST".equals(ctx.method().name()) && !csrfMatches(ctx)) {
      page(ctx, HttpStatus.FORBIDDEN, "Refused", "The form had expired; open the page again.");
      ctx.skipRemainingHandlers();
    }
  }

  private boolean csrfMatches(Context ctx) {
    Optional<Session> session = session(ctx);
    String given = ctx.formParam("csrf");
    return session.isPresent() && given != null && Sessions.csrfMatches(session.get(), given);
  }

  // ---- sessions and sign-in ----

  Optional<Session> session(Context ctx) {
    String id = ctx.cookie(COOKIE);
    return id == null ? Optional.empty() : sessions.find(id);
  }

  /** The request's session, created (with its cookie) when it has none. */
  Session sessionOrNew(Context ctx) {
    return session(ctx).orElseGet(() -> newSession(ctx));
  }

  /** A new session, its cookie set on the answer. */
  private Session newSession(Context ctx) {
    Session s = sessions.create();
    ctx.header(
        "Set-Cookie",
        COOKIE
            + "="
            + s.id()
            + "; Path=/; HttpOnly; SameSite=Strict"
            + (settings.secureCookies() ? "; Secure" : ""));
    return s;
  }

  private void signInPage(Context ctx) {
    if (settings.demoKeys().isEmpty()) {
      page(ctx, HttpStatus.OK, "Sign in", "Sign in through the hospital's sign-in page.");
      return;
    }
    Session s = sessionOrNew(ctx);
    StringBuilder body =
        new StringBuilder(
            "<p>Demo mode: choose a role. Each role signs in as its demo principal.</p>"
                + "<form method=\"post\" action=\"/signin\">"
                + Html.csrf(s)
                + "<fieldset><legend>Role</legend>");
    for (String role : settings.demoKeys().keySet().stream().sorted().toList()) {
      body.append("<label><input type=\"radio\" name=\"role\" value=\"")
          .append(Html.text(role))
          .append("\" id=\"role-")
          .append(Html.text(role))
          .append("\"> ")
          .append(Html.text(role))
          .append("</label><br>");
    }
    body.append("</fieldset><button type=\"submit\" id=\"sign-in\">Sign in</button></form>");
    page(ctx, HttpStatus.OK, "Sign in", body.toString());
  }

  private void signIn(Context ctx) {
    Session s = session(ctx).orElseThrow();
    String role = demoRole(ctx.formParam("role"));
    s.signInAs(role);
    ctx.redirect(landing(role));
  }

  /** {@code role}, when it is one of the demo roles. */
  private String demoRole(@org.jspecify.annotations.Nullable String role) {
    if (role == null || !settings.demoKeys().containsKey(role)) {
      throw new BadRequest("choose one of the demo roles");
    }
    return role;
  }

  private static String landing(String role) {
    return switch (role) {
      case "compliance-officer" -> "/audit";
      case "ml-engineer", "ml-lead" -> "/models";
      default -> "/review";
    };
  }

  private void signOut(Context ctx) {
    session(ctx).ifPresent(sessions::remove);
    ctx.header("Set-Cookie", COOKIE + "=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict");
    ctx.redirect("/signin");
  }

  /**
   * The signed-in caller, or empty after answering the request with the way to sign in: the demo
   * role picker, or (behind a proxy) the person's token in the proxy's header.
   */
  Optional<Caller> caller(Context ctx) {
    Session s = sessionOrNew(ctx);
    if (settings.gateway().isPresent()) {
      ConsoleSettings.Gateway g = settings.gateway().get();
      String token = ctx.header(g.userHeader());
      if (token != null && !token.isBlank()) {
        return proxied(ctx, s, g, token.trim());
      }
    }
    String role = s.demoRole();
    String demoKey = role == null ? null : settings.demoKeys().get(role);
    if (role != null && demoKey != null) {
      ProtoradClient client =
          ProtoradClient.builder(channel).apiKey(demoKey).maxAttempts(1).build();
      return Optional.of(new Caller(client, "demo " + role, s));
    }
    if (settings.demoKeys().isEmpty()) {
      page(ctx, HttpStatus.UNAUTHORIZED, "Sign in", "Sign in through the hospital's sign-in page.");
    } else {
      ctx.redirect("/signin");
    }
    return Optional.empty();
  }

  /**
   * The person the proxy's token names, calling under the gateway's key; refused (and the session
   * ended) when the session was begun by someone else.
   */
  private Optional<Caller> proxied(
      Context ctx, Session s, ConsoleSettings.Gateway g, String token) {
    String who = subject(token);
    if (!s.belongsTo(who)) {
      sessions.remove(s);
      ctx.header("Set-Cookie", COOKIE + "=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict");
      page(
          ctx,
          HttpStatus.FORBIDDEN,
          "Refused",
          "This browser session was someone else's; open the page again.");
      return Optional.empty();
    }
    ProtoradClient client =
        ProtoradClient.builder(channel)
            .apiKey(g.apiKey())
            .endUserToken(token)
            .maxAttempts(1)
            .build();
    return Optional.of(new Caller(client, who, s));
  }

  /** The token's {@code sub}, for display only: the server verifies the token itself. */
  private static String subject(String jwt) {
    String token = jwt.trim();
    int first = token.indexOf('.');
    int second = token.indexOf('.', first + 1);
    if (first < 0 || second < 0 || token.indexOf('.', second + 1) >= 0) {
      return "signed-in user";
    }
    try {
      JsonNode claims =
          JSON.readTree(
              new String(
                  Base64.getUrlDecoder().decode(token.substring(first + 1, second)),
                  StandardCharsets.UTF_8));
      return claims.path("sub").asText("signed-in user");
    } catch (Exception e) {
      return "signed-in user";
    }
  }

  /** The signed-in person's API client, name and session. */
  record Caller(ProtoradClient client, String name, Session session) {}

  // ---- pages ----

  /** Answers with a whole page: the navigation, then {@code body} (already HTML). */
  static void page(Context ctx, HttpStatus status, String title, String body) {
    page(ctx, status, title, body, null);
  }

  static void page(
      Context ctx,
      HttpStatus status,
      String title,
      String body,
      @org.jspecify.annotations.Nullable Caller caller) {
    String html =
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            + "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            + "<title>"
            + Html.text(title)
            + " · ProtoRad</title>"
            + "<link rel=\"stylesheet\" href=\"/static/console.css\">"
            + "<script src=\"/static/console.js\" defer></script></head><body>"
            + header(caller)
            + "<main><h1>"
            + Html.text(title)
            + "</h1>"
            + body
            + "</main></body></html>";
    ctx.status(status).contentType("text/html; charset=utf-8").result(html);
  }

  /** The navigation, and who is signed in with the way out. */
  private static String header(@org.jspecify.annotations.Nullable Caller caller) {
    return "<header><nav><strong>ProtoRad</strong>"
        + " <a href=\"/review\" accesskey=\"r\">Review</a>"
        + " <a href=\"/audit\" accesskey=\"u\">Audit</a>"
        + " <a href=\"/models\" accesskey=\"m\">Models</a></nav>"
        + (caller == null
            ? ""
            : "<form method=\"post\" action=\"/signout\" class=\"who\">"
                + Html.csrf(caller.session())
                + "<span id=\"signed-in\">"
                + Html.text(caller.name())
                + "</span> <button type=\"submit\">Sign out</button></form>")
        + "</header>";
  }

  private void apiError(ProtoradException e, Context ctx) {
    Session s = session(ctx).orElse(null);
    String who = s == null ? null : s.demoRole();
    HttpStatus status =
        switch (e.code()) {
          case PERMISSION_DENIED -> HttpStatus.FORBIDDEN;
          case UNAUTHENTICATED -> HttpStatus.UNAUTHORIZED;
          case INVALID_ARGUMENT, FAILED_PRECONDITION -> HttpStatus.BAD_REQUEST;
          case NOT_FOUND -> HttpStatus.NOT_FOUND;
          case UNAVAILABLE, RESOURCE_EXHAUSTED -> HttpStatus.SERVICE_UNAVAILABLE;
          default -> HttpStatus.INTERNAL_SERVER_ERROR;
        };
    String message =
        switch (e.code()) {
          case PERMISSION_DENIED ->
              "Your role"
                  + (who == null ? "" : " (" + Html.text(who) + ")")
                  + " may not do this. The attempt is in the audit trail.";
          case UNAUTHENTICATED -> "The server did not accept your sign-in.";
          // The API's descriptions name fields and limits, never note text.
          default -> Html.text(String.valueOf(e.getMessage()));
        };
    page(
        ctx,
        status,
        status == HttpStatus.FORBIDDEN ? "Not allowed" : "Error",
        "<p id=\"error\">"
            + message
            + "</p><p><a href=\"/signin\">Sign in as someone else</a></p>");
  }

  /** A form value the console refuses before calling the API. */
  private static String error(String message) {
    return "<p id=\"error\">" + Html.text(message) + "</p>";
  }

  /** Nothing by that name: answered 404 with the message, which names no patient data. */
  static final class NotFound extends RuntimeException {
    private static final long serialVersionUID = 1L;

    NotFound(String message) {
      super(message);
    }
  }

  static final class BadRequest extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final String message;

    BadRequest(String message) {
      super(message);
      this.message = message;
    }

    String message() {
      return message;
    }
  }
}
