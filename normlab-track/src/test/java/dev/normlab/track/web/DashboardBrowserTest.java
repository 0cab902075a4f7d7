package dev.normlab.track.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.NoAlertPresentException;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.Select;
import org.openqa.selenium.support.ui.WebDriverWait;

/** Drives Debian's headless Chromium through the dashboard and the report file. */
class DashboardBrowserTest {
  static final String CHROMIUM = "/usr/bin/chromium";
  static final String CHROMEDRIVER = "/usr/bin/chromedriver";

  @TempDir static Path dir;
  static Path store;
  static DashboardServer server;
  static ChromeDriver driver;

  @BeforeAll
  static void start() throws Exception {
    assertTrue(Files.isExecutable(Path.of(CHROMIUM)), "the browser tests need " + CHROMIUM);
    assertTrue(Files.isExecutable(Path.of(CHROMEDRIVER)), "the browser tests need " + CHROMEDRIVER);
    store = StoreFixture.create(dir);
    server = DashboardServer.start(new DashboardServer.Options(store, "127.0.0.1", 0, null, 4));
    // Both paths given, so Selenium Manager (which downloads drivers) is never asked.
    System.setProperty("webdriver.chrome.driver", CHROMEDRIVER);
    ChromeOptions options = new ChromeOptions();
    options.setBinary(CHROMIUM);
    options.addArguments(
        "--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,1000");
    ChromeDriverService service =
        new ChromeDriverService.Builder()
            .usingDriverExecutable(new File(CHROMEDRIVER))
            .usingAnyFreePort()
            .build();
    driver = new ChromeDriver(service, options);
  }

  @AfterAll
  static void stop() {
    if (driver != null) {
      driver.quit();
    }
    if (server != null) {
      server.close();
    }
  }

  /**
   * A wait that also retries a condition whose elements went stale: the live page re-renders its
   * runs table and refills its selects on every poll (5 s), whatever the test is doing.
   */
  static WebDriverWait waiting() {
    var wait = new WebDriverWait(driver, Duration.ofSeconds(30));
    wait.ignoring(StaleElementReferenceException.class);
    return wait;
  }

  /**
   * Picks {@code value} in the select {@code id}. The page refills its run selects' options when it
   * polls for new runs, so an option found a moment ago can be gone: pick again until it holds.
   */
  static void select(String id, String value) {
    waiting()
        .until(
            d -> {
              new Select(d.findElement(By.id(id))).selectByValue(value);
              return value.equals(d.findElement(By.id(id)).getDomProperty("value"));
            });
  }

  static Object js(String script, Object... args) {
    return ((JavascriptExecutor) driver).executeScript(script, args);
  }

  static void open(String url) {
    driver.get("about:blank"); // from the same page, a new hash alone would not load it again
    driver.get(url);
    waiting().until(d -> "1".equals(js("return document.body.dataset.ready")));
    String status = driver.findElement(By.id("status")).getText();
    assertFalse(status.startsWith("error"), status);
  }

  /** The name column, read in one script so a re-render cannot interleave. */
  @SuppressWarnings("unchecked")
  static List<String> runNames() {
    return (List<String>)
        js(
            "return [...document.querySelectorAll('#runs-table tbody tr[data-run] td:nth-child(2)')]"
                + ".map(td => td.textContent)");
  }

  /** Pixels of the first chart canvas that are not transparent. */
  static long paintedPixels(String container) {
    return ((Number)
            js(
                "const c = document.querySelector(arguments[0] + ' canvas');"
                    + "if (!c) return 0;"
                    + "const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;"
                    + "let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i] !== 0) n++;"
                    + "return n;",
                container))
        .longValue();
  }

  /** Halfway between the second and third best fixture accuracy. */
  static double brushFrom() {
    double[] acc = new double[6];
    for (int i = 0; i < 6; i++) {
      acc[i] = 1 - 0.5 * Math.exp(-StoreFixture.EPOCHS / (1.0 + i * 0.3));
    }
    return (acc[1] + acc[2]) / 2;
  }

  static void assertXssShownAsText() {
    assertTrue(runNames().contains(StoreFixture.XSS_NAME), "names: " + runNames());
    assertEquals(
        0L, js("return document.querySelectorAll('img[src=\"x\"], #runs-table img').length"));
    String tags =
        driver.findElement(By.cssSelector("tr[data-run='" + StoreFixture.XSS_ID + "']")).getText();
    assertTrue(tags.contains("<script>alert(2)</script>"), tags);
    assertTrue(tags.contains("<img src=x onerror=alert(3)>"), "notes as text: " + tags);
    WebElement status =
        driver.findElement(
            By.cssSelector("tr[data-run='" + StoreFixture.XSS_ID + "'] td.status-running"));
    assertEquals("<b>loss became NaN at step 3</b>", status.getDomProperty("title"));
    assertThrows(NoAlertPresentException.class, () -> driver.switchTo().alert());
  }

  /** The train/loss chart's series as [name, [[x, y], ...]]. */
  @SuppressWarnings("unchecked")
  static List<List<Object>> lossSeries() {
    return (List<List<Object>>)
        js(
            "const c = echarts.getInstanceByDom(document.querySelector('#charts"
                + " .chart[data-key=\"train/loss\"]'));"
                + "return c.getOption().series.map(s => [s.name, s.data]);");
  }

  @SuppressWarnings("unchecked")
  static Map<Double, Double> points(List<Object> series) {
    Map<Double, Double> out = new TreeMap<>();
    for (Object p : (List<Object>) series.get(1)) {
      List<Number> xy = (List<Number>) p;
      out.put(xy.get(0).doubleValue(), xy.get(1).doubleValue());
    }
    return out;
  }

  /** A link names the metrics to draw: the charts' and the parallel axes'. */
  @Test
  void aLinkNamesTheMetricsToShow() {
    String charts =
        "return [...document.querySelectorAll('#charts .chart')].map(c => c.dataset.key).join(',')";
    open(server.url() + "#runs?metrics=watch/act_std/conv2,test/accuracy,no/such");
    waiting().until(d -> "watch/act_std/conv2,test/accuracy".equals(js(charts)));
    open(server.url() + "#parallel?metrics=watch/grad_norm/total");
    waiting().until(d -> paintedPixels("#parallel-chart") > 1000);
    assertEquals(
        "norm,batch_size,lr,optimizer.momentum,watch/grad_norm/total",
        js(
            "return echarts.getInstanceByDom(document.getElementById('parallel-chart'))"
                + ".getOption().parallelAxis.map(a => a.name).join(',')"));
    // A distribution: each run's median line and two percentile bands, drawn as polygons; the
    // link names two runs, by id and by name.
    open(
        server.url()
            + "#runs?metrics=watch/act_dist/conv2&runs="
            + StoreFixture.runId(0)
            + ",mnist-batch,no-such-run");
    waiting().until(d -> "watch/act_dist/conv2".equals(js(charts)));
    waiting().until(d -> paintedPixels("#charts") > 5000);
    String firstChart =
        "const o = echarts.getInstanceByDom(document.querySelector('#charts .chart')).getOption();";
    assertEquals(
        "custom,custom,line,custom,custom,line",
        js(firstChart + "return o.series.map(s => s.type).join(',');"));
    assertEquals(
        2L, js("return document.querySelectorAll('#runs-table tbody input:checked').length"));
    // the first run's median is its 50th percentile: 0 at every watched step
    assertEquals(
        "0,0,0,0,0,0,0,0,0,0",
        js(firstChart + "return o.series[2].data.map(p => p[1]).join(',');"));
    // The same page given another link (a hash change only) applies it too.
    js("document.body.dataset.ready = ''; location.hash = '#runs?metrics=watch/grad_norm/total';");
    waiting().until(d -> "1".equals(js("return document.body.dataset.ready")));
    waiting().until(d -> "watch/grad_norm/total".equals(js(charts)));
    open(server.url() + "#runs?metrics=no/such");
    waiting().until(d -> "test/accuracy,test/loss,train/loss".equals(js(charts)));
    // ... and the x axis: an lr range test's link draws against the lr, on a log axis
    open(server.url() + "#runs?metrics=train/loss&x=lr&log=1");
    waiting().until(d -> "train/loss".equals(js(charts)));
    assertEquals("lr", js("return document.getElementById('c-x').value"));
    assertEquals(
        "log",
        js(
            "return echarts.getInstanceByDom(document.querySelector('#charts .chart'))"
                + ".getOption().xAxis[0].type"));
    assertEquals(
        "log",
        js(
            "return echarts.getInstanceByDom(document.querySelector('#charts .chart'))"
                + ".getOption().yAxis[0].type"));
    open(server.url() + "#runs?metrics=train/loss&x=bogus");
    waiting().until(d -> "1".equals(js("return document.body.dataset.ready")));
    assertEquals("step", js("return document.getElementById('c-x').value"));
  }

  /** The fixture's test accuracy of run {@code i} (its summary). */
  static double accuracy(int i) {
    return 1 - 0.5 * Math.exp(-StoreFixture.EPOCHS / (1.0 + i * 0.3));
  }

  /**
   * The metric-vs-config plot's series as "type name" and their points: [x, mean, runs] for the
   * means, [x, y] for the runs' dots.
   */
  @SuppressWarnings("unchecked")
  static List<List<Object>> versusSeries() {
    return (List<List<Object>>)
        versusOption(
            "o.series.map(s => [s.type + ' ' + s.name,"
                + " s.data.map(p => p.length === 5 ? [p[0], p[1], p[2]] : [p[0], p[1]])])");
  }

  /** A JavaScript expression over the metric-vs-config chart's option {@code o}. */
  static Object versusOption(String expression) {
    return js(
        "const o = echarts.getInstanceByDom(document.getElementById('versus-chart')).getOption();"
            + "return "
            + expression
            + ";");
  }

  /**
   * The fixture's group only (not the run another test may add in a group of its own; the filter is
   * on the runs tab), drawn again.
   */
  private static void inFixtureGroup() {
    js("document.getElementById('f-group').value = arguments[0];", StoreFixture.GROUP);
    driver.findElement(By.cssSelector("#tabs button[data-view='versus']")).click();
  }

  private static List<Object> point(double x, double y, long runs) {
    return List.of(x, y, runs);
  }

  private static void assertSeries(List<Object> expected, List<Object> actual) {
    assertEquals(expected.get(0), actual.get(0));
    @SuppressWarnings("unchecked")
    List<List<Number>> want = (List<List<Number>>) expected.get(1);
    @SuppressWarnings("unchecked")
    List<List<Number>> got = (List<List<Number>>) actual.get(1);
    assertEquals(want.size(), got.size(), expected + " vs " + actual);
    for (int i = 0; i < want.size(); i++) {
      for (int j = 0; j < want.get(i).size(); j++) {
        assertEquals(
            want.get(i).get(j).doubleValue(),
            got.get(i).get(j).doubleValue(),
            1e-12,
            expected.get(0) + " point " + i);
      }
    }
  }

  /**
   * Metric vs config: a line per value of "lines by" through the mean of its runs at each x, and a
   * dot per run; a link names x, the metric and the key.
   */
  @Test
  void metricAgainstConfigDrawsALinePerValueThroughEachXsMean() {
    open(server.url() + "#versus?x=batch_size&metrics=test/loss&by=lr");
    inFixtureGroup();
    waiting().until(d -> paintedPixels("#versus-chart") > 1000 && versusSeries().size() == 4);
    assertEquals("test/loss", js("return document.getElementById('v-y').value"));
    assertEquals(
        true,
        versusOption("o.series.every(s => s.type !== 'scatter' || s.clip === false)"),
        "a dot at the axis's end is drawn, not clipped by a rounding error");
    // The fixture's even runs have lr 0.01, the odd ones 0.1; runs 0-2 batch 64, 3-5 batch 128.
    double[] loss = new double[6];
    for (int i = 0; i < 6; i++) {
      loss[i] = 1 - accuracy(i);
    }
    List<List<Object>> series = versusSeries();
    assertSeries(
        List.of(
            "line lr=0.01", List.of(point(64, (loss[0] + loss[2]) / 2, 2), point(128, loss[4], 1))),
        series.get(0));
    assertSeries(
        List.of(
            "scatter lr=0.01",
            List.of(List.of(64.0, loss[0]), List.of(64.0, loss[2]), List.of(128.0, loss[4]))),
        series.get(1));
    assertSeries(
        List.of(
            "line lr=0.1", List.of(point(64, loss[1], 1), point(128, (loss[3] + loss[5]) / 2, 2))),
        series.get(2));
    // Without the link: batch size against test accuracy, a line per norm (six, one run each).
    open(server.url() + "#versus");
    inFixtureGroup();
    waiting().until(d -> versusSeries().size() == 12);
    assertEquals("batch_size", js("return document.getElementById('v-x').value"));
    assertEquals("test/accuracy", js("return document.getElementById('v-y').value"));
    assertEquals("norm", js("return document.getElementById('v-by').value"));
    assertEquals("line norm=batch", versusSeries().get(2).get(0));
    // One line over every run: each batch size's mean.
    select("v-by", "");
    waiting().until(d -> versusSeries().size() == 2);
    assertSeries(
        List.of(
            "line test/accuracy",
            List.of(
                point(64, (accuracy(0) + accuracy(1) + accuracy(2)) / 3, 3),
                point(128, (accuracy(3) + accuracy(4) + accuracy(5)) / 3, 3))),
        versusSeries().get(0));
    assertEquals(
        List.of(List.of(0.001, 2L, 0.2, 0.5), List.of(0.01, 1L, 0.3, 0.3)),
        js(
            "return normlabCharts.versusPoints([[0.01, 0.3], [0.001, 0.2], [0.001, 0.5]])"
                + ".map(p => [p.x, p.n, p.min, p.max]);"));
    // Against the norm (words): each norm's mean a diamond over its runs' dots, no line.
    open(server.url() + "#versus?x=norm&by=");
    inFixtureGroup();
    waiting().until(d -> versusSeries().size() == 2);
    assertEquals("category", versusOption("o.xAxis[0].type"));
    assertEquals("scatter test/accuracy", versusSeries().get(0).get(0));
    Map<String, Double> expected = new TreeMap<>();
    for (int i = 0; i < 6; i++) {
      expected.put(i < 5 ? StoreFixture.NORMS.get(i) : "<b>layer</b>", accuracy(i));
    }
    Map<String, Double> means = new TreeMap<>();
    @SuppressWarnings("unchecked")
    List<List<Object>> meanPoints = (List<List<Object>>) versusSeries().get(0).get(1);
    for (List<Object> m : meanPoints) {
      assertEquals(1L, ((Number) m.get(2)).longValue(), "one run per norm: " + m);
      means.put((String) m.get(0), ((Number) m.get(1)).doubleValue());
    }
    assertEquals(expected, means);
    assertEquals("diamond", versusOption("o.series[0].symbol"));
    // Lines and categories in order: numbers by value (not 0.01 before 0.003), words by name.
    assertEquals(
        "0.003,0.01,0.03|batch,group2,group16",
        js(
            "return [0.03, 0.003, 0.01].sort(normlabCharts.naturalOrder).join(',') + '|'"
                + " + ['group16', 'batch', 'group2'].sort(normlabCharts.naturalOrder).join(',');"));
    // Batch sizes in powers of two get a tick each; an lr over decades a tick per decade.
    assertEquals(
        "log 2,log 10,value -",
        js(
            "return [[1, 2, 4, 64], [0.001, 0.003, 0.1], [64, 128]]"
                + ".map(xs => normlabCharts.versusXAxis(xs, 'x'))"
                + ".map(a => a.type + ' ' + (a.type === 'log' ? a.logBase ?? 10 : '-')).join(',');"));
  }

  @Test
  void robustnessAgainstTheShiftsAmountDrawsALinePerNormFromItsCleanAccuracy() {
    open(server.url() + "#versus?x=shift:brightness&by=norm");
    inFixtureGroup();
    waiting().until(d -> versusSeries().size() == 12);
    assertEquals("shift:brightness", js("return document.getElementById('v-x').value"));
    assertEquals(true, js("return document.getElementById('v-y').disabled"));
    assertEquals(
        List.of(
            "robustness: adapted brightness (accuracy on shifted images)",
            "robustness: brightness (accuracy on shifted images)"),
        js(
            "return [...document.getElementById('v-x').options]"
                + ".filter(o => o.value.startsWith('shift:')).map(o => o.text)"));
    // the fixture's run i: 100·acc at brightness 1 (clean), 100·acc − 5i at 0.2
    assertEquals("line norm=batch", versusSeries().get(2).get(0));
    double acc = 100 * accuracy(1);
    assertSeries(
        List.of("line norm=batch", List.of(point(0.2, acc - 5, 1), point(1, acc, 1))),
        versusSeries().get(2));
    assertEquals(
        "accuracy (%) on shifted test images against the brightness factor",
        versusOption("o.title[0].text"));
    // the curve of one run's summary, and the axes a store's keys allow
    assertEquals(
        List.of(List.of(0.5, 60L), List.of(1L, 30L), List.of(0L, 90L)),
        js(
            "return normlabCharts.shiftCurve({'robustness/clean': 90, 'robustness/noise_0.5': 60,"
                + " 'robustness/noise_1': 30, 'robustness/invert': 5, 'test/accuracy': 91}, 'noise')"));
    assertEquals(
        List.of(List.of(0.5, 60L)),
        js("return normlabCharts.shiftCurve({'robustness/noise_0.5': 60}, 'noise')"),
        "no clean accuracy, no point at σ = 0");
    assertEquals(
        List.of("shift:adapted/contrast", "shift:noise"),
        js(
            "return normlabCharts.shiftAxes(['robustness/clean', 'robustness/invert',"
                + " 'robustness/noise_0.5', 'robustness/adapted/contrast_0.2', 'test/accuracy'])"));
  }

  @Test
  void groupingRunsByAConfigKeyDrawsEachGroupsMeanAndRange() {
    open(server.url().toString());
    waiting().until(d -> paintedPixels("#charts") > 1000 && lossSeries().size() == 6);
    // One line per run: the fixture's even runs have lr 0.01, the odd ones (the last is the
    // XSS run) 0.1.
    Map<String, List<Map<Double, Double>>> byLr = new HashMap<>();
    for (List<Object> s : lossSeries()) {
      String name = (String) s.get(0);
      int i =
          name.endsWith("(" + StoreFixture.XSS_ID + ")")
              ? 5
              : name.charAt(name.lastIndexOf("(run") + 4) - '0';
      byLr.computeIfAbsent(i % 2 == 0 ? "0.01" : "0.1", k -> new ArrayList<>()).add(points(s));
    }
    select("c-group", "lr");
    waiting().until(d -> String.valueOf(lossSeries().get(0).get(0)).startsWith("lr="));
    List<List<Object>> grouped = lossSeries();
    assertEquals(6, grouped.size(), "two groups, each a mean and its lowest and highest run");
    for (int g = 0; g < 2; g++) {
      String lr = g == 0 ? "0.01" : "0.1";
      for (int line = 0; line < 3; line++) {
        assertEquals("lr=" + lr + " (3 runs)", grouped.get(3 * g + line).get(0));
      }
      Map<Double, Double> mean = points(grouped.get(3 * g));
      Map<Double, Double> low = points(grouped.get(3 * g + 1));
      Map<Double, Double> high = points(grouped.get(3 * g + 2));
      assertEquals(200, mean.size());
      for (double x : mean.keySet()) {
        double[] ys =
            byLr.get(lr).stream()
                .filter(r -> r.containsKey(x))
                .mapToDouble(r -> r.get(x))
                .toArray();
        assertEquals(3, ys.length, "step " + x);
        assertEquals(Arrays.stream(ys).average().orElseThrow(), mean.get(x), 1e-9, "mean at " + x);
        assertEquals(Arrays.stream(ys).min().orElseThrow(), low.get(x), 1e-12, "lowest at " + x);
        assertEquals(Arrays.stream(ys).max().orElseThrow(), high.get(x), 1e-12, "highest at " + x);
      }
    }
    select("c-group", "");
    waiting()
        .until(
            d ->
                lossSeries().size() == 6
                    && !String.valueOf(lossSeries().get(0).get(0)).startsWith("lr="));
    // Runs downsampled apart do not share their x: each is interpolated between its own points
    // and counts only within its own range.
    assertEquals(
        List.of(
            List.of(0L, 0.5, 0L, 1L),
            List.of(1L, 1L, 1L, 1L),
            List.of(2L, 1.5, 1L, 2L),
            List.of(3L, 3L, 3L, 3L)),
        js(
            "return normlabCharts.aggregate([[[0, 0], [2, 2], [3, 3]], [[0, 1], [1, 1], [2, 1]]])"
                + ".map(p => [p.x, p.mean, p.min, p.max]);"));
  }

  @Test
  void dashboardShowsRunsChartsAndMistakes() throws Exception {
    open(server.url().toString());
    List<String> names = runNames();
    assertEquals(6, names.size(), "rows: " + names);
    // The fixed columns, then each config key that differs between the runs (the momentum), never
    // the per-run checkpoint_dir or the constant epochs.
    String headers =
        (String)
            js(
                "return [...document.querySelectorAll('#runs-table thead th')]"
                    + ".map(t => t.textContent).join(',')");
    assertTrue(headers.contains(",lr,batch,optimizer.momentum,tags,notes,group,"), headers);
    assertTrue(
        driver
            .findElement(By.cssSelector("tr[data-run='" + StoreFixture.runId(0) + "']"))
            .getText()
            .contains("baseline, no norm"));
    // how long each ran, after when it started
    assertTrue(headers.contains(",started,runtime,"), headers);
    assertTrue(
        driver
            .findElement(By.cssSelector("tr[data-run='" + StoreFixture.runId(0) + "']"))
            .getText()
            .contains(" 8:20"),
        "500 s");
    assertFalse(headers.contains("checkpoint_dir") || headers.contains("epochs"), headers);
    assertFalse(headers.contains("watch/"), "--watch's diagnostics are not columns: " + headers);
    // where a run ran is no column either, and of the process's metrics only its peak memory is
    assertFalse(headers.contains("env."), headers);
    assertTrue(
        headers.endsWith(
            ",train/loss,robustness/clean,robustness/brightness_0.2,robustness/adapted/clean,"
                + "robustness/adapted/brightness_0.2,system/peak_rss_mib"),
        headers);
    assertFalse(headers.contains("system/rss_mib"), headers);
    // ... but grouped in the chart's metric list
    assertEquals(
        "system:system/peak_rss_mib,system/rss_mib"
            + "|watch/act_p05:watch/act_p05/conv2|watch/act_p25:watch/act_p25/conv2"
            + "|watch/act_p50:watch/act_p50/conv2|watch/act_p75:watch/act_p75/conv2"
            + "|watch/act_p95:watch/act_p95/conv2|watch/act_std:watch/act_std/conv2"
            + "|watch/grad_norm:watch/grad_norm/total|watch/act_dist:watch/act_dist/conv2",
        js(
            "return [...document.querySelectorAll('#c-keys optgroup')]"
                + ".map(g => g.label + ':' + [...g.children].map(o => o.value).join(',')).join('|')"));
    for (String norm : StoreFixture.NORMS) {
      assertTrue(names.contains("mnist-" + norm), "names: " + names);
    }
    waiting().until(d -> paintedPixels("#charts") > 1000);
    assertEquals(3L, js("return document.querySelectorAll('#charts canvas').length"));
    assertXssShownAsText();

    if (System.getProperty("normlab.screenshot") != null) {
      Files.write(
          Path.of(System.getProperty("normlab.screenshot")),
          driver.getScreenshotAs(OutputType.BYTES));
    }

    // Chart controls: epoch axis, smoothing, log scale (read back from the chart's options).
    String option =
        "const c = echarts.getInstanceByDom(document.querySelector('#charts .chart[data-key=\"train/loss\"]'));"
            + "const o = c.getOption(); const d = o.series[0].data;";
    double lastStep = ((Number) js(option + "return d[d.length - 1][0];")).doubleValue();
    assertEquals(199, lastStep, 1e-9);
    select("c-x", "epoch");
    // Fractional epochs: the last of 200 steps (20 per epoch) is at 9.95.
    waiting()
        .until(
            d ->
                Math.abs(((Number) js(option + "return d[d.length - 1][0];")).doubleValue() - 9.95)
                    < 1e-9);
    double rawSecond = ((Number) js(option + "return d[1][1];")).doubleValue();
    js(
        "const s = document.getElementById('c-smooth'); s.value = '0.9';"
            + "s.dispatchEvent(new Event('input'));");
    waiting().until(d -> ((Number) js(option + "return d[1][1];")).doubleValue() != rawSecond);
    driver.findElement(By.id("c-log")).click();
    waiting().until(d -> "log".equals(js(option + "return o.yAxis[0].type;")));

    // Filtering the table by norm goes through the API.
    select("f-norm", "batch");
    waiting().until(d -> runNames().equals(List.of("mnist-batch")));
    driver.findElement(By.id("f-clear")).click();
    waiting().until(d -> runNames().size() == 6);

    driver.findElement(By.cssSelector("#tabs button[data-view='predictions']")).click();
    int run = 2;
    select("pr-run", StoreFixture.runId(run));
    waiting().until(d -> !driver.findElements(By.cssSelector("#pred-table tbody tr")).isEmpty());
    String before = driver.findElement(By.id("pred-table")).getDomAttribute("data-loaded");
    driver.findElement(By.id("pr-mistakes")).click();
    waiting()
        .until(
            d ->
                !before.equals(
                    driver.findElement(By.id("pred-table")).getDomAttribute("data-loaded")));
    List<WebElement> rows = driver.findElements(By.cssSelector("#pred-table tbody tr"));
    int expected = 0;
    for (int x = 0; x < StoreFixture.EXAMPLES; x++) {
      expected += StoreFixture.wrong(run, x) ? 1 : 0;
    }
    assertEquals(expected, rows.size());
    for (WebElement row : rows) {
      String label = row.findElement(By.cssSelector("td.label")).getText();
      String predicted = row.findElement(By.cssSelector("td.pred")).getText();
      assertFalse(label.equals(predicted), "a mistake row shows " + label + " = " + predicted);
      assertTrue(row.getDomAttribute("class").contains("mistake"));
    }
    waiting()
        .until(
            d ->
                (Boolean)
                    js(
                        "return [...document.querySelectorAll('#pred-table img.thumb')]"
                            + ".every(i => i.complete && i.naturalWidth === 28)"));
    waiting().until(d -> paintedPixels("#confusion-chart") > 1000);

    // Group by predicted class: a chip filters the mistakes to that class.
    WebElement chip = driver.findElement(By.cssSelector("#pr-groups button[data-predicted]"));
    String k = chip.getDomAttribute("data-predicted");
    int inClass = Integer.parseInt(chip.getText().replaceAll(".*: ", ""));
    String loaded = driver.findElement(By.id("pred-table")).getDomAttribute("data-loaded");
    chip.click();
    waiting()
        .until(
            d ->
                !loaded.equals(
                    driver.findElement(By.id("pred-table")).getDomAttribute("data-loaded")));
    List<WebElement> ofK = driver.findElements(By.cssSelector("#pred-table tbody tr td.pred"));
    assertEquals(inClass, ofK.size());
    for (WebElement td : ofK) {
      assertEquals(k, td.getText());
    }

    // Two runs on the same examples: the rows where exactly one is right.
    compareWith(0, x -> StoreFixture.wrong(run, x) != StoreFixture.wrong(0, x));

    // Run comparer: "differences only" keeps only the rows where the runs differ.
    driver.findElement(By.cssSelector("#tabs button[data-view='compare']")).click();
    waiting().until(d -> driver.findElements(By.cssSelector("#rc-table tbody tr")).size() > 5);
    int allRows = driver.findElements(By.cssSelector("#rc-table tbody tr")).size();
    assertTrue(
        driver
            .findElement(By.cssSelector("#rc-table tbody tr[data-key='config.epochs']"))
            .isDisplayed());
    // where each run ran is compared too
    assertTrue(
        driver
            .findElement(By.cssSelector("#rc-table tbody tr[data-key='config.env.cpu']"))
            .isDisplayed());
    driver.findElement(By.id("rc-diff")).click();
    List<WebElement> diffRows = driver.findElements(By.cssSelector("#rc-table tbody tr"));
    assertTrue(
        diffRows.size() < allRows && !diffRows.isEmpty(), diffRows.size() + " of " + allRows);
    for (WebElement row : diffRows) {
      assertTrue(row.getDomAttribute("class").contains("diff"));
    }
    assertTrue(
        driver.findElements(By.cssSelector("#rc-table tr[data-key='config.epochs']")).isEmpty());

    driver.findElement(By.cssSelector("#tabs button[data-view='parallel']")).click();
    waiting().until(d -> paintedPixels("#parallel-chart") > 1000);
    // Axes: norm first, the config keys that vary or are always drawn — never the per-run
    // checkpoint_dir — then test accuracy and loss; other summary metrics when chosen.
    String axes =
        "return echarts.getInstanceByDom(document.getElementById('parallel-chart'))"
            + ".getOption().parallelAxis.map(a => a.name).join(',')";
    assertEquals("norm,batch_size,lr,optimizer.momentum,test/accuracy,test/loss", js(axes));
    // Under it, the parameter importance of test accuracy: a row per config key that varies
    // (not the norm, different in every run, nor where the runs ran), shares adding to 1.
    assertImportanceRows();
    select("p-imp-metric", "test/loss");
    waiting()
        .until(
            d -> driver.findElement(By.id("imp-note")).getText().contains("test/loss's variance"));
    assertImportanceRows();
    // a parameter's name opens the result against it in metric vs config
    driver.findElement(By.cssSelector("#imp-table tr[data-key='lr'] a")).click();
    waiting().until(d -> driver.findElement(By.id("view-versus")).isDisplayed());
    waiting().until(d -> "lr".equals(driver.findElement(By.id("v-x")).getDomProperty("value")));
    assertEquals("test/loss", driver.findElement(By.id("v-y")).getDomProperty("value"));
    assertEquals("norm", driver.findElement(By.id("v-by")).getDomProperty("value"));
    driver.findElement(By.cssSelector("#tabs button[data-view='parallel']")).click();
    waiting().until(d -> paintedPixels("#parallel-chart") > 1000);
    js(
        "const s = document.getElementById('p-keys');"
            + " [...s.options].find(o => o.value === 'train/loss').selected = true;"
            + " s.dispatchEvent(new Event('change'));");
    waiting()
        .until(
            d ->
                js(axes)
                    .equals(
                        "norm,batch_size,lr,optimizer.momentum,test/accuracy,test/loss,train/loss"));
    // A swept lr (0.003 to 0.3) gets a log axis, seeds whole-number ticks.
    assertEquals("log", js("return window.normlabCharts.numericAxis([0.003, 0.03, 0.3]).type"));
    assertEquals("value", js("return window.normlabCharts.numericAxis([0.01, 0.1]).type"));
    assertEquals(1L, js("return window.normlabCharts.numericAxis([0, 1]).minInterval"));
    // Brushing the accuracy axis above the third-best run's value keeps the two best runs. The
    // brush is sent again on every poll: on a loaded machine one sent while the chart was still
    // settling was lost (CI run, 30 s timeout).
    waiting()
        .until(
            d -> {
              js(
                  "echarts.getInstanceByDom(document.getElementById('parallel-chart'))"
                      + ".dispatchAction({type: 'axisAreaSelect',"
                      + " parallelAxisId: 'summary.test/accuracy',"
                      + " intervals: [[arguments[0], 1]]});",
                  brushFrom());
              return driver
                  .findElement(By.id("p-selected"))
                  .getText()
                  .equals("mnist-none (run0none), mnist-batch (run1batch)");
            });

    // Live refresh: a run that starts now shows up without reloading the page.
    driver.findElement(By.cssSelector("#tabs button[data-view='runs']")).click();
    try (java.sql.Connection c = java.sql.DriverManager.getConnection("jdbc:sqlite:" + store)) {
      StoreFixture.addRun(c, "fresh001", "fresh-run", "later", "rms", "running", 7);
    }
    waiting().until(d -> runNames().contains("fresh-run"));
  }

  /** The importance panel's rows: the three keys that vary, their shares adding to 1. */
  static void assertImportanceRows() {
    waiting().until(d -> driver.findElements(By.cssSelector("#imp-table tbody tr")).size() == 3);
    assertEquals(
        "batch_size,lr,optimizer.momentum",
        js(
            "return [...document.querySelectorAll('#imp-table tbody tr')]"
                + ".map(r => r.dataset.key).sort().join(',')"));
    double total =
        ((Number)
                js(
                    "return [...document.querySelectorAll('#imp-table tbody tr td:first-child')]"
                        + ".reduce((s, td) => s + parseFloat(td.textContent), 0)"))
            .doubleValue();
    assertEquals(1.0, total, 0.0151);
    assertTrue(
        driver.findElement(By.id("imp-note")).getText().contains("random forest over "),
        driver.findElement(By.id("imp-note")).getText());
  }

  /**
   * Picks run {@code other} to compare with, and waits for one row per example where exactly one of
   * the two runs is right ({@code differ}).
   */
  static void compareWith(int other, java.util.function.IntPredicate differ) {
    select("cp-run", StoreFixture.runId(other));
    long expected =
        java.util.stream.IntStream.range(0, StoreFixture.EXAMPLES).filter(differ).count();
    waiting()
        .until(d -> driver.findElements(By.cssSelector("#cmp-table tbody tr")).size() == expected);
  }

  /** Waits until the comparison's counts line says what {@code says} accepts. */
  static void waitForCounts(java.util.function.Predicate<String> says) {
    waiting().until(d -> says.test(driver.findElement(By.id("cp-counts")).getText()));
  }

  /** How many times the predictions table has loaded (the page counts its loads). */
  static String loads() {
    return driver.findElement(By.id("pred-table")).getDomAttribute("data-loaded");
  }

  static void waitForLoadAfter(String before) {
    waiting().until(d -> !before.equals(loads()));
  }

  /** The grey value of each thumbnail's top left pixel: 0 for MNIST's black, 255 inverted. */
  @SuppressWarnings("unchecked")
  static List<Long> thumbnailCorners(String table) {
    waiting()
        .until(
            d ->
                (Boolean)
                    js(
                        "return [...document.querySelectorAll(arguments[0] + ' img.thumb')]"
                            + ".every(i => i.complete && i.naturalWidth === 28)",
                        table));
    return (List<Long>)
        js(
            "const c = document.createElement('canvas'); c.width = c.height = 28;"
                + "const g = c.getContext('2d');"
                + "return [...document.querySelectorAll(arguments[0] + ' img.thumb')].map(i => {"
                + "  g.drawImage(i, 0, 0); return g.getImageData(0, 0, 1, 1).data[0]; });",
            table);
  }

  /**
   * The Predictions view on a run's shifted test images (normlab robustness), from a link: the
   * set's mistakes with the inverted images, its confusion matrix, another run on the same images,
   * and a run that has none. The same in the dashboard and in a report.
   */
  /** The rows of the typed table on screen, as their row numbers, read in one script. */
  @SuppressWarnings("unchecked")
  static List<Long> tableRows() {
    return (List<Long>)
        js("return [...document.querySelectorAll('#tb-table tbody tr')].map(r => +r.dataset.row)");
  }

  static String tableLoads() {
    return String.valueOf(js("return document.getElementById('tb-table').dataset.loaded || ''"));
  }

  static void waitForTableLoadAfter(String before) {
    waiting().until(d -> !before.equals(tableLoads()));
  }

  /**
   * A run's typed table: a link opens it; images drawn; sorted by a header; filtered by a value.
   */
  static void assertTypedTable(String page) {
    open(page + "#tables?run=mnist-instance&table=feature_maps");
    waiting().until(d -> tableRows().size() == 20);
    assertEquals(
        StoreFixture.runId(2), driver.findElement(By.id("tb-run")).getDomProperty("value"));
    assertEquals(
        List.of("example_id", "layer", "output", "spread"),
        driver.findElements(By.cssSelector("#tb-table thead th")).stream()
            .map(WebElement::getText)
            .toList());
    assertEquals(List.of(0L, 1L, 2L), tableRows().subList(0, 3));
    // row 3 is example 1's norm2 row, its digit drawn at twice its 28 pixels
    List<WebElement> cells =
        driver.findElements(By.cssSelector("#tb-table tbody tr[data-row='3'] td"));
    assertEquals(
        List.of("1", "norm2", "", "2.1"), cells.stream().map(WebElement::getText).toList());
    waiting()
        .until(
            d ->
                (Boolean)
                    js(
                        "return [...document.querySelectorAll('#tb-table img.cell')]"
                            + ".every(i => i.complete && i.naturalWidth === 28 && i.width === 56)"));
    String before = tableLoads();
    driver.findElement(By.xpath("//table[@id='tb-table']//th[text()='spread']")).click();
    waitForTableLoadAfter(before);
    assertEquals(List.of(0L, 13L, 26L), tableRows().subList(0, 3), "spreads 0, 0.1, 0.2");
    before = tableLoads();
    driver.findElement(By.xpath("//table[@id='tb-table']//th[text()='spread']")).click();
    waitForTableLoadAfter(before);
    assertEquals(List.of(17L, 4L, 21L), tableRows().subList(0, 3), "spreads 2.9, 2.8, 2.7");
    select("tb-column", "layer");
    before = tableLoads();
    WebElement value = driver.findElement(By.id("tb-value"));
    value.sendKeys("norm1");
    value.sendKeys(org.openqa.selenium.Keys.ENTER);
    waitForTableLoadAfter(before);
    assertTrue(
        driver.findElement(By.id("tb-pager")).getText().contains("(15 rows)"),
        driver.findElement(By.id("tb-pager")).getText());
    assertTrue(tableRows().stream().allMatch(r -> r % 2 == 0), "norm1 rows: " + tableRows());
    // every run: the example's norm1 rows of both runs that have the table, a run column first;
    // the run whose table has other columns is named
    select("tb-column", "example_id");
    value = driver.findElement(By.id("tb-value"));
    value.clear();
    before = tableLoads();
    value.sendKeys("0", org.openqa.selenium.Keys.ENTER);
    waitForTableLoadAfter(before);
    before = tableLoads();
    driver.findElement(By.id("tb-all")).click();
    waitForTableLoadAfter(before);
    // read in one script: the header is drawn anew with each load (a load still settling on a
    // busy machine left a header cell stale between finding it and reading it)
    waiting()
        .until(
            d ->
                js("return [...document.querySelectorAll('#tb-table thead th')]"
                        + ".map(th => th.textContent).join(',')")
                    .equals("run,example_id,layer,output,spread"));
    // still sorted by spread, descending: group's 0.8, instance's 0.7, group's 0.1, instance's 0
    assertEquals(
        List.of(
            "mnist-group (" + StoreFixture.runId(4) + ")",
            "mnist-instance (" + StoreFixture.runId(2) + ")",
            "mnist-group (" + StoreFixture.runId(4) + ")",
            "mnist-instance (" + StoreFixture.runId(2) + ")"),
        js(
            "return [...document.querySelectorAll('#tb-table tbody td.run')].map(td =>"
                + " td.textContent)"));
    assertEquals(4, tableRows().size(), "example 0's two rows in each of the two runs");
    String merged = driver.findElement(By.cssSelector("#tb-pager .merged")).getText();
    assertTrue(
        merged.contains("the rows of 2 runs; left out, their table has other columns: mnist-batch"),
        merged);
    driver.findElement(By.id("tb-all")).click();
    // a link can ask for all of that: every run's rows of example 1
    open(page + "#tables?run=mnist-group&table=feature_maps&all=1&column=example_id&value=1");
    waiting().until(d -> tableRows().size() == 4);
    assertEquals("example_id", driver.findElement(By.id("tb-column")).getDomProperty("value"));
    assertEquals("1", driver.findElement(By.id("tb-value")).getDomProperty("value"));
    assertEquals(
        List.of(
            "mnist-group (" + StoreFixture.runId(4) + ")",
            "mnist-group (" + StoreFixture.runId(4) + ")",
            "mnist-instance (" + StoreFixture.runId(2) + ")",
            "mnist-instance (" + StoreFixture.runId(2) + ")"),
        js(
            "return [...document.querySelectorAll('#tb-table tbody td.run')].map(td =>"
                + " td.textContent)"),
        "the linked run first, then the others in the runs table's order");
    driver.findElement(By.id("tb-all")).click();
    // a run without tables says how a run gets one
    select("tb-run", StoreFixture.runId(0));
    waiting()
        .until(
            d -> driver.findElement(By.id("tb-hint")).getText().contains("normlab feature-maps"));
    assertEquals(0, tableRows().size());
  }

  static void assertShiftedPredictions(String page) {
    int run = 2;
    open(page + "#predictions?run=mnist-instance&set=invert");
    waiting().until(d -> !driver.findElements(By.cssSelector("#pred-table tbody tr")).isEmpty());
    assertEquals(
        StoreFixture.runId(run), driver.findElement(By.id("pr-run")).getDomProperty("value"));
    assertEquals("invert", driver.findElement(By.id("pr-set")).getDomProperty("value"));
    assertEquals(
        List.of("as trained: the final model on the test set", "invert (25.00 %)"),
        new Select(driver.findElement(By.id("pr-set")))
            .getOptions().stream().map(WebElement::getText).toList());
    String before = loads();
    driver.findElement(By.id("pr-mistakes")).click();
    waitForLoadAfter(before);
    int expected = 0;
    for (int x = 0; x < StoreFixture.EXAMPLES; x++) {
      expected += StoreFixture.wrongInverted(run, x) ? 1 : 0;
    }
    before = loads();
    new Select(driver.findElement(By.id("pr-size"))).selectByVisibleText("100");
    waitForLoadAfter(before);
    int expectedRows = expected;
    waiting()
        .until(
            d ->
                driver.findElements(By.cssSelector("#pred-table tbody tr")).size() == expectedRows);
    for (WebElement row : driver.findElements(By.cssSelector("#pred-table tbody tr"))) {
      int x = Integer.parseInt(row.findElement(By.cssSelector("td:nth-child(2)")).getText());
      assertEquals(
          Integer.toString(StoreFixture.predictedInverted(run, x)),
          row.findElement(By.cssSelector("td.pred")).getText());
    }
    // the images as the model saw them: white backgrounds
    List<Long> corners = thumbnailCorners("#pred-table");
    assertEquals(expected, corners.size());
    assertTrue(corners.stream().allMatch(v -> v == 255), "inverted thumbnails: " + corners);
    waiting().until(d -> paintedPixels("#confusion-chart") > 1000);

    // another run on the same inverted images
    compareWith(0, x -> StoreFixture.wrongInverted(run, x) != StoreFixture.wrongInverted(0, x));
    assertTrue(thumbnailCorners("#cmp-table").stream().allMatch(v -> v == 255));
    // a run with no predictions on them
    select("cp-run", StoreFixture.runId(4));
    waitForCounts(t -> t.startsWith("the other run has no predictions on invert"));
    assertEquals(0, driver.findElements(By.cssSelector("#cmp-table tbody tr")).size());

    // the same run on its own test images: what the inversion cost it, both images shown
    select("cp-run", StoreFixture.runId(run));
    select("cp-set", "-");
    long flips =
        java.util.stream.IntStream.range(0, StoreFixture.EXAMPLES)
            .filter(x -> StoreFixture.wrong(run, x) != StoreFixture.wrongInverted(run, x))
            .count();
    waiting()
        .until(d -> driver.findElements(By.cssSelector("#cmp-table tbody tr")).size() == flips);
    assertEquals(
        List.of("invert", "as trained"),
        driver.findElements(By.cssSelector("#cmp-table thead th")).subList(3, 5).stream()
            .map(WebElement::getText)
            .toList());
    assertTrue(driver.findElement(By.id("cp-counts")).getText().contains("· only invert right "));
    List<Long> pairs = thumbnailCorners("#cmp-table");
    assertEquals(2 * flips, pairs.size());
    for (int i = 0; i < pairs.size(); i += 2) {
      assertEquals(List.of(255L, 0L), pairs.subList(i, i + 2), "inverted, then clean");
    }
    select("cp-set", "=");
    waitForCounts(t -> t.equals("pick another run, or other test images"));

    // back to the run's own predictions: the clean images
    before = loads();
    select("pr-set", "");
    waitForLoadAfter(before);
    assertTrue(thumbnailCorners("#pred-table").stream().allMatch(v -> v == 0));
    // a run without shifted predictions: only its own, and the choice is off
    before = loads();
    select("pr-run", StoreFixture.runId(4));
    waitForLoadAfter(before);
    assertEquals("true", driver.findElement(By.id("pr-set")).getDomAttribute("disabled"));
  }

  /** A run whose dataset names its classes shows them beside the numbers, as text. */
  static void assertClassNames(String page) {
    open(page + "#predictions?run=run3layer");
    waiting().until(d -> !driver.findElements(By.cssSelector("#pred-table tbody tr")).isEmpty());
    for (WebElement row : driver.findElements(By.cssSelector("#pred-table tbody tr"))) {
      int x = Integer.parseInt(row.findElement(By.cssSelector("td:nth-child(2)")).getText());
      int label = x % 10;
      assertEquals(
          label + " " + StoreFixture.CLASS_NAMES.get(label),
          row.findElement(By.cssSelector("td.label")).getText());
      assertTrue(row.findElement(By.cssSelector("td.pred")).getText().matches("\\d \\S.*"));
    }
    assertEquals(0, driver.findElements(By.cssSelector("#pred-table b")).size(), "names are text");
    WebElement chip = driver.findElement(By.cssSelector("#pr-groups button[data-predicted]"));
    int k = Integer.parseInt(chip.getDomAttribute("data-predicted"));
    assertTrue(
        chip.getText().startsWith("predicted " + k + " " + StoreFixture.CLASS_NAMES.get(k) + ": "),
        chip.getText());
  }

  /**
   * Clicking a cell of the confusion matrix filters the table to its examples — that true class,
   * that prediction — with a chip that takes the true class off again.
   */
  static void assertConfusionCellFilters(String page) {
    int run = 2;
    open(page + "#predictions?run=mnist-instance");
    waiting().until(d -> paintedPixels("#confusion-chart") > 1000);
    // the fixture's run 2 calls example x, when wrong, (x % 10 + 1 + x % 3) % 10
    int x0 = 0;
    while (!StoreFixture.wrong(run, x0)) {
      x0++;
    }
    int label = x0 % 10;
    int predicted = (label + 1 + x0 % 3) % 10;
    long expected =
        java.util.stream.IntStream.range(0, StoreFixture.EXAMPLES)
            .filter(
                x ->
                    StoreFixture.wrong(run, x)
                        && x % 10 == label
                        && (label + 1 + x % 3) % 10 == predicted)
            .count();
    @SuppressWarnings("unchecked")
    List<Number> at =
        (List<Number>)
            js(
                "const el = document.getElementById('confusion-chart');"
                    + "const p = echarts.getInstanceByDom(el).convertToPixel({seriesIndex: 0}, [arguments[0], arguments[1]]);"
                    + "return [p[0] - el.clientWidth / 2, p[1] - el.clientHeight / 2];",
                predicted,
                label);
    String before = loads();
    new org.openqa.selenium.interactions.Actions(driver)
        .moveToElement(
            driver.findElement(By.id("confusion-chart")),
            (int) Math.round(at.get(0).doubleValue()),
            (int) Math.round(at.get(1).doubleValue()))
        .click()
        .perform();
    waitForLoadAfter(before);
    List<WebElement> rows = driver.findElements(By.cssSelector("#pred-table tbody tr"));
    assertEquals(expected, rows.size());
    for (WebElement row : rows) {
      assertEquals(Integer.toString(label), row.findElement(By.cssSelector("td.label")).getText());
      assertEquals(
          Integer.toString(predicted), row.findElement(By.cssSelector("td.pred")).getText());
    }
    WebElement trueChip = driver.findElement(By.cssSelector("#pr-groups button.true-class"));
    assertEquals("true " + label + " ×", trueChip.getText());
    // the chip takes the true class off: every example predicted as that class
    before = loads();
    trueChip.click();
    waitForLoadAfter(before);
    assertEquals(0, driver.findElements(By.cssSelector("#pr-groups button.true-class")).size());
    long predictedAs =
        java.util.stream.IntStream.range(0, StoreFixture.EXAMPLES)
            .filter(
                x -> (StoreFixture.wrong(run, x) ? (x % 10 + 1 + x % 3) % 10 : x % 10) == predicted)
            .count();
    assertEquals(
        Math.min(50, predictedAs),
        driver.findElements(By.cssSelector("#pred-table tbody tr")).size());
    // the cell as a link, with its mistakes only
    open(
        page
            + "#predictions?run=mnist-instance&true="
            + label
            + "&predicted="
            + predicted
            + "&mistakes=1");
    waiting()
        .until(d -> driver.findElements(By.cssSelector("#pred-table tbody tr")).size() == expected);
    assertEquals(
        "true " + label + " ×",
        driver.findElement(By.cssSelector("#pr-groups button.true-class")).getText());
    assertEquals(true, js("return document.getElementById('pr-mistakes').checked"));
    for (WebElement row : driver.findElements(By.cssSelector("#pred-table tbody tr"))) {
      assertEquals(
          Integer.toString(predicted), row.findElement(By.cssSelector("td.pred")).getText());
    }
  }

  @Test
  void aConfusionMatrixCellFiltersTheTable() {
    assertConfusionCellFilters(server.url().toString());
  }

  @Test
  void classNamesAreShown() {
    assertClassNames(server.url().toString());
  }

  @Test
  void predictionsOnShiftedTestImages() {
    assertShiftedPredictions(server.url().toString());
  }

  @Test
  void typedTablesArePagedSortedAndFiltered() {
    assertTypedTable(server.url().toString());
  }

  @Test
  void reportOpensFromDiskWithoutNetwork() throws Exception {
    Path report = dir.resolve("report.html");
    ReportWriter.Result result = ReportWriter.write(store, StoreFixture.GROUP, report, 1000);
    assertEquals(6, result.runs());
    open(report.toUri().toString());
    assertEquals(6, runNames().size());
    waiting().until(d -> paintedPixels("#charts") > 1000);
    assertXssShownAsText();
    driver.findElement(By.cssSelector("#tabs button[data-view='predictions']")).click();
    select("pr-run", StoreFixture.runId(1));
    waiting().until(d -> !driver.findElements(By.cssSelector("#pred-table tbody tr")).isEmpty());
    // Mistakes come first.
    WebElement first = driver.findElement(By.cssSelector("#pred-table tbody tr"));
    assertTrue(first.getDomAttribute("class").contains("mistake"));
    waiting()
        .until(
            d ->
                (Boolean)
                    js(
                        "return [...document.querySelectorAll('#pred-table img.thumb')]"
                            + ".every(i => i.complete && i.naturalWidth === 28)"));
    waiting().until(d -> paintedPixels("#confusion-chart") > 1000);
    driver.findElement(By.cssSelector("#tabs button[data-view='parallel']")).click();
    waiting().until(d -> paintedPixels("#parallel-chart") > 1000);
    assertImportanceRows(); // from the report's own numbers
    driver.findElement(By.cssSelector("#tabs button[data-view='versus']")).click();
    waiting().until(d -> paintedPixels("#versus-chart") > 1000);
    // Nothing was fetched: no resource entries at all.
    assertEquals(0L, js("return performance.getEntriesByType('resource').length"));
    assertShiftedPredictions(report.toUri().toString());
    // a report that keeps part of the predictions says so
    Path small = dir.resolve("small-report.html");
    ReportWriter.write(store, StoreFixture.GROUP, small, new ReportWriter.Limits(30, 10, 100));
    open(small.toUri() + "#predictions?run=mnist-instance&set=invert");
    waiting().until(d -> !driver.findElements(By.cssSelector("#pr-pager .kept")).isEmpty());
    assertTrue(
        driver
            .findElement(By.cssSelector("#pr-pager .kept"))
            .getText()
            .contains("this report keeps 10 of the 100 predictions, mistakes first"));
    select("pr-set", "");
    waiting()
        .until(
            d ->
                driver
                    .findElement(By.cssSelector("#pr-pager .kept"))
                    .getText()
                    .contains("keeps 30 of the 100 predictions"));
    assertClassNames(report.toUri().toString());
    assertConfusionCellFilters(report.toUri().toString());
    assertTypedTable(report.toUri().toString());
    // a report keeps the first rows of each table, and says so
    Path fewRows = dir.resolve("few-rows-report.html");
    ReportWriter.write(store, StoreFixture.GROUP, fewRows, new ReportWriter.Limits(30, 10, 5));
    open(fewRows.toUri() + "#tables?run=mnist-instance&table=feature_maps");
    waiting().until(d -> tableRows().size() == 5);
    assertTrue(
        driver
            .findElement(By.cssSelector("#tb-pager .kept"))
            .getText()
            .contains("this report keeps the first 5 of the 30 rows"));
    assertEquals(0L, js("return performance.getEntriesByType('resource').length"));
  }
}
