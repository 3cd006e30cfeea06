package dev.protorad.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.protorad.api.v1.AssignProtocolRequest;
import dev.protorad.api.v1.AuditEvent;
import dev.protorad.api.v1.QueryAuditEventsRequest;
import dev.protorad.client.ProtoradClient;
import dev.protorad.server.config.ConfigLoader;
import dev.protorad.server.config.ServerConfig;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.Cookie;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The console in a real browser (headless Chromium through Selenium) over a real server: a
 * radiologist clears the review worklist; a clinician is refused the audit page; a compliance
 * officer searches, exports CSV and verifies the trail; an ML lead moves an alias after confirming.
 * Every console action is in the audit trail under the person signed in. Screenshots of each page
 * go to {@code target/console-screenshots}.
 */
class ConsoleBrowserTest {

  private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
  private static final Path DRIVER = Path.of("/usr/bin/chromedriver");
  private static final Path SHOTS = Path.of("target", "console-screenshots");

  @TempDir Path dir;
  private DemoServer server;
  private ConsoleLauncher console;
  private WebDriver browser;

  @BeforeEach
  void start() throws Exception {
    assumeTrue(
        Files.isExecutable(CHROMIUM) && Files.isExecutable(DRIVER),
        "Debian's chromium and chromium-driver (.ci/run installs them)");
    // Every answer below this confidence goes to review: all of them, on the tiny test model.
    Path config =
        Files.writeString(dir.resolve("protorad.yaml"), "model:\n  review_threshold: 1.0\n");
    server = DemoServer.start(dir, config);
    ServerConfig consoleOn = ConfigLoader.withEnvironment(java.util.Map.of()).load(config);
    consoleOn = consoleOn.withConsole(consoleOn.console().enabledOn(0));
    console = ConsoleLauncher.startIfEnabled(consoleOn, server.port, server.keys);
    ChromeOptions options = new ChromeOptions();
    options.setBinary(CHROMIUM.toFile());
    options.addArguments(
        "--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,900");
    browser =
        new ChromeDriver(
            new ChromeDriverService.Builder().usingDriverExecutable(DRIVER.toFile()).build(),
            options);
    browser.manage().timeouts().implicitlyWait(Duration.ofSeconds(5));
    Files.createDirectories(SHOTS);
  }

  @AfterEach
  void stop() throws Exception {
    if (browser != null) {
      browser.quit();
    }
    if (console != null) {
      console.close();
    }
    if (server != null) {
      server.close();
    }
  }

  private void signIn(String role) {
    browser.manage().deleteAllCookies();
    browser.get(console.url() + "signin");
    browser.findElement(By.id("role-" + role)).click();
    follow(By.id("sign-in"));
    assertThat(text("signed-in")).isEqualTo("demo " + role);
  }

  /** Clicks what {@code link} finds and waits until the browser has left the page it was on. */
  private void follow(By link) {
    WebElement page = browser.findElement(By.tagName("html"));
    browser.findElement(link).click();
    new WebDriverWait(browser, Duration.ofSeconds(10)).until(d -> left(page));
  }

  /**
   * Whether {@code page} has left the document. Chromium answers a detached node with a stale
   * element error, or (while the old document is torn down) with "does not belong to the document".
   */
  private static boolean left(WebElement page) {
    try {
      page.getTagName();
      return false;
    } catch (org.openqa.selenium.StaleElementReferenceException e) {
      return true;
    } catch (org.openqa.selenium.WebDriverException e) {
      if (String.valueOf(e.getMessage()).contains("does not belong to the document")) {
        return true;
      }
      throw e;
    }
  }

  private void shot(String name) throws Exception {
    byte[] png = ((TakesScreenshot) browser).getScreenshotAs(OutputType.BYTES);
    Files.write(SHOTS.resolve(name + ".png"), png);
  }

  private String text(String id) {
    return browser.findElement(By.id(id)).getText();
  }

  @Test
  void eachRole_doesItsWorkInTheBrowser_andTheTrailNamesThePersonSignedIn() throws Exception {
    ProtoradClient clinician = server.as("clinician");
    for (int i = 0; i < 3; i++) {
      clinician.assignProtocol(
          AssignProtocolRequest.newBuilder()
              .setOrderId("BR-" + i)
              .setNote("woman " + i + " with flank pain and hematuria, r/o stone")
              .build());
    }
    TinyTraining.train(server.as("ml-engineer"));

    // The radiologist clears the worklist: each item shows its note; accept, then the next.
    signIn("radiologist");
    assertThat(browser.findElements(By.cssSelector("#worklist tbody tr"))).hasSize(3);
    shot("review-worklist");
    follow(By.cssSelector("#worklist a.open"));
    assertThat(text("note")).contains("flank pain and hematuria");
    shot("review-item");
    for (int i = 0; i < 3; i++) {
      assertThat(text("note")).contains("r/o stone");
      if (i == 1) {
        WebElement label = browser.findElement(By.id("label"));
        new org.openqa.selenium.support.ui.Select(label).selectByValue("ct-abdomen-pelvis-wo");
        follow(By.id("correct"));
      } else {
        follow(By.id("accept"));
      }
    }
    assertThat(text("worklist-empty")).contains("Nothing waits");
    assertThat(browser.getCurrentUrl()).doesNotContain("stone");

    // A clinician may not read the audit trail: the page says so, and the attempt is audited.
    signIn("clinician");
    browser.get(console.url() + "audit");
    assertThat(text("error")).contains("may not");
    shot("denied");
    // Each page refuses the roles without its permission.
    for (String[] denied :
        new String[][] {
          {"compliance-officer", "review"},
          {"radiologist", "models"},
          {"ml-lead", "audit"},
          {"clinician", "models/versions/tiny/1"}
        }) {
      signIn(denied[0]);
      browser.get(console.url() + denied[1]);
      assertThat(text("error")).as(denied[0] + " on " + denied[1]).contains("may not");
    }

    // The compliance officer: search, export, verify.
    signIn("compliance-officer");
    browser.findElement(By.id("q-principal")).sendKeys("demo-radiologist");
    follow(By.id("search-button"));
    List<WebElement> rows = browser.findElements(By.cssSelector("#events tbody tr"));
    assertThat(rows).isNotEmpty();
    shot("audit");
    String csv = download(browser.findElement(By.id("export-csv")).getAttribute("href"));
    assertThat(csv.lines().skip(1))
        .isNotEmpty()
        .allMatch(line -> line.contains("demo-radiologist"))
        .anyMatch(line -> line.contains("ReviewPrediction"))
        .noneMatch(line -> line.contains("hematuria"));
    follow(By.cssSelector("#events a.event"));
    assertThat(text("event"))
        .contains("record_hash")
        .contains("previous_hash")
        .contains("demo-radiologist");
    shot("audit-event");
    browser.get(console.url() + "audit/event?id=nobody:1");
    assertThat(text("error")).contains("no audit event nobody:1");
    browser.get(console.url() + "audit");
    follow(By.id("verify"));
    assertThat(text("verify-result")).startsWith("Valid");

    // The ML lead moves an alias, after a confirmation page.
    signIn("ml-lead");
    shot("models");
    browser.findElement(By.id("alias-name")).sendKeys("tiny");
    browser.findElement(By.id("alias-alias")).sendKeys("staging");
    browser.findElement(By.id("alias-version")).sendKeys("1");
    follow(By.id("alias-next"));
    assertThat(text("confirm-text")).contains("tiny@staging").contains("tiny@1");
    follow(By.id("alias-confirm"));
    assertThat(text("moved")).contains("tiny@1");
    // The training job's loss chart, drawn by the bundled ECharts under the page's CSP.
    browser.get(console.url() + "models");
    follow(By.cssSelector("#jobs a"));
    assertThat(browser.findElements(By.cssSelector("#loss-chart canvas"))).isNotEmpty();
    assertThat(text("job-phase")).isEqualTo("done");
    assertThat(plotted("loss-chart")).as("the finished job's whole loss history").isEqualTo(2);
    shot("training-job");
    // Its version: lineage and the pictures of the evaluation training recorded.
    follow(By.linkText("tiny@1"));
    assertThat(text("evaluation-split")).contains("3 notes of the test split");
    for (String chart :
        List.of("reliability-chart", "coverage-chart", "confusion-chart", "loss-history-chart")) {
      assertThat(browser.findElements(By.cssSelector("#" + chart + " canvas"))).isNotEmpty();
    }
    assertThat(plotted("loss-history-chart")).isEqualTo(2);
    assertThat(text("lineage")).contains("demo-ml-engineer");
    ((org.openqa.selenium.JavascriptExecutor) browser)
        .executeScript("document.getElementById('evaluation-split').scrollIntoView()");
    shot("model-version");
    // A version imported from bare PEFT files has no evaluation to show, and says so.
    ProtoradClient ml = server.as("ml-engineer");
    Path exported = dir.resolve("exported");
    ml.exportAdapter("tiny@1", exported);
    String imported = ml.importAdapter("tiny", exported).getRef();
    browser.get(console.url() + "models/versions/" + imported.replace('@', '/'));
    assertThat(text("no-evaluation")).contains("recorded no evaluation");

    List<AuditEvent> events =
        server
            .as("compliance-officer")
            .queryAuditEvents(QueryAuditEventsRequest.newBuilder().setPageSize(1000).build())
            .getEventsList();
    assertThat(events)
        .filteredOn(e -> e.getAction().endsWith("/ReviewPrediction"))
        .hasSize(3)
        .allMatch(e -> e.getPrincipal().equals("demo-radiologist"));
    assertThat(events)
        .filteredOn(e -> e.getAction().endsWith("/GetPredictionNote"))
        .allMatch(e -> e.getPrincipal().equals("demo-radiologist"));
    assertThat(events)
        .filteredOn(e -> e.getAction().endsWith("/SetAdapterAlias"))
        .singleElement()
        .satisfies(e -> assertThat(e.getPrincipal()).isEqualTo("demo-ml-lead"));
    assertThat(events)
        .filteredOn(e -> e.getStatusCode().equals("PERMISSION_DENIED"))
        .extracting(e -> e.getPrincipal() + " " + e.getAction().replaceAll(".*/", ""))
        .containsExactlyInAnyOrder(
            "demo-clinician QueryAuditEvents",
            "demo-compliance-officer ListPredictions",
            "demo-radiologist ListAdapters",
            "demo-ml-lead QueryAuditEvents",
            "demo-clinician GetAdapter");
  }

  /** How many points the ECharts chart in element {@code id} plots in its first series. */
  private long plotted(String id) {
    Object n =
        ((org.openqa.selenium.JavascriptExecutor) browser)
            .executeScript(
                "var c = echarts.getInstanceByDom(document.getElementById(arguments[0]));"
                    + " return c.getOption().series[0].data.length;",
                id);
    return ((Number) n).longValue();
  }

  /** Fetches an export link with the browser's session cookie, as the browser would. */
  private String download(String href) throws Exception {
    Cookie session = browser.manage().getCookieNamed("protorad_console");
    HttpResponse<String> r =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(URI.create(href))
                    .header("Cookie", "protorad_console=" + session.getValue())
                    .build(),
                HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("Content-Security-Policy")).isPresent();
    return r.body();
  }
}
