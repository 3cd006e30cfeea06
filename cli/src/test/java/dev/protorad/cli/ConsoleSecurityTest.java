package dev.protorad.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.protorad.api.v1.AssignProtocolRequest;
import dev.protorad.api.v1.AuditEvent;
import dev.protorad.api.v1.GetPredictionRequest;
import dev.protorad.api.v1.QueryAuditEventsRequest;
import dev.protorad.console.ConsoleServer;
import dev.protorad.console.ConsoleSettings;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The console behind an authenticating proxy, over HTTP: people are who their proxy token says
 * (asserted under the gateway key, so the server checks the token and records the person); no
 * token, no page; a form without the session's CSRF token changes nothing; every answer carries the
 * security headers; the session cookie is HttpOnly and SameSite=Strict (and Secure when the console
 * is reached over TLS).
 */
class ConsoleSecurityTest {

  private static final String HEADER = "X-Forwarded-Access-Token";
  private static final Pattern CSRF = Pattern.compile("name=\"csrf\" value=\"([^\"]+)\"");

  @TempDir Path dir;
  private DemoServer server;
  private ManagedChannel channel;
  private ConsoleServer console;
  private final HttpClient http = HttpClient.newHttpClient();

  @BeforeEach
  void start() throws Exception {
    Path config =
        Files.writeString(dir.resolve("protorad.yaml"), "model:\n  review_threshold: 1.0\n");
    server = DemoServer.start(dir, config);
    channel = ManagedChannelBuilder.forAddress("127.0.0.1", server.port).usePlaintext().build();
    console = console(false);
  }

  private ConsoleServer console(boolean secureCookies) {
    return ConsoleServer.start(
        new ConsoleSettings(
            "127.0.0.1",
            0,
            Map.of(),
            Optional.of(new ConsoleSettings.Gateway(server.keys.get("gateway"), HEADER)),
            secureCookies),
        channel);
  }

  @AfterEach
  void stop() throws Exception {
    console.close();
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    server.close();
  }

  private String token(String user, String role) throws Exception {
    return DemoSetup.endUserToken(server.dataDir, user, role);
  }

  private HttpResponse<String> get(ConsoleServer c, String path, String token, String cookie)
      throws Exception {
    HttpRequest.Builder r = HttpRequest.newBuilder(URI.create(c.url() + path.substring(1)));
    if (token != null) {
      r.header(HEADER, token);
    }
    if (cookie != null) {
      r.header("Cookie", cookie);
    }
    return http.send(r.build(), HttpResponse.BodyHandlers.ofString());
  }

  private HttpResponse<String> post(String path, String token, String cookie, String form)
      throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create(console.url() + path.substring(1)))
            .header(HEADER, token)
            .header("Cookie", cookie)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .POST(HttpRequest.BodyPublishers.ofString(form))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static String cookie(HttpResponse<?> r) {
    String set = r.headers().firstValue("Set-Cookie").orElseThrow();
    return set.substring(0, set.indexOf(';'));
  }

  @Test
  void theProxysPerson_reviewsUnderTheirOwnName_andFormsWithoutTheCsrfTokenChangeNothing()
      throws Exception {
    String id =
        server
            .as("clinician")
            .assignProtocol(
                AssignProtocolRequest.newBuilder()
                    .setOrderId("SEC-1")
                    .setNote("acute onset worst headache of life, r/o SAH")
                    .build())
            .getPredictionId();

    HttpResponse<String> anonymous = get(console, "/review", null, null);
    assertThat(anonymous.statusCode()).isEqualTo(401);

    String kim = token("dr.kim", "radiologist");
    HttpResponse<String> list = get(console, "/review", kim, null);
    assertThat(list.statusCode()).isEqualTo(200);
    assertThat(list.body()).contains("dr.kim").contains("/review/" + id);
    assertThat(list.headers().firstValue("Content-Security-Policy")).contains(expectedPolicy());
    assertThat(list.headers().firstValue("Cache-Control")).contains("no-store");
    assertThat(list.headers().firstValue("X-Frame-Options")).contains("DENY");
    String setCookie = list.headers().firstValue("Set-Cookie").orElseThrow();
    assertThat(setCookie).contains("HttpOnly").contains("SameSite=Strict").doesNotContain("Secure");
    String session = cookie(list);

    HttpResponse<String> item = get(console, "/review/" + id, kim, session);
    assertThat(item.body()).contains("worst headache of life");
    Matcher csrf = CSRF.matcher(item.body());
    assertThat(csrf.find()).isTrue();

    HttpResponse<String> forged = post("/review/" + id, kim, session, "decision=accept");
    assertThat(forged.statusCode()).isEqualTo(403);
    HttpResponse<String> wrong =
        post("/review/" + id, kim, session, "decision=accept&csrf=not-the-token");
    assertThat(wrong.statusCode()).isEqualTo(403);
    assertThat(
            server
                .as("radiologist")
                .getPrediction(GetPredictionRequest.newBuilder().setPredictionId(id).build())
                .getPrediction()
                .hasReview())
        .isFalse();

    // Another person's token on this session (and its CSRF token) is refused.
    HttpResponse<String> borrowed =
        post(
            "/review/" + id,
            token("dr.lee", "radiologist"),
            session,
            "decision=accept&csrf=" + csrf.group(1));
    assertThat(borrowed.statusCode()).isEqualTo(403);
    assertThat(borrowed.body()).contains("someone else");
    session = cookie(get(console, "/review", kim, null));
    csrf = CSRF.matcher(get(console, "/review/" + id, kim, session).body());
    assertThat(csrf.find()).isTrue();

    HttpResponse<String> accepted =
        post("/review/" + id, kim, session, "decision=accept&csrf=" + csrf.group(1));
    assertThat(accepted.statusCode()).isEqualTo(302);
    assertThat(
            server
                .as("radiologist")
                .getPrediction(GetPredictionRequest.newBuilder().setPredictionId(id).build())
                .getPrediction()
                .getReview()
                .getReviewer())
        .isEqualTo("dr.kim");
    List<AuditEvent> reviews =
        server
            .as("compliance-officer")
            .queryAuditEvents(
                QueryAuditEventsRequest.newBuilder()
                    .setAction("protorad.v1.ProtocolService/ReviewPrediction")
                    .build())
            .getEventsList();
    assertThat(reviews)
        .singleElement()
        .satisfies(
            e -> {
              assertThat(e.getOnBehalfOf()).isEqualTo("dr.kim");
              assertThat(e.getPrincipal()).isEqualTo("demo-gateway");
            });
  }

  @Test
  void rolesTheGatewayMayNotAssert_andPagesARoleMayNotSee_areRefused() throws Exception {
    HttpResponse<String> officer =
        get(console, "/audit", token("ms.lane", "compliance-officer"), null);
    assertThat(officer.statusCode()).isIn(401, 403);

    HttpResponse<String> clinician = get(console, "/audit", token("dr.lee", "clinician"), null);
    assertThat(clinician.statusCode()).isEqualTo(403);
    assertThat(clinician.body()).contains("may not");
    HttpResponse<String> version =
        get(console, "/models/versions/protocol/1", token("dr.lee", "clinician"), null);
    assertThat(version.statusCode()).isEqualTo(403);
    HttpResponse<String> malformed =
        get(console, "/models/versions/protocol/0", token("dr.lee", "clinician"), null);
    assertThat(malformed.statusCode()).isEqualTo(400);

    HttpResponse<String> forgedToken = get(console, "/review", "not.a.jwt", null);
    assertThat(forgedToken.statusCode()).isEqualTo(401);
  }

  @Test
  void overTls_theSessionCookieIsSecure() throws Exception {
    try (ConsoleServer secure = console(true)) {
      HttpResponse<String> r = get(secure, "/review", token("dr.kim", "radiologist"), null);
      assertThat(r.headers().firstValue("Set-Cookie").orElseThrow()).contains("; Secure");
    }
  }

  private static String expectedPolicy() {
    return "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:;"
        + " connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
  }
}
