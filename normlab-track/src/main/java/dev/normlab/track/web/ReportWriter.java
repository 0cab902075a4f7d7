package dev.normlab.track.web;

import dev.normlab.io.Json;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.SQLException;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Writes the shareable report: one HTML file holding the dashboard page, the ECharts script, the
 * data of one group as JSON and the images as data: URIs, so it opens from disk with no server.
 */
public final class ReportWriter {
  /** Points per metric series in the report (the server downsamples to the chart width). */
  static final int REPORT_POINTS = 500;

  /**
   * The page forbids every network access (all it needs is inside the file) and runs only its two
   * scripts, named by hash, so even an injected inline event handler would not run.
   */
  static String reportCsp(String... scripts) {
    StringBuilder hashes = new StringBuilder();
    for (String script : scripts) {
      hashes.append(" 'sha256-").append(sha256(script)).append('\'');
    }
    return "default-src 'none'; script-src"
        + hashes
        + "; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'";
  }

  private static String sha256(String text) {
    try {
      return Base64.getEncoder()
          .encodeToString(
              MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  public record Result(Path file, int runs, long bytes) {}

  private ReportWriter() {}

  /**
   * How much of each run a report keeps: its predictions and those on each of its shifted test sets
   * (mistakes first), and the first rows of each of its typed tables.
   */
  public record Limits(int predictions, int shiftedPredictions, int tableRows) {
    public static final int DEFAULT_TABLE_ROWS = 100;

    public Limits {
      if (predictions < 0) {
        throw new IllegalArgumentException("--max-predictions must be >= 0");
      }
      if (shiftedPredictions < 0) {
        throw new IllegalArgumentException("--max-shifted-predictions must be >= 0");
      }
      if (tableRows < 0) {
        throw new IllegalArgumentException("--max-table-rows must be >= 0");
      }
    }

    /** {@code predictions} per run and per shifted set, the default table rows. */
    public static Limits of(int predictions) {
      return new Limits(predictions, predictions, DEFAULT_TABLE_ROWS);
    }
  }

  /** Writes the report of {@code group} to {@code out}, as many predictions per shifted set. */
  public static Result write(Path store, String group, Path out, int maxPredictionsPerRun)
      throws IOException, SQLException {
    return write(store, group, out, Limits.of(maxPredictionsPerRun));
  }

  /**
   * Writes the report of {@code group} to {@code out} atomically (temp file, then rename), with as
   * much of each run as {@code limits} keeps.
   */
  public static Result write(Path store, String group, Path out, Limits limits)
      throws IOException, SQLException {
    String html;
    int runCount;
    try (StoreReader reader = new StoreReader(store)) {
      List<Map<String, Object>> runs = reader.runs(StoreReader.RunQuery.group(group));
      if (runs.isEmpty()) {
        List<String> groups = reader.groups();
        throw new IllegalArgumentException(
            "no runs in group '"
                + group
                + "'"
                + (groups.isEmpty()
                    ? " (the store has no groups)"
                    : "; groups: " + String.join(", ", groups)));
      }
      runCount = runs.size();
      html = page(data(reader, group, runs, limits));
    }
    Path target = out.toAbsolutePath();
    Path dir = target.getParent();
    Files.createDirectories(dir);
    Path tmp = Files.createTempFile(dir, ".report-", ".tmp");
    try {
      Files.writeString(tmp, html, StandardCharsets.UTF_8);
      Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } finally {
      Files.deleteIfExists(tmp);
    }
    return new Result(target, runCount, Files.size(target));
  }

  static Map<String, Object> data(
      StoreReader reader, String group, List<Map<String, Object>> runs, int maxPredictions)
      throws SQLException {
    return data(reader, group, runs, Limits.of(maxPredictions));
  }

  @SuppressWarnings("unchecked")
  static Map<String, Object> data(
      StoreReader reader, String group, List<Map<String, Object>> runs, Limits limits)
      throws SQLException {
    Map<String, Object> keys = reader.keys();
    Map<String, Object> metrics = new LinkedHashMap<>();
    Map<String, Object> predictions = new LinkedHashMap<>();
    Map<String, Object> confusion = new LinkedHashMap<>();
    Map<String, Object> shifted = new LinkedHashMap<>();
    Map<String, Object> tables = new LinkedHashMap<>();
    List<String> images = new ArrayList<>();
    Map<String, Integer> imageIndex = new HashMap<>();
    for (Map<String, Object> run : runs) {
      String id = (String) run.get("id");
      Map<String, Object> byKey = new LinkedHashMap<>();
      boolean lrRangeTest =
          reader.metric(id, "lr_find/smoothed_loss", StoreReader.XAxis.STEP).size() > 0;
      for (String key : (List<String>) keys.get("metrics")) {
        Map<String, Object> byX = new LinkedHashMap<>();
        for (StoreReader.XAxis x : StoreReader.XAxis.values()) {
          if (x == StoreReader.XAxis.LR && !lrRangeTest) {
            continue; // an lr axis only for a range test's runs: the file stays smaller
          }
          StoreReader.Series s = reader.metric(id, key, x).downsample(REPORT_POINTS);
          List<Object> points = new ArrayList<>(s.size());
          for (int i = 0; i < s.size(); i++) {
            points.add(List.of(s.x()[i], s.y()[i]));
          }
          byX.put(x.name().toLowerCase(Locale.ROOT), points);
        }
        if (!((List<?>) byX.get("step")).isEmpty()) {
          byKey.put(key, byX);
        }
      }
      metrics.put(id, byKey);
      Map<String, Object> own =
          embedPredictions(reader, id, null, limits.predictions(), images, imageIndex);
      if (own != null) {
        predictions.put(id, own);
        confusion.put(id, reader.confusion(id, null));
      }
      // normlab robustness's predictions on shifted test images, each set as the run's own
      List<Map<String, Object>> sets =
          limits.shiftedPredictions() > 0 ? reader.shiftedSets(id) : List.of(); // 0: none
      if (!sets.isEmpty()) {
        Map<String, Object> bySet = new LinkedHashMap<>();
        for (Map<String, Object> set : sets) {
          String shift = (String) set.get("shift");
          Map<String, Object> stored =
              embedPredictions(reader, id, shift, limits.shiftedPredictions(), images, imageIndex);
          if (stored != null) {
            stored.put("confusion", reader.confusion(id, shift));
            bySet.put(shift, stored);
          }
        }
        Map<String, Object> ofRun = new LinkedHashMap<>();
        ofRun.put("sets", sets);
        ofRun.put("predictions", bySet);
        shifted.put(id, ofRun);
      }
      List<Map<String, Object>> runTables = embedTables(reader, id, limits.tableRows());
      if (!runTables.isEmpty()) {
        tables.put(id, runTables);
      }
    }
    Map<String, Object> data = new LinkedHashMap<>();
    data.put("group", group);
    data.put(
        "generated",
        DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm 'UTC'")
            .withZone(ZoneOffset.UTC)
            .format(Instant.now()));
    data.put("runs", runs);
    data.put("keys", keys);
    data.put("metrics", metrics);
    data.put("predictions", predictions);
    data.put("confusion", confusion);
    data.put("shifted", shifted);
    data.put("tables", tables);
    data.put("images", images);
    // the parameter importance of every result the runs have, for the parallel view's panel;
    // not of --watch's fifty-odd diagnostics (a forest each: seconds for a large group)
    Map<String, Object> importance = new LinkedHashMap<>();
    for (String key : StoreReader.numericSummaryKeys(runs)) {
      if (!key.startsWith("watch/")) {
        importance.put(key, StoreReader.importance(key, runs));
      }
    }
    data.put("importance", importance);
    return data;
  }

  /**
   * Up to {@code max} predictions of a run on a test set (mistakes first), as rows {@code [example,
   * label, predicted, confidence, image index]}, with the total; null when it has none. Images go
   * into {@code images} once each: runs on one test set share theirs.
   */
  private static Map<String, Object> embedPredictions(
      StoreReader reader,
      String run,
      String set,
      int max,
      List<String> images,
      Map<String, Integer> imageIndex)
      throws SQLException {
    long total = reader.predictionCount(run, set);
    if (total == 0) {
      return null;
    }
    List<Object> rows = new ArrayList<>();
    for (StoreReader.Prediction p : reader.reportPredictions(run, set, max)) {
      Integer image = null;
      if (p.png() != null) {
        String uri = "data:image/png;base64," + Base64.getEncoder().encodeToString(p.png());
        image =
            imageIndex.computeIfAbsent(
                uri,
                u -> {
                  images.add(u);
                  return images.size() - 1;
                });
      }
      List<Object> row = new ArrayList<>();
      row.add(p.example());
      row.add(p.label());
      row.add(p.predicted());
      row.add(p.confidence());
      row.add(image);
      rows.add(row);
    }
    Map<String, Object> stored = new LinkedHashMap<>();
    stored.put("total", total);
    stored.put("classes", reader.classNames(run));
    stored.put("rows", rows);
    return stored;
  }

  /**
   * The first {@code max} rows of each of a run's typed tables, with its columns and row count; the
   * {@code predictions} table is left out (the report's predictions view has those rows).
   */
  private static List<Map<String, Object>> embedTables(StoreReader reader, String run, int max)
      throws SQLException {
    List<Map<String, Object>> out = new ArrayList<>();
    if (max == 0) {
      return out;
    }
    for (Map<String, Object> t : reader.tables(run)) {
      if ("predictions".equals(t.get("name"))) {
        continue;
      }
      Map<String, Object> page =
          reader.tableRows(
              new StoreReader.TableQuery(
                  List.of(run), (String) t.get("name"), null, false, null, null, 0, max));
      List<Object> rows = new ArrayList<>();
      for (Object row : (List<?>) page.get("rows")) {
        rows.add(((Map<?, ?>) row).get("values"));
      }
      Map<String, Object> table = new LinkedHashMap<>();
      table.put("name", t.get("name"));
      table.put("columns", t.get("columns"));
      table.put("total", t.get("rows"));
      table.put("rows", rows);
      out.add(table);
    }
    return out;
  }

  /** The dashboard page with its stylesheet, scripts and data inlined. */
  static String page(Map<String, Object> data) {
    String template = text("/dev/normlab/track/web/index.html");
    // In JSON '<' only occurs inside strings, where \u003c means the same: no '</script>' inside.
    String json = Json.write(data).replace("<", "\\u003c");
    String echarts =
        "\n" + scriptSafe(new String(DashboardServer.echarts(), StandardCharsets.UTF_8)) + "\n";
    String app = "\n" + scriptSafe(text("/dev/normlab/track/web/app.js")) + "\n";
    String css = text("/dev/normlab/track/web/style.css");
    String title = "normlab report: " + escapeHtml(String.valueOf(data.get("group")));
    return replaceOnce(
        replaceOnce(
            replaceOnce(
                replaceOnce(
                    template,
                    "<title>normlab dashboard</title>",
                    "<meta http-equiv=\"Content-Security-Policy\" content=\""
                        + reportCsp(echarts, app)
                        + "\">\n<title>"
                        + title
                        + "</title>"),
                "<link rel=\"stylesheet\" href=\"/style.css\">",
                "<style>\n" + css + "\n</style>"),
            "<script src=\"/vendor/echarts.min.js\"></script>",
            "<script>" + echarts + "</script>"),
        "<script type=\"module\" src=\"/app.js\"></script>",
        "<script type=\"application/json\" id=\"normlab-data\">"
            + json
            + "</script>\n<script type=\"module\">"
            + app
            + "</script>");
  }

  private static String replaceOnce(String s, String target, String replacement) {
    int at = s.indexOf(target);
    if (at < 0) {
      throw new IllegalStateException("report template lacks " + target);
    }
    return s.substring(0, at) + replacement + s.substring(at + target.length());
  }

  /** A script body must not contain "</script" (it would end the element early). */
  static String scriptSafe(String js) {
    return js.replaceAll("(?i)</(script)", "<\\\\/$1");
  }

  static String escapeHtml(String s) {
    return s.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("\"", "&quot;")
        .replace("'", "&#39;");
  }

  private static String text(String resource) {
    return new String(DashboardServer.resource(resource), StandardCharsets.UTF_8);
  }
}
