package dev.normlab.track.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class DashboardSecurityTest {
  @TempDir static Path dir;
  static Path store;
  static DashboardServer server;
  static int port;

  @BeforeAll
  static void start() throws Exception {
    store = StoreFixture.create(dir);
    // A file next to the store that must never be served.
    Files.writeString(dir.resolve("secret.txt"), "TOP-SECRET-CONTENT");
    server = DashboardServer.start(new DashboardServer.Options(store, "127.0.0.1", 0, null, 2));
    port = server.port();
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "/api/runs?status=done",
        "/api/runs?sort=name;DROP%20TABLE%20runs",
        "/api/runs?config.lr%27%20OR%201=1--=1",
        "/api/runs?bogus=1",
        "/api/runs?norm=a%27%20OR%20%271%27=%271",
        "/api/metrics?run=run0none&key=train/loss&x=wall",
        "/api/metrics?run=run0none&key=train/loss&max_points=1",
        "/api/metrics?run=run0none&key=train/loss&max_points=abc",
        "/api/metrics?run=run0none&key=train/loss&max_points=1000000",
        "/api/metrics?run=../../etc/passwd&key=train/loss",
        "/api/metrics?run=run0none&key=a%27b",
        "/api/metrics?key=train/loss",
        "/api/metrics?run=run0none&key=train/loss&key=test/loss",
        "/api/predictions?run=run0none&size=100000",
        "/api/predictions?run=run0none&size=0",
        "/api/predictions?run=run0none&page=-1",
        "/api/predictions?run=run0none&mistakes=yes",
        "/api/predictions?run=run0none&sort=label",
        "/api/predictions?run=run0none&mistake=1",
        "/api/predictions?run=%00",
        "/api/compare-predictions?a=run0none",
        "/api/compare-predictions?a=run0none&b=run1batch&which=all",
        "/api/confusion",
        "/api/confusion?run=run0none%27--",
        "/api/image?run=run0none",
        "/api/image?run=run0none&example=-3",
        "/api/tables",
        "/api/tables?run=run2instance&name=feature_maps",
        "/api/table?run=run2instance",
        "/api/table?run=run2instance&name=feature_maps&sort=spread%27)%20OR%201=1--",
        "/api/table?run=run2instance&name=feature_maps&column=layer%27--&value=x",
        "/api/table?run=run2instance&name=feature_maps&order=sideways",
        "/api/table?run=run2instance%27--&name=feature_maps",
        "/api/table?run=run2instance&name=feature_maps&page=-1",
      })
  void badParametersGive400WithJsonError(String target) {
    RawHttp.Response r = RawHttp.get(port, target);
    assertEquals(400, r.status(), target + " -> " + r.text());
    assertTrue(r.header("Content-Type").startsWith("application/json"));
    assertNotNull(r.json().get("error"));
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "/../../../../etc/passwd",
        "/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        "/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd",
        "/app.js/../../../../etc/passwd",
        "/..%2f..%2f..%2fetc%2fpasswd",
        "/%252e%252e/etc/passwd",
        "//etc/passwd",
        "/etc/passwd",
        "/secret.txt",
        "/runs.db",
        "/../secret.txt",
        "/%2e%2e/secret.txt",
        "/dev/normlab/track/schema.sql",
        "/dev/normlab/track/web/app.js",
        "/META-INF/maven/org.webjars.npm/echarts/pom.properties",
        "/vendor/../../../etc/passwd",
        "/api/../../etc/passwd",
        "/api/image/../../../etc/passwd",
        "/nope",
      })
  void traversalAndUnknownPathsAreRefused(String target) {
    RawHttp.Response r = RawHttp.get(port, target);
    assertTrue(r.status() == 403 || r.status() == 404, target + " -> " + r.status());
    String body = r.text();
    assertFalse(body.contains("root:"), body);
    assertFalse(body.contains("TOP-SECRET"), body);
    assertFalse(body.contains("CREATE TABLE"), body);
    assertFalse(body.contains("SQLite format"), body);
  }

  @Test
  void malformedUrisAreRefusedByTheHttpLayer() {
    // The JDK's server answers 400 itself for a URI it cannot parse.
    assertEquals(400, RawHttp.get(port, "/api/image?run=run0none&example=%zz").status());
    assertEquals(400, RawHttp.get(port, "/..\\..\\etc\\passwd").status());
  }

  @Test
  void absoluteUriTargetIsRefused() {
    RawHttp.Response r = RawHttp.get(port, "file:///etc/passwd");
    assertTrue(r.status() >= 400, "status " + r.status());
    assertFalse(r.text().contains("root:"));
  }

  @Test
  void allowListedFilesAndSecurityHeaders() {
    for (String path :
        new String[] {"/", "/app.js", "/style.css", "/vendor/echarts.min.js", "/api/runs"}) {
      RawHttp.Response r = RawHttp.get(port, path);
      assertEquals(200, r.status(), path);
      assertTrue(r.header("Content-Security-Policy").contains("default-src 'none'"), path);
      assertTrue(r.header("Content-Security-Policy").contains("script-src 'self'"), path);
      assertEquals("nosniff", r.header("X-Content-Type-Options"), path);
    }
    assertTrue(RawHttp.get(port, "/").text().contains("<table id=\"runs-table\""));
  }

  @Test
  void onlyGetAndLocalHostNames() {
    assertEquals(405, RawHttp.request(port, "POST", "/api/runs", "127.0.0.1:" + port).status());
    assertEquals(405, RawHttp.request(port, "DELETE", "/", "127.0.0.1:" + port).status());
    // DNS rebinding: another site's name pointed at 127.0.0.1.
    assertEquals(403, RawHttp.request(port, "GET", "/api/runs", "evil.example:" + port).status());
    assertEquals(200, RawHttp.request(port, "GET", "/api/runs", "localhost:" + port).status());
  }

  @Test
  void defaultBindAddressIsLoopback() throws Exception {
    DashboardServer.Options defaults = DashboardServer.Options.defaults(store);
    assertEquals("127.0.0.1", defaults.host());
    assertEquals(8080, defaults.port());
    try (DashboardServer s =
        DashboardServer.start(new DashboardServer.Options(store, defaults.host(), 0, null, 1))) {
      assertTrue(s.isLoopback());
      assertEquals("127.0.0.1", s.address().getAddress().getHostAddress());
    }
  }

  @Test
  void tokenIsRequiredWhenSet() throws Exception {
    try (DashboardServer s =
        DashboardServer.start(
            new DashboardServer.Options(store, "127.0.0.1", 0, "s3cret-token", 1))) {
      int p = s.port();
      assertEquals(401, RawHttp.get(p, "/api/runs").status());
      assertEquals(401, RawHttp.get(p, "/").status());
      assertEquals(401, RawHttp.get(p, "/app.js").status());
      assertEquals(401, RawHttp.get(p, "/api/runs?token=wrong").status());
      assertEquals(401, RawHttp.get(p, "/api/runs?token=s3cret-toke").status());
      assertEquals(401, RawHttp.get(p, "/api/runs", "X-Normlab-Token: nope").status());
      assertEquals(401, RawHttp.get(p, "/api/runs", "Cookie: normlab_token=nope").status());
      assertEquals(200, RawHttp.get(p, "/api/runs", "X-Normlab-Token: s3cret-token").status());
      assertEquals(200, RawHttp.get(p, "/api/runs", "Authorization: Bearer s3cret-token").status());
      assertEquals(
          200,
          RawHttp.get(p, "/api/image?run=run0none&example=1", "Cookie: normlab_token=s3cret-token")
              .status());
      RawHttp.Response page = RawHttp.get(p, "/?token=s3cret-token");
      assertEquals(200, page.status());
      assertTrue(page.header("Set-Cookie").contains("HttpOnly"));
      assertTrue(page.header("Set-Cookie").contains("SameSite=Strict"));
    }
  }
}
