package dev.normlab.track.web;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DashboardApiTest {
  @TempDir static Path dir;
  static DashboardServer server;
  static int port;

  @BeforeAll
  static void start() throws Exception {
    Path store = StoreFixture.create(dir);
    server = DashboardServer.start(new DashboardServer.Options(store, "127.0.0.1", 0, null, 4));
    port = server.port();
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  static RawHttp.Response ok(String target) {
    RawHttp.Response r = RawHttp.get(port, target);
    assertEquals(200, r.status(), target + " -> " + r.text());
    return r;
  }

  @SuppressWarnings("unchecked")
  static List<Map<String, Object>> runs(String query) {
    return (List<Map<String, Object>>) ok("/api/runs" + query).jsonValue();
  }

  static List<String> ids(List<Map<String, Object>> runs) {
    return runs.stream().map(r -> (String) r.get("id")).toList();
  }

  @Test
  void runsAreFilteredByNormTagStatusAndConfig() {
    assertEquals(6, runs("").size());
    assertEquals(List.of("run1batch"), ids(runs("?norm=batch")));
    assertEquals(List.of("run0none"), ids(runs("?tag=baseline")));
    assertEquals(List.of(StoreFixture.XSS_ID), ids(runs("?status=running")));
    assertEquals(
        List.of("run1batch", "run3layer", StoreFixture.XSS_ID), ids(runs("?config.lr=0.1")));
    assertEquals(
        List.of("run3layer", "run4group", StoreFixture.XSS_ID),
        ids(runs("?config.batch_size=128")));
    assertEquals(
        List.of("run3layer"), ids(runs("?config.batch_size=128&config.lr=0.1&status=finished")));
    assertEquals(0, runs("?group=nope").size());
    assertEquals(6, runs("?group=" + StoreFixture.GROUP).size());
  }

  @Test
  void aRunsRuntimeIsToItsEndOrWhileRunningToItsLastHeartbeat() {
    var byId = new java.util.HashMap<String, Map<String, Object>>();
    for (var r : runs("")) {
      byId.put((String) r.get("id"), r);
    }
    // the fixture's runs end, or last beat, 500 s after they start
    assertEquals(500.0, ((Number) byId.get("run1batch").get("runtime")).doubleValue(), 1e-6);
    assertEquals(
        500.0, ((Number) byId.get(StoreFixture.XSS_ID).get("runtime")).doubleValue(), 1e-6);
  }

  @Test
  @SuppressWarnings("unchecked")
  void runsSortBySummaryMetric() {
    List<Map<String, Object>> desc = runs("?sort=summary.test/accuracy&order=desc");
    List<Double> acc = new ArrayList<>();
    for (var r : desc) {
      acc.add(
          ((Number) ((Map<String, Object>) r.get("summary")).get("test/accuracy")).doubleValue());
    }
    for (int i = 1; i < acc.size(); i++) {
      assertTrue(acc.get(i - 1) >= acc.get(i), "descending: " + acc);
    }
    assertEquals("run0none", desc.get(0).get("id"));
    assertEquals(ids(runs("?sort=name")).size(), 6);
    assertEquals("mnist-batch", runs("?sort=name").get(1).get("name"));
  }

  @Test
  @SuppressWarnings("unchecked")
  void metricsAreDownsampledKeepingFirstAndLast() {
    int steps = StoreFixture.EPOCHS * StoreFixture.STEPS_PER_EPOCH;
    Map<String, Object> m =
        ok("/api/metrics?run=run0none,run2instance&key=train/loss&max_points=50").json();
    List<Map<String, Object>> series = (List<Map<String, Object>>) m.get("series");
    assertEquals(2, series.size());
    for (var s : series) {
      List<List<Number>> pts = (List<List<Number>>) s.get("points");
      assertEquals(steps, ((Number) s.get("total")).intValue());
      assertTrue(pts.size() <= 50 && pts.size() >= 2, "points " + pts.size());
      assertEquals(0, pts.get(0).get(0).intValue());
      assertEquals(steps - 1, pts.get(pts.size() - 1).get(0).intValue());
    }
    List<?> all =
        (List<?>)
            ((List<Map<String, Object>>)
                    ok("/api/metrics?run=run0none&key=train/loss&max_points=10000")
                        .json()
                        .get("series"))
                .get(0)
                .get("points");
    assertEquals(steps, all.size());
  }

  @Test
  @SuppressWarnings("unchecked")
  void metricsAgainstEpochAndTime() {
    var epoch =
        (List<List<Number>>)
            ((List<Map<String, Object>>)
                    ok("/api/metrics?run=run1batch&key=test/accuracy&x=epoch").json().get("series"))
                .get(0)
                .get("points");
    // 'epoch' is logged at every step; the accuracy, at the last step of each epoch, sits at
    // e + 19/20 on the fractional epoch axis.
    assertEquals(StoreFixture.EPOCHS, epoch.size());
    for (int e = 0; e < epoch.size(); e++) {
      assertEquals(e + 0.95, epoch.get(e).get(0).doubleValue(), 1e-9);
    }
    var time =
        (List<List<Number>>)
            ((List<Map<String, Object>>)
                    ok("/api/metrics?run=run1batch&key=train/loss&x=time").json().get("series"))
                .get(0)
                .get("points");
    assertEquals(0.0, time.get(0).get(0).doubleValue(), 1e-6);
    assertEquals(199 * 0.5, time.get(time.size() - 1).get(0).doubleValue(), 1e-6);
  }

  @Test
  void epochAxisInterpolatesBetweenEpochStarts() {
    // Epoch logged once at the end of each 10-step epoch, as 1, 2, 3.
    StoreReader.Series epochs =
        new StoreReader.Series(
            "r", new double[] {9, 19, 29}, new double[] {1, 2, 3}, new long[] {9, 19, 29});
    StoreReader.Series loss =
        new StoreReader.Series(
            "r",
            new double[] {0, 9, 14, 19, 24, 39},
            new double[] {5, 4, 3, 2, 1, 0},
            new long[] {0, 9, 14, 19, 24, 39});
    StoreReader.Series s = StoreReader.withEpochAxis(loss, epochs);
    assertArrayEquals(new double[] {0.1, 1, 1.5, 2, 2.5, 4}, s.x(), 1e-12);
    assertArrayEquals(new double[] {5, 4, 3, 2, 1, 0}, s.y(), 1e-12);
    assertEquals(
        0,
        StoreReader.withEpochAxis(
                loss, new StoreReader.Series("r", new double[0], new double[0], new long[0]))
            .size());
  }

  @Test
  void lttbKeepsEndsAndBound() {
    Random rnd = new Random(1);
    int n = 10_000;
    double[] x = new double[n];
    double[] y = new double[n];
    for (int i = 0; i < n; i++) {
      x[i] = i;
      y[i] = rnd.nextGaussian();
    }
    y[5000] = 100; // a spike must survive
    for (int max : new int[] {2, 3, 100, 999}) {
      int[] keep = Downsample.lttb(x, y, max);
      assertEquals(max, keep.length);
      assertEquals(0, keep[0]);
      assertEquals(n - 1, keep[keep.length - 1]);
      for (int i = 1; i < keep.length; i++) {
        assertTrue(keep[i] > keep[i - 1]);
      }
      if (max >= 100) {
        assertTrue(java.util.Arrays.stream(keep).anyMatch(i -> i == 5000), "spike kept");
      }
    }
    assertEquals(5, Downsample.lttb(new double[5], new double[5], 10).length);
  }

  @SuppressWarnings("unchecked")
  static List<Map<String, Object>> rows(Map<String, Object> page) {
    return (List<Map<String, Object>>) page.get("rows");
  }

  @Test
  @SuppressWarnings("unchecked")
  void mistakesFilterAndPagination() {
    int run = 2;
    int expected = 0;
    for (int x = 0; x < StoreFixture.EXAMPLES; x++) {
      expected += StoreFixture.wrong(run, x) ? 1 : 0;
    }
    assertNotEquals(0, expected);
    String base = "/api/predictions?run=" + StoreFixture.runId(run) + "&mistakes=1";
    Map<String, Object> first = ok(base + "&size=4").json();
    assertEquals(expected, ((Number) first.get("total")).intValue());
    Set<Long> seen = new HashSet<>();
    for (int page = 0; page * 4 < expected; page++) {
      for (var r : rows(ok(base + "&size=4&page=" + page).json())) {
        assertNotEquals(r.get("label"), r.get("predicted"));
        assertTrue(StoreFixture.wrong(run, ((Number) r.get("example")).intValue()));
        assertTrue(seen.add(((Number) r.get("example")).longValue()), "no row twice");
      }
    }
    assertEquals(expected, seen.size());
    assertEquals(0, rows(ok(base + "&size=4&page=1000").json()).size());
    // Groups by predicted class add up to the total.
    long sum = 0;
    for (Object c : ((Map<String, Object>) first.get("groups")).values()) {
      sum += ((Number) c).longValue();
    }
    assertEquals(expected, sum);
    // Filter to one predicted class, sorted by confidence.
    String k = ((Map<String, Object>) first.get("groups")).keySet().iterator().next();
    List<Map<String, Object>> ofK =
        rows(ok(base + "&predicted=" + k + "&sort=confidence&size=500").json());
    assertEquals(
        ((Number) ((Map<String, Object>) first.get("groups")).get(k)).intValue(), ofK.size());
    for (int i = 0; i < ofK.size(); i++) {
      assertEquals(Integer.parseInt(k), ((Number) ofK.get(i).get("predicted")).intValue());
      if (i > 0) {
        assertTrue(
            ((Number) ofK.get(i - 1).get("confidence")).doubleValue()
                >= ((Number) ofK.get(i).get("confidence")).doubleValue());
      }
    }
    assertEquals(
        StoreFixture.EXAMPLES,
        ((Number) ok("/api/predictions?run=run2instance").json().get("total")).intValue());
  }

  @Test
  @SuppressWarnings("unchecked")
  void confusionMatrixSumsToExamples() {
    for (int run = 0; run < StoreFixture.NORMS.size(); run++) {
      Map<String, Object> c = ok("/api/confusion?run=" + StoreFixture.runId(run)).json();
      List<List<Number>> m = (List<List<Number>>) c.get("matrix");
      assertEquals(10, m.size());
      long sum = 0;
      long diagonal = 0;
      for (int i = 0; i < m.size(); i++) {
        for (int j = 0; j < m.get(i).size(); j++) {
          sum += m.get(i).get(j).longValue();
          diagonal += i == j ? m.get(i).get(j).longValue() : 0;
        }
      }
      int mistakes = 0;
      for (int x = 0; x < StoreFixture.EXAMPLES; x++) {
        mistakes += StoreFixture.wrong(run, x) ? 1 : 0;
      }
      assertEquals(StoreFixture.EXAMPLES, sum);
      assertEquals(StoreFixture.EXAMPLES - mistakes, diagonal);
      assertEquals(sum, ((Number) c.get("total")).longValue());
    }
  }

  @Test
  @SuppressWarnings("unchecked")
  void comparePredictionsFindsExamplesWhereOneRunIsRight() {
    int a = 0;
    int b = 4;
    int onlyA = 0;
    int onlyB = 0;
    for (int x = 0; x < StoreFixture.EXAMPLES; x++) {
      boolean ra = !StoreFixture.wrong(a, x);
      boolean rb = !StoreFixture.wrong(b, x);
      onlyA += ra && !rb ? 1 : 0;
      onlyB += !ra && rb ? 1 : 0;
    }
    String q =
        "/api/compare-predictions?a=" + StoreFixture.runId(a) + "&b=" + StoreFixture.runId(b);
    Map<String, Object> r = ok(q + "&size=500").json();
    Map<String, Object> counts = (Map<String, Object>) r.get("counts");
    assertEquals(onlyA, ((Number) counts.get("only_a_right")).intValue());
    assertEquals(onlyB, ((Number) counts.get("only_b_right")).intValue());
    assertEquals(onlyA + onlyB, rows(r).size());
    for (var row : rows(r)) {
      boolean ra = row.get("a_predicted").equals(row.get("label"));
      boolean rb = row.get("b_predicted").equals(row.get("label"));
      assertNotEquals(ra, rb);
    }
    List<Map<String, Object>> aOnly = rows(ok(q + "&which=a&size=500").json());
    assertEquals(onlyA, aOnly.size());
    for (var row : aOnly) {
      assertEquals(row.get("label"), row.get("a_predicted"));
    }
  }

  @Test
  @SuppressWarnings("unchecked")
  void predictionsOnShiftedTestImagesAreASetOfTheirOwn() {
    // the sets a run has, in the order robustness evaluated them; none for run 4
    List<Map<String, Object>> sets =
        (List<Map<String, Object>>) ok("/api/prediction-sets?run=run1batch").jsonValue();
    assertEquals(
        List.of("invert", "adapted/invert"), sets.stream().map(m -> m.get("shift")).toList());
    assertEquals(25.0, ((Number) sets.get(0).get("accuracy")).doubleValue(), 1e-9);
    assertEquals(StoreFixture.EXAMPLES, ((Number) sets.get(0).get("total")).intValue());
    assertEquals(List.of(), ok("/api/prediction-sets?run=run4group").jsonValue());

    int run = 2;
    int expected = 0;
    for (int x = 0; x < StoreFixture.EXAMPLES; x++) {
      expected += StoreFixture.wrongInverted(run, x) ? 1 : 0;
    }
    String base = "/api/predictions?run=" + StoreFixture.runId(run) + "&set=invert";
    Map<String, Object> page = ok(base + "&mistakes=1&size=500").json();
    assertEquals(expected, ((Number) page.get("total")).intValue());
    assertEquals("invert", page.get("set"));
    Map<String, Long> groups = new java.util.TreeMap<>();
    for (int x = 0; x < StoreFixture.EXAMPLES; x++) {
      if (StoreFixture.wrongInverted(run, x)) {
        groups.merge(Integer.toString(StoreFixture.predictedInverted(run, x)), 1L, Long::sum);
      }
    }
    assertEquals(groups, normalize((Map<String, Object>) page.get("groups")));
    for (var r : rows(page)) {
      int x = ((Number) r.get("example")).intValue();
      assertTrue(StoreFixture.wrongInverted(run, x));
      assertEquals(
          StoreFixture.predictedInverted(run, x), ((Number) r.get("predicted")).intValue());
    }
    // the run's own predictions are still there, unchanged
    assertEquals("", ok("/api/predictions?run=run2instance").json().get("set"));

    // the confusion matrix of the set
    Map<String, Object> c = ok("/api/confusion?run=run2instance&set=invert").json();
    List<List<Number>> m = (List<List<Number>>) c.get("matrix");
    long[][] want = new long[10][10];
    for (int x = 0; x < StoreFixture.EXAMPLES; x++) {
      want[x % 10][StoreFixture.predictedInverted(run, x)]++;
    }
    for (int t = 0; t < 10; t++) {
      for (int p = 0; p < 10; p++) {
        assertEquals(want[t][p], m.get(t).get(p).longValue(), "true " + t + ", predicted " + p);
      }
    }

    // two runs on the same shifted images
    int onlyA = 0;
    for (int x = 0; x < StoreFixture.EXAMPLES; x++) {
      onlyA += !StoreFixture.wrongInverted(0, x) && StoreFixture.wrongInverted(3, x) ? 1 : 0;
    }
    Map<String, Object> cmp =
        ok("/api/compare-predictions?a=run0none&b=run3layer&set=invert&which=a&size=500").json();
    assertEquals(
        onlyA, ((Number) ((Map<String, Object>) cmp.get("counts")).get("only_a_right")).intValue());
    assertEquals(onlyA, rows(cmp).size());

    // one run on its own test images and on the inverted ones: what the inversion costs it
    int lost = 0;
    int gained = 0;
    for (int x = 0; x < StoreFixture.EXAMPLES; x++) {
      boolean clean = !StoreFixture.wrong(run, x);
      boolean inverted = !StoreFixture.wrongInverted(run, x);
      lost += clean && !inverted ? 1 : 0;
      gained += !clean && inverted ? 1 : 0;
    }
    String self = "/api/compare-predictions?a=run2instance&b=run2instance&b_set=invert&size=500";
    Map<String, Object> flips = ok(self + "&which=a").json();
    Map<String, Object> flipCounts = (Map<String, Object>) flips.get("counts");
    assertEquals(lost, ((Number) flipCounts.get("only_a_right")).intValue());
    assertEquals(gained, ((Number) flipCounts.get("only_b_right")).intValue());
    assertEquals("", flips.get("set"));
    assertEquals("invert", flips.get("b_set"));
    for (var r : rows(flips)) {
      int x = ((Number) r.get("example")).intValue();
      assertEquals(
          StoreFixture.predictedInverted(run, x), ((Number) r.get("b_predicted")).intValue());
    }
    // the other way round: a on the inverted images, b on its own (b_set=-)
    Map<String, Object> back =
        ok("/api/compare-predictions?a=run2instance&set=invert&b=run2instance&b_set=-").json();
    assertEquals(
        gained,
        ((Number) ((Map<String, Object>) back.get("counts")).get("only_a_right")).intValue());

    // the image as the model saw it: the inverted digit, not the clean one
    RawHttp.Response inverted = ok("/api/image?run=run2instance&set=invert&example=3");
    assertArrayEquals(StoreFixture.invertedDigitPng(3), inverted.body());
    assertArrayEquals(StoreFixture.digitPng(3), ok("/api/image?run=run2instance&example=3").body());

    // a set the run does not have: a 404 naming the sets it has
    RawHttp.Response missing = RawHttp.get(port, "/api/predictions?run=run1batch&set=noise_0.5");
    assertEquals(404, missing.status());
    assertTrue(
        missing
            .text()
            .contains(
                "no predictions on shifted test images 'noise_0.5'; it has: invert, adapted/invert"),
        missing.text());
    assertTrue(
        RawHttp.get(port, "/api/predictions?run=run4group&set=invert")
            .text()
            .contains("(run normlab robustness on it)"));
    assertEquals(
        404,
        RawHttp.get(port, "/api/compare-predictions?a=run0none&b=run4group&set=invert").status());
    assertEquals(404, RawHttp.get(port, "/api/image?run=run4group&set=invert&example=3").status());
    assertEquals(400, RawHttp.get(port, "/api/predictions?run=run0none&set=a%20b").status());
  }

  private static Map<String, Long> normalize(Map<String, Object> counts) {
    Map<String, Long> out = new java.util.HashMap<>();
    counts.forEach((k, v) -> out.put(k, ((Number) v).longValue()));
    return out;
  }

  @Test
  @SuppressWarnings("unchecked")
  void classNamesComeWithTheRunsPredictions() {
    assertEquals(
        StoreFixture.CLASS_NAMES, ok("/api/predictions?run=run3layer").json().get("classes"));
    assertEquals(StoreFixture.CLASS_NAMES, ok("/api/confusion?run=run3layer").json().get("names"));
    assertEquals(
        StoreFixture.CLASS_NAMES,
        ok("/api/predictions?run=run3layer&set=invert").json().get("classes"),
        "the same classes on shifted images");
    // no typed table, or MNIST's numbers: none
    assertEquals(null, ok("/api/predictions?run=run2instance").json().get("classes"));
    assertTrue(ok("/api/predictions?run=run2instance").json().containsKey("classes"));
  }

  @Test
  void imagesArePng() {
    RawHttp.Response r = ok("/api/image?run=run0none&example=3");
    assertEquals("image/png", r.header("Content-Type"));
    assertArrayEquals(
        new byte[] {(byte) 0x89, 'P', 'N', 'G'}, java.util.Arrays.copyOf(r.body(), 4));
    assertEquals(404, RawHttp.get(port, "/api/image?run=run0none&example=100000").status());
  }

  @Test
  @SuppressWarnings("unchecked")
  void keysAndParallel() {
    Map<String, Object> keys = ok("/api/keys").json();
    assertEquals(
        List.of(
            "epoch",
            "system/peak_rss_mib",
            "system/rss_mib",
            "test/accuracy",
            "test/loss",
            "train/loss",
            "watch/act_p05/conv2",
            "watch/act_p25/conv2",
            "watch/act_p50/conv2",
            "watch/act_p75/conv2",
            "watch/act_p95/conv2",
            "watch/act_std/conv2",
            "watch/grad_norm/total"),
        keys.get("metrics"));
    assertTrue(((List<String>) keys.get("config")).contains("optimizer.momentum"));
    Map<String, Object> p = ok("/api/parallel?group=" + StoreFixture.GROUP).json();
    assertEquals(6, ((List<?>) p.get("runs")).size());
    assertEquals(List.of(StoreFixture.GROUP), ok("/api/groups").jsonValue());
  }

  /**
   * The fixture's six runs: batch 64 for runs 0-2 and 128 after, lr 0.01 and 0.1 alternating,
   * momentum 0.9 for runs 0-3 and 0.5 after, accuracy falling from run to run; the norm differs in
   * every run (an identifier), the checkpoint directory and env.* are where they ran.
   */
  @Test
  @SuppressWarnings("unchecked")
  void parameterImportanceRanksTheConfigKeysThatVary() {
    Map<String, Object> imp = ok("/api/importance?group=" + StoreFixture.GROUP).json();
    assertEquals("test/accuracy", imp.get("metric"));
    assertEquals(6, ((Number) imp.get("runs")).intValue());
    assertEquals(Map.of("norm", "a different value in every run"), imp.get("left_out"));
    List<Map<String, Object>> params = (List<Map<String, Object>>) imp.get("parameters");
    Map<String, Map<String, Object>> byKey = new java.util.TreeMap<>();
    double total = 0;
    for (Map<String, Object> p : params) {
      byKey.put((String) p.get("key"), p);
      total += ((Number) p.get("importance")).doubleValue();
    }
    assertEquals(List.of("batch_size", "lr", "optimizer.momentum"), List.copyOf(byKey.keySet()));
    assertEquals(1.0, total, 1e-9);
    // Spearman by hand from the ranks (ties at their mean rank) against accuracy's 6..1
    double syy = 17.5;
    assertEquals(
        -13.5 / Math.sqrt(13.5 * syy), num(byKey.get("batch_size").get("correlation")), 1e-12);
    assertEquals(-4.5 / Math.sqrt(13.5 * syy), num(byKey.get("lr").get("correlation")), 1e-12);
    assertEquals(
        12 / Math.sqrt(12 * syy), num(byKey.get("optimizer.momentum").get("correlation")), 1e-12);
    assertEquals(64.0, num(byKey.get("batch_size").get("min")));
    assertEquals(128.0, num(byKey.get("batch_size").get("max")));
    // another result: the loss rises as accuracy falls
    Map<String, Object> loss =
        ok("/api/importance?group=" + StoreFixture.GROUP + "&metric=test/loss").json();
    Map<String, Object> batch =
        ((List<Map<String, Object>>) loss.get("parameters"))
            .stream().filter(p -> p.get("key").equals("batch_size")).findFirst().orElseThrow();
    assertEquals(13.5 / Math.sqrt(13.5 * syy), num(batch.get("correlation")), 1e-12);
    Map<String, Object> none = ok("/api/importance?metric=no/such").json();
    assertEquals("needs at least 3 runs with a value of no/such, has 0", none.get("reason"));
    assertEquals(List.of(), none.get("parameters"));
    assertEquals(400, RawHttp.get(port, "/api/importance?run=run0none").status());
  }

  private static double num(Object o) {
    return ((Number) o).doubleValue();
  }

  @Test
  @SuppressWarnings("unchecked")
  void typedTablesAreListedPagedSortedAndFiltered() {
    List<Map<String, Object>> tables =
        (List<Map<String, Object>>) ok("/api/tables?run=run2instance").jsonValue();
    assertEquals(1, tables.size());
    assertEquals("feature_maps", tables.get(0).get("name"));
    assertEquals(StoreFixture.TABLE_ROWS, ((Number) tables.get(0).get("rows")).intValue());
    assertEquals(4, ((List<?>) tables.get(0).get("columns")).size());
    // the layer run's typed predictions table (no rows in the fixture) is listed too
    assertEquals(
        List.of("predictions"),
        ((List<Map<String, Object>>) ok("/api/tables?run=run3layer").jsonValue())
            .stream().map(t -> t.get("name")).toList());
    assertEquals(List.of(), ok("/api/tables?run=run0none").jsonValue());

    Map<String, Object> page =
        (Map<String, Object>)
            ok("/api/table?run=run2instance&name=feature_maps&size=7&page=1").jsonValue();
    assertEquals(StoreFixture.TABLE_ROWS, ((Number) page.get("total")).intValue());
    List<Map<String, Object>> rows = (List<Map<String, Object>>) page.get("rows");
    assertEquals(List.of(7L, 8L, 9L, 10L, 11L, 12L, 13L), rowNumbers(rows));
    List<Object> first = (List<Object>) rows.get(0).get("values");
    assertEquals(3, ((Number) first.get(0)).intValue()); // example_id = row / 2
    assertEquals("norm2", first.get(1));
    Map<String, Object> image = (Map<String, Object>) first.get(2);
    assertEquals(28, ((Number) image.get("w")).intValue());
    assertArrayEquals(
        StoreFixture.digitPng(3), java.util.Base64.getDecoder().decode((String) image.get("png")));

    // sorted by a number, descending, ties in row order: spread = (7k % 30) / 10
    rows =
        (List<Map<String, Object>>)
            ((Map<String, Object>)
                    ok("/api/table?run=run2instance&name=feature_maps&sort=spread&order=desc&size=3")
                        .jsonValue())
                .get("rows");
    assertEquals(List.of(17L, 4L, 21L), rowNumbers(rows), "spreads 2.9, 2.8, 2.7");
    // filtered on a text column and on a number column
    Map<String, Object> norm1 =
        (Map<String, Object>)
            ok("/api/table?run=run2instance&name=feature_maps&column=layer&value=norm1&size=100")
                .jsonValue();
    assertEquals(StoreFixture.TABLE_ROWS / 2, ((Number) norm1.get("total")).intValue());
    Map<String, Object> example4 =
        (Map<String, Object>)
            ok("/api/table?run=run2instance&name=feature_maps&column=example_id&value=4")
                .jsonValue();
    assertEquals(List.of(8L, 9L), rowNumbers((List<Map<String, Object>>) example4.get("rows")));

    // an unknown table is a 404 naming the run's tables; bad sorts and filters are 400s
    RawHttp.Response missing = RawHttp.get(port, "/api/table?run=run2instance&name=nope");
    assertEquals(404, missing.status());
    assertTrue(missing.text().contains("it has: feature_maps"), missing.text());
    assertEquals(404, RawHttp.get(port, "/api/table?run=run0none&name=feature_maps").status());
    RawHttp.Response byImage =
        RawHttp.get(port, "/api/table?run=run2instance&name=feature_maps&sort=output");
    assertEquals(400, byImage.status());
    assertTrue(byImage.text().contains("cannot sort by image column 'output'"), byImage.text());
    assertEquals(
        400, RawHttp.get(port, "/api/table?run=run2instance&name=feature_maps&sort=nope").status());
    assertEquals(
        400,
        RawHttp.get(port, "/api/table?run=run2instance&name=feature_maps&column=spread&value=x")
            .status());
    assertEquals(
        400,
        RawHttp.get(port, "/api/table?run=run2instance&name=feature_maps&column=layer").status());
    assertEquals(
        400, RawHttp.get(port, "/api/table?run=run2instance&name=feature_maps&size=1000").status());
  }

  @Test
  @SuppressWarnings("unchecked")
  void aTableOfSeveralRunsMergesTheirRowsRunByRun() {
    String all = "run0none,run4group,run1batch,run2instance";
    Map<String, Object> merged =
        (Map<String, Object>)
            ok("/api/table?run=" + all + "&name=feature_maps&size=200").jsonValue();
    // no table: no rows; other columns: left out and named; the rest in the order asked
    assertEquals(List.of("run4group", "run2instance"), merged.get("runs"));
    assertEquals(List.of("run1batch"), merged.get("other_columns"));
    assertEquals(2 * StoreFixture.TABLE_ROWS, ((Number) merged.get("total")).intValue());
    List<Map<String, Object>> rows = (List<Map<String, Object>>) merged.get("rows");
    assertEquals("run4group", rows.get(0).get("run"));
    assertEquals("run2instance", rows.get(StoreFixture.TABLE_ROWS).get("run"));
    // one example's norm1 rows of both runs: sorted by spread, ties in the runs' order
    Map<String, Object> example0 =
        (Map<String, Object>)
            ok("/api/table?run=" + all + "&name=feature_maps&column=example_id&value=0&sort=spread")
                .jsonValue();
    List<Map<String, Object>> four = (List<Map<String, Object>>) example0.get("rows");
    assertEquals(
        List.of("run2instance", "run4group", "run2instance", "run4group"),
        four.stream().map(r -> r.get("run")).toList(),
        "spreads 0 (instance row 0), 0.1 (group row 0), 0.7, 0.8");
    assertEquals(
        404, RawHttp.get(port, "/api/table?run=run0none,run3layer&name=feature_maps").status());
  }

  private static List<Long> rowNumbers(List<Map<String, Object>> rows) {
    return rows.stream().map(r -> ((Number) r.get("row")).longValue()).toList();
  }
}
