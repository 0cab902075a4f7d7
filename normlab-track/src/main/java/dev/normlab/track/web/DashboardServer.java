package dev.normlab.track.web;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.normlab.io.Json;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The dashboard: a JSON API over a run store plus the page, on the JDK's HTTP server. Binds
 * 127.0.0.1 unless told otherwise; with a token every request must carry it.
 */
public final class DashboardServer implements AutoCloseable {
  static final String CSP =
      "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline';"
          + " img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none';"
          + " frame-ancestors 'none'";
  static final String TOKEN_HEADER = "X-Normlab-Token";
  static final String TOKEN_COOKIE = "normlab_token";
  private static final String RESOURCES = "/dev/normlab/track/web/";

  /** How to start: store file, address, port (0 = any free), optional token, worker threads. */
  public record Options(Path store, String host, int port, String token, int threads) {
    public Options {
      if (host == null || host.isBlank()) {
        host = "127.0.0.1";
      }
      if (port < 0 || port > 65535) {
        throw new IllegalArgumentException("port must be in [0, 65535], got " + port);
      }
      if (token != null && !token.matches("[A-Za-z0-9._~+/=-]{8,256}")) {
        throw new IllegalArgumentException(
            "--token must be 8 to 256 characters of A-Z a-z 0-9 . _ ~ + / = -");
      }
      if (threads < 1) {
        threads = 8;
      }
    }

    public static Options defaults(Path store) {
      return new Options(store, "127.0.0.1", 8080, null, 8);
    }
  }

  private record Asset(String contentType, byte[] bytes) {}

  private final StoreReader store;
  private final HttpServer server;
  private final ExecutorService workers;
  private final byte[] token;
  private final boolean loopback;
  private final Map<String, Asset> assets;
  private final AtomicLong served = new AtomicLong();

  private DashboardServer(Options o) throws IOException {
    InetAddress address = InetAddress.getByName(o.host());
    this.loopback = address.isLoopbackAddress();
    this.token = o.token() == null ? null : o.token().getBytes(StandardCharsets.UTF_8);
    this.assets = loadAssets();
    this.store = new StoreReader(o.store());
    AtomicInteger n = new AtomicInteger();
    this.workers =
        Executors.newFixedThreadPool(
            o.threads(),
            r -> {
              Thread t = new Thread(r, "normlab-dashboard-" + n.incrementAndGet());
              t.setDaemon(true);
              return t;
            });
    try {
      this.server = HttpServer.create(new InetSocketAddress(address, o.port()), 128);
    } catch (IOException e) {
      store.close();
      workers.shutdown();
      throw new IOException(
          "cannot listen on " + o.host() + ":" + o.port() + ": " + e.getMessage(), e);
    }
    server.setExecutor(workers);
    server.createContext("/", this::handle);
  }

  /** Starts a server; the caller closes it. */
  public static DashboardServer start(Options o) throws IOException {
    DashboardServer s = new DashboardServer(o);
    s.server.start();
    return s;
  }

  public int port() {
    return server.getAddress().getPort();
  }

  public InetSocketAddress address() {
    return server.getAddress();
  }

  /** True when bound to a loopback address (reachable from this machine only). */
  public boolean isLoopback() {
    return loopback;
  }

  public URI url() {
    InetAddress bound = server.getAddress().getAddress();
    // On a wildcard address the page is reachable locally through 127.0.0.1.
    String host = bound.isAnyLocalAddress() ? "127.0.0.1" : bound.getHostAddress();
    if (host.contains(":")) {
      host = "[" + host + "]";
    }
    return URI.create("http://" + host + ":" + port() + "/");
  }

  /** Requests answered so far (for the load test). */
  public long served() {
    return served.get();
  }

  @Override
  public void close() {
    server.stop(0);
    workers.shutdownNow();
    store.close();
  }

  private static Map<String, Asset> loadAssets() {
    Map<String, Asset> a = new LinkedHashMap<>();
    Asset index = new Asset("text/html; charset=utf-8", resource(RESOURCES + "index.html"));
    a.put("/", index);
    a.put("/index.html", index);
    a.put("/app.js", new Asset("text/javascript; charset=utf-8", resource(RESOURCES + "app.js")));
    a.put("/style.css", new Asset("text/css; charset=utf-8", resource(RESOURCES + "style.css")));
    a.put("/vendor/echarts.min.js", new Asset("text/javascript; charset=utf-8", echarts()));
    return Map.copyOf(a);
  }

  /** The ECharts script from its WebJar on the classpath. */
  static byte[] echarts() {
    Properties p = new Properties();
    try (InputStream in =
        DashboardServer.class.getResourceAsStream(
            "/META-INF/maven/org.webjars.npm/echarts/pom.properties")) {
      if (in == null) {
        throw new IllegalStateException("the ECharts WebJar is not on the classpath");
      }
      p.load(in);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return resource(
        "/META-INF/resources/webjars/echarts/" + p.getProperty("version") + "/dist/echarts.min.js");
  }

  static byte[] resource(String path) {
    try (InputStream in = DashboardServer.class.getResourceAsStream(path)) {
      if (in == null) {
        throw new IllegalStateException("missing resource " + path);
      }
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  // ------------------------------------------------------------------ request handling

  private void handle(HttpExchange ex) throws IOException {
    try (ex) {
      served.incrementAndGet();
      var headers = ex.getResponseHeaders();
      headers.set("Content-Security-Policy", CSP);
      headers.set("X-Content-Type-Options", "nosniff");
      headers.set("X-Frame-Options", "DENY");
      headers.set("Referrer-Policy", "no-referrer");
      headers.set("Cross-Origin-Resource-Policy", "same-origin");
      try {
        route(ex);
      } catch (BadRequest e) {
        sendJson(ex, e.status(), Map.of("error", e.getMessage()));
      } catch (SQLException | RuntimeException e) {
        System.err.println("normlab serve: " + ex.getRequestURI().getRawPath() + ": " + e);
        sendJson(ex, 500, Map.of("error", "internal error reading the run store"));
      }
    } catch (IOException e) {
      // the client went away: nothing to answer
    }
  }

  private void route(HttpExchange ex) throws IOException, SQLException {
    String method = ex.getRequestMethod();
    if (!method.equals("GET") && !method.equals("HEAD")) {
      ex.getResponseHeaders().set("Allow", "GET, HEAD");
      throw new BadRequest(405, "method not allowed");
    }
    if (loopback && !hostAllowed(ex.getRequestHeaders().getFirst("Host"))) {
      // A page on another site that rebinds its DNS name to 127.0.0.1 sends its own Host.
      throw new BadRequest(403, "unexpected Host header");
    }
    String path = ex.getRequestURI().getRawPath();
    Params params = Params.parse(ex.getRequestURI().getRawQuery());
    if (token != null) {
      checkToken(ex, params);
    }
    if (path.startsWith("/api/")) {
      ex.getResponseHeaders().set("Cache-Control", "no-store");
      api(ex, path.substring(5), params);
      return;
    }
    String lower = path.toLowerCase(Locale.ROOT);
    if (lower.contains("..")
        || lower.contains("%2e")
        || lower.contains("%2f")
        || lower.contains("%5c")
        || lower.contains("\\")
        || lower.contains("//")) {
      throw new BadRequest(403, "forbidden path");
    }
    Asset asset = assets.get(path);
    if (asset == null) {
      throw new BadRequest(404, "not found");
    }
    ex.getResponseHeaders().set("Content-Type", asset.contentType());
    ex.getResponseHeaders().set("Cache-Control", "no-cache");
    send(ex, 200, asset.bytes());
  }

  private boolean hostAllowed(String host) {
    if (host == null) {
      return false;
    }
    String h = host.toLowerCase(Locale.ROOT);
    int colon = h.lastIndexOf(':');
    if (colon > 0 && !h.endsWith("]")) {
      h = h.substring(0, colon);
    }
    return h.equals("127.0.0.1") || h.equals("localhost") || h.equals("[::1]");
  }

  private void checkToken(HttpExchange ex, Params params) {
    var h = ex.getRequestHeaders();
    String given = params.all().get("token");
    boolean fromQuery = given != null;
    if (given == null) {
      given = h.getFirst(TOKEN_HEADER);
    }
    if (given == null) {
      String auth = h.getFirst("Authorization");
      if (auth != null && auth.startsWith("Bearer ")) {
        given = auth.substring(7);
      }
    }
    if (given == null) {
      given = cookie(h.getFirst("Cookie"), TOKEN_COOKIE);
    }
    if (given == null || !MessageDigest.isEqual(token, given.getBytes(StandardCharsets.UTF_8))) {
      throw new BadRequest(401, "a valid token is required (?token=, header " + TOKEN_HEADER + ")");
    }
    if (fromQuery) {
      // The page's scripts and images then authenticate with the cookie.
      ex.getResponseHeaders()
          .add("Set-Cookie", TOKEN_COOKIE + "=" + given + "; Path=/; HttpOnly; SameSite=Strict");
    }
  }

  private static String cookie(String header, String name) {
    if (header == null) {
      return null;
    }
    for (String part : header.split(";")) {
      String p = part.trim();
      if (p.startsWith(name + "=")) {
        return p.substring(name.length() + 1);
      }
    }
    return null;
  }

  private static final Set<String> RUN_COLUMNS =
      Set.of("id", "name", "group", "status", "started_at", "ended_at");

  private void api(HttpExchange ex, String endpoint, Params p) throws IOException, SQLException {
    Object body =
        switch (endpoint) {
          case "runs" -> runs(p);
          case "groups" -> {
            p.allowOnly(Set.of());
            yield store.groups();
          }
          case "keys" -> {
            p.allowOnly(Set.of());
            yield store.keys();
          }
          case "metrics" -> metrics(p);
          case "parallel" -> parallel(p);
          case "importance" -> importance(p);
          case "predictions" -> predictions(p);
          case "compare-predictions" -> compare(p);
          case "tables" -> {
            p.allowOnly(Set.of("run"));
            yield store.tables(p.required("run", Params.RUN_ID));
          }
          case "table" -> table(p);
          case "prediction-sets" -> {
            p.allowOnly(Set.of("run"));
            yield store.shiftedSets(p.required("run", Params.RUN_ID));
          }
          case "confusion" -> {
            p.allowOnly(Set.of("run", "set"));
            yield store.confusion(p.required("run", Params.RUN_ID), set(p));
          }
          case "image" -> {
            p.allowOnly(Set.of("run", "set", "example"));
            String run = p.required("run", Params.RUN_ID);
            String set = set(p);
            Integer example = p.optionalInt("example", 0, Integer.MAX_VALUE);
            if (example == null) {
              throw new BadRequest("missing parameter 'example'");
            }
            byte[] png = store.image(run, set, example);
            if (png == null) {
              throw new BadRequest(404, "no image for this run and example");
            }
            ex.getResponseHeaders().set("Content-Type", "image/png");
            ex.getResponseHeaders().set("Cache-Control", "private, max-age=3600");
            send(ex, 200, png);
            yield null;
          }
          default -> throw new BadRequest(404, "no such API endpoint");
        };
    if (body != null) {
      sendJson(ex, 200, body);
    }
  }

  private Object runs(Params p) throws SQLException {
    Map<String, String> config = new LinkedHashMap<>();
    Set<String> known = Set.of("group", "status", "tag", "norm", "sort", "order", "token");
    for (var e : p.all().entrySet()) {
      String name = e.getKey();
      if (name.startsWith("config.")) {
        String key = name.substring(7);
        if (!Params.KEY.matcher(key).matches()) {
          throw new BadRequest("invalid config key '" + Params.printable(key) + "'");
        }
        if (e.getValue().isEmpty() || !Params.TEXT.matcher(e.getValue()).matches()) {
          throw new BadRequest("invalid value for " + Params.printable(name));
        }
        config.put(key, e.getValue());
      } else if (!known.contains(name)) {
        throw new BadRequest("unknown parameter '" + Params.printable(name) + "'");
      }
    }
    String status = p.oneOf("status", Params.STATUSES, null);
    String sort = p.optional("sort", Params.KEY);
    if (sort != null
        && !RUN_COLUMNS.contains(sort)
        && !sort.startsWith("config.")
        && !sort.startsWith("summary.")) {
      throw new BadRequest("sort must be a run column, config.<key> or summary.<key>");
    }
    boolean desc = p.oneOf("order", Set.of("asc", "desc"), "asc").equals("desc");
    return store.runs(
        new StoreReader.RunQuery(
            p.optional("group", Params.TEXT),
            status,
            p.optional("tag", Params.TEXT),
            p.optional("norm", Params.KEY),
            config,
            sort,
            desc));
  }

  static final int MAX_RUNS_PER_CHART = 50;

  private Object metrics(Params p) throws SQLException {
    p.allowOnly(Set.of("run", "key", "x", "max_points"));
    String runList = p.required("run", Params.RUN_LIST);
    String key = p.required("key", Params.KEY);
    StoreReader.XAxis x =
        StoreReader.XAxis.parse(p.oneOf("x", Set.of("step", "epoch", "time", "lr"), "step"));
    int maxPoints = p.intOr("max_points", 1000, 2, 10_000);
    String[] runs = runList.split(",");
    if (runs.length > MAX_RUNS_PER_CHART) {
      throw new BadRequest("at most " + MAX_RUNS_PER_CHART + " runs per chart");
    }
    List<Object> series = new ArrayList<>();
    for (String run : runs) {
      StoreReader.Series s = store.metric(run, key, x);
      StoreReader.Series d = s.downsample(maxPoints);
      List<Object> points = new ArrayList<>(d.size());
      for (int i = 0; i < d.size(); i++) {
        points.add(List.of(d.x()[i], d.y()[i]));
      }
      Map<String, Object> one = new LinkedHashMap<>();
      one.put("run", run);
      one.put("total", s.size());
      one.put("points", points);
      series.add(one);
    }
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("key", key);
    out.put("x", x.name().toLowerCase(Locale.ROOT));
    out.put("series", series);
    return out;
  }

  private Object parallel(Params p) throws SQLException {
    p.allowOnly(Set.of("group"));
    String group = p.optional("group", Params.TEXT);
    List<Map<String, Object>> runs =
        store.runs(group == null ? StoreReader.RunQuery.all() : StoreReader.RunQuery.group(group));
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("group", group);
    out.put("runs", runs);
    out.put("keys", store.keys());
    return out;
  }

  /** W&B's parameter importance: which config keys the runs' metric depends on. */
  private Object importance(Params p) throws SQLException {
    p.allowOnly(Set.of("group", "metric"));
    String group = p.optional("group", Params.TEXT);
    String metric = p.optional("metric", Params.TEXT);
    return StoreReader.importance(
        metric == null ? "test/accuracy" : metric,
        store.runs(group == null ? StoreReader.RunQuery.all() : StoreReader.RunQuery.group(group)));
  }

  private Object predictions(Params p) throws SQLException {
    p.allowOnly(Set.of("run", "set", "mistakes", "predicted", "label", "sort", "page", "size"));
    return store.predictions(
        new StoreReader.PredictionQuery(
            p.required("run", Params.RUN_ID),
            set(p),
            p.flag("mistakes"),
            p.optionalInt("predicted", 0, 100_000),
            p.optionalInt("label", 0, 100_000),
            p.oneOf("sort", Set.of("mistakes", "confidence", "-confidence", "example"), "example"),
            p.intOr("page", 0, 0, 1_000_000),
            p.intOr("size", 50, 1, 500)));
  }

  private Object table(Params p) throws SQLException {
    p.allowOnly(Set.of("run", "name", "sort", "order", "column", "value", "page", "size"));
    String column = p.optional("column", Params.TEXT);
    String value = p.optional("value", Params.TEXT);
    if ((column == null) != (value == null)) {
      throw new BadRequest("a filter needs both 'column' and 'value'");
    }
    return store.tableRows(
        new StoreReader.TableQuery(
            List.of(p.required("run", Params.RUN_LIST).split(",")),
            p.required("name", Params.TEXT),
            p.optional("sort", Params.TEXT),
            p.oneOf("order", Set.of("asc", "desc"), "asc").equals("desc"),
            column,
            value,
            p.intOr("page", 0, 0, 1_000_000),
            p.intOr("size", 20, 1, 200)));
  }

  private Object compare(Params p) throws SQLException {
    p.allowOnly(Set.of("a", "b", "set", "b_set", "which", "page", "size"));
    String set = set(p);
    // b_set absent: b on a's test images; b_set=-: b's own predictions
    String bSet = p.optional("b_set", Params.KEY);
    bSet = bSet == null ? set : bSet.equals("-") ? null : bSet;
    return store.comparePredictions(
        p.required("a", Params.RUN_ID),
        set,
        p.required("b", Params.RUN_ID),
        bSet,
        p.oneOf("which", Set.of("differ", "a", "b"), "differ"),
        p.intOr("page", 0, 0, 1_000_000),
        p.intOr("size", 50, 1, 500));
  }

  /**
   * The test set of a predictions request: empty for the run's own predictions, else a shifted
   * set's name as {@code normlab robustness} stores it ({@code invert}, {@code brightness_0.2},
   * {@code adapted/invert}).
   */
  private static String set(Params p) {
    return p.optional("set", Params.KEY);
  }

  private static void sendJson(HttpExchange ex, int status, Object body) throws IOException {
    ex.getResponseHeaders().set("Content-Type", "application/json; charset=utf-8");
    send(ex, status, Json.write(body).getBytes(StandardCharsets.UTF_8));
  }

  private static void send(HttpExchange ex, int status, byte[] body) throws IOException {
    boolean head = ex.getRequestMethod().equals("HEAD");
    ex.sendResponseHeaders(status, head ? -1 : body.length == 0 ? -1 : body.length);
    if (!head && body.length > 0) {
      try (OutputStream out = ex.getResponseBody()) {
        out.write(body);
      }
    }
  }
}
