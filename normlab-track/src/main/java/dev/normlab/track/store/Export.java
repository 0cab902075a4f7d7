package dev.normlab.track.store;

import dev.normlab.io.Json;
import dev.normlab.track.store.RunQuery.RunInfo;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Exports runs to CSV (a directory with one file per table: {@code runs.csv}, {@code config.csv},
 * {@code metrics.csv}, {@code summary.csv}, {@code predictions.csv} — predictions without images —
 * and {@code shifted_predictions.csv}, {@code normlab robustness}'s, when a run has some; each
 * typed table as {@code tables/<run id>/<table>.csv}, its images as PNG files beside it) or JSON
 * (one document). Every file is written to a temporary file in the same directory and then renamed,
 * so a reader never sees half a file.
 */
public final class Export {
  private Export() {}

  public enum Format {
    CSV,
    JSON;

    public static Format parse(String s) {
      return switch (s.toLowerCase(Locale.ROOT)) {
        case "csv" -> CSV;
        case "json" -> JSON;
        default -> throw new IllegalArgumentException("unknown format '" + s + "' (csv or json)");
      };
    }
  }

  /** Exports one run (id or unique id prefix); returns the files written. */
  public static List<Path> run(RunQuery q, String runId, Format format, Path out)
      throws IOException {
    RunInfo r =
        q.run(runId).orElseThrow(() -> new IllegalArgumentException("no run '" + runId + "'"));
    return runs(q, List.of(r), format, out);
  }

  /** Exports every run of a group; returns the files written. */
  public static List<Path> group(RunQuery q, String group, Format format, Path out)
      throws IOException {
    List<RunInfo> runs = q.runs(new RunQuery.Filter(group, null, null));
    if (runs.isEmpty()) {
      throw new IllegalArgumentException("no runs in group '" + group + "'");
    }
    return runs(q, runs.reversed(), format, out);
  }

  /**
   * Exports {@code runs}: for CSV {@code out} is a directory (created if needed), for JSON the
   * document's file.
   */
  public static List<Path> runs(RunQuery q, List<RunInfo> runs, Format format, Path out)
      throws IOException {
    return switch (format) {
      case CSV -> csv(q, runs, out);
      case JSON -> List.of(json(q, runs, out));
    };
  }

  // ------------------------------------------------------------------ CSV

  private static List<Path> csv(RunQuery q, List<RunInfo> runs, Path dir) throws IOException {
    if (Files.exists(dir) && !Files.isDirectory(dir)) {
      throw new IllegalArgumentException(
          "CSV export writes one file per table: --out must be a directory, " + dir + " is a file");
    }
    Files.createDirectories(dir);
    List<Path> files = new ArrayList<>();

    StringBuilder sb = new StringBuilder();
    row(
        sb,
        "id",
        "name",
        "group",
        "status",
        "started_at",
        "ended_at",
        "host",
        "pid",
        "tags",
        "notes",
        "error");
    for (RunInfo r : runs) {
      row(
          sb,
          r.id(),
          r.name(),
          r.group(),
          r.status(),
          r.startedAt(),
          r.endedAt(),
          r.host(),
          r.pid(),
          String.join(";", r.tags()),
          r.notes(),
          r.error());
    }
    files.add(writeAtomically(dir.resolve("runs.csv"), sb));

    sb = new StringBuilder();
    row(sb, "run_id", "key", "value");
    for (RunInfo r : runs) {
      for (var e : q.config(r.id()).entrySet()) {
        row(sb, r.id(), e.getKey(), plain(e.getValue().json()));
      }
    }
    files.add(writeAtomically(dir.resolve("config.csv"), sb));

    sb = new StringBuilder();
    row(sb, "run_id", "key", "step", "value", "wall");
    for (RunInfo r : runs) {
      for (RunQuery.Metric m : q.metrics(r.id())) {
        row(sb, r.id(), m.key(), m.step(), m.value(), m.wall());
      }
    }
    files.add(writeAtomically(dir.resolve("metrics.csv"), sb));

    sb = new StringBuilder();
    row(sb, "run_id", "key", "rule", "value", "step");
    for (RunInfo r : runs) {
      for (var e : q.summary(r.id()).entrySet()) {
        row(sb, r.id(), e.getKey(), e.getValue().rule(), e.getValue().value(), e.getValue().step());
      }
    }
    files.add(writeAtomically(dir.resolve("summary.csv"), sb));

    sb = new StringBuilder();
    row(sb, "run_id", "example_id", "label", "predicted", "confidence", "probs");
    for (RunInfo r : runs) {
      for (RunQuery.Prediction p : q.predictions(r.id(), false)) {
        row(sb, r.id(), p.exampleId(), p.label(), p.predicted(), p.confidence(), p.probsJson());
      }
    }
    files.add(writeAtomically(dir.resolve("predictions.csv"), sb));

    sb = new StringBuilder();
    row(sb, "run_id", "shift", "example_id", "label", "predicted", "confidence");
    boolean shifted = false;
    for (RunInfo r : runs) {
      for (RunQuery.ShiftedSet set : q.shiftedSets(r.id())) {
        shifted = true;
        for (RunQuery.Prediction p : q.shiftedPredictions(r.id(), set.shift(), false)) {
          row(sb, r.id(), set.shift(), p.exampleId(), p.label(), p.predicted(), p.confidence());
        }
      }
    }
    if (shifted) {
      files.add(writeAtomically(dir.resolve("shifted_predictions.csv"), sb));
    }
    for (RunInfo r : runs) {
      for (RunQuery.Table t : exportedTables(q, r.id())) {
        files.addAll(tableCsv(t, dir.resolve("tables").resolve(r.id())));
      }
    }
    return files;
  }

  /**
   * A run's typed tables but {@code predictions}, whose rows predictions.csv and the JSON's
   * predictions already have.
   */
  private static List<RunQuery.Table> exportedTables(RunQuery q, String runId) {
    return q.tables(runId, Set.of("predictions"));
  }

  /**
   * One typed table as {@code <name>.csv} in {@code dir}: a column {@code row}, then the table's;
   * an image cell is the path of its PNG, written to {@code <name>/<row>_<column>.png}, and a
   * probabilities cell its JSON array.
   */
  private static List<Path> tableCsv(RunQuery.Table t, Path dir) throws IOException {
    List<Path> files = new ArrayList<>();
    List<?> columns = stored(t.columnsJson()) instanceof List<?> l ? l : List.of();
    String base = fileName(t.name());
    StringBuilder sb = new StringBuilder();
    List<Object> header = new ArrayList<>(List.of("row"));
    for (Object c : columns) {
      header.add(((Map<?, ?>) c).get("name"));
    }
    row(sb, header.toArray());
    for (int r = 0; r < t.rows().size(); r++) {
      List<?> values = (List<?>) stored(t.rows().get(r));
      List<Object> cells = new ArrayList<>(List.of(r));
      for (int c = 0; c < columns.size(); c++) {
        Object v = c < values.size() ? values.get(c) : null;
        String type = String.valueOf(((Map<?, ?>) columns.get(c)).get("type"));
        if (v instanceof Map<?, ?> image && "image".equals(type)) {
          String png = base + "/" + r + "_" + fileName(String.valueOf(header.get(c + 1))) + ".png";
          files.add(
              writeAtomically(
                  dir.resolve(png), Base64.getDecoder().decode((String) image.get("png"))));
          cells.add(png);
        } else if (v instanceof List<?>) {
          cells.add(Json.write(v));
        } else {
          cells.add(v instanceof Number n ? (Object) n.doubleValue() : v);
        }
      }
      row(sb, cells.toArray());
    }
    files.add(0, writeAtomically(dir.resolve(base + ".csv"), sb));
    return files;
  }

  /** A table's stored JSON, parsed: the store wrote it, so a parse error is a damaged file. */
  private static Object stored(String json) {
    try {
      return Json.parse(json);
    } catch (Json.ParseException e) {
      throw new IllegalStateException("a typed table holds damaged JSON: " + e.getMessage(), e);
    }
  }

  /** A table or column name as a file name: anything but letters, digits, '.', '-' becomes '_'. */
  static String fileName(String name) {
    String s = name.replaceAll("[^A-Za-z0-9.-]", "_");
    return s.isEmpty() || s.startsWith(".") ? "_" + s : s;
  }

  /** A config value as a CSV user wants it: strings without their JSON quotes. */
  private static String plain(String json) {
    if (json.startsWith("\"")) {
      try {
        return (String) Json.parse(json);
      } catch (Json.ParseException e) {
        return json;
      }
    }
    return json;
  }

  private static void row(StringBuilder sb, Object... cells) {
    for (int i = 0; i < cells.length; i++) {
      if (i > 0) {
        sb.append(',');
      }
      sb.append(cell(cells[i]));
    }
    sb.append("\r\n");
  }

  /** RFC 4180: quote a cell holding a comma, quote or line break; double inner quotes. */
  static String cell(Object v) {
    if (v == null) {
      return "";
    }
    String s = v instanceof Double d ? number(d) : v.toString();
    if (s.indexOf(',') >= 0
        || s.indexOf('"') >= 0
        || s.indexOf('\n') >= 0
        || s.indexOf('\r') >= 0) {
      return '"' + s.replace("\"", "\"\"") + '"';
    }
    return s;
  }

  private static String number(double d) {
    // plain notation: spreadsheets read 1795995474.225 better than 1.795995474225E9
    return d == Math.rint(d) && Math.abs(d) < 1e15
        ? Long.toString((long) d)
        : java.math.BigDecimal.valueOf(d).toPlainString();
  }

  // ------------------------------------------------------------------ JSON

  private static Path json(RunQuery q, List<RunInfo> runs, Path file) throws IOException {
    if (Files.isDirectory(file)) {
      throw new IllegalArgumentException(
          "JSON export writes one document: --out must be a file, " + file + " is a directory");
    }
    List<Object> out = new ArrayList<>();
    for (RunInfo r : runs) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("id", r.id());
      m.put("name", r.name());
      m.put("group", r.group());
      m.put("status", r.status());
      m.put("started_at", r.startedAt());
      m.put("ended_at", r.endedAt());
      m.put("host", r.host());
      m.put("pid", r.pid());
      m.put("tags", r.tags());
      m.put("notes", r.notes());
      m.put("error", r.error());
      Map<String, Object> config = new LinkedHashMap<>();
      q.config(r.id()).forEach((k, v) -> config.put(k, v.value()));
      m.put("config", config);
      Map<String, Object> summary = new LinkedHashMap<>();
      for (var e : q.summary(r.id()).entrySet()) {
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("rule", e.getValue().rule());
        s.put("value", e.getValue().value());
        s.put("step", e.getValue().step());
        summary.put(e.getKey(), s);
      }
      m.put("summary", summary);
      // Columnar per key: compact, and what a plotting tool wants.
      Map<String, Map<String, List<Object>>> metrics = new LinkedHashMap<>();
      for (RunQuery.Metric x : q.metrics(r.id())) {
        Map<String, List<Object>> cols =
            metrics.computeIfAbsent(
                x.key(),
                k -> {
                  Map<String, List<Object>> c = new LinkedHashMap<>();
                  c.put("step", new ArrayList<>());
                  c.put("value", new ArrayList<>());
                  c.put("wall", new ArrayList<>());
                  return c;
                });
        cols.get("step").add(x.step());
        cols.get("value").add(x.value());
        cols.get("wall").add(x.wall());
      }
      m.put("metrics", metrics);
      List<Object> preds = new ArrayList<>();
      for (RunQuery.Prediction p : q.predictions(r.id(), false)) {
        Map<String, Object> pm = new LinkedHashMap<>();
        pm.put("example_id", p.exampleId());
        pm.put("label", p.label());
        pm.put("predicted", p.predicted());
        pm.put("confidence", p.confidence());
        try {
          pm.put("probs", Json.parse(p.probsJson()));
        } catch (Json.ParseException bad) {
          pm.put("probs", p.probsJson());
        }
        preds.add(pm);
      }
      m.put("predictions", preds);
      Map<String, Object> shifted = new LinkedHashMap<>();
      for (RunQuery.ShiftedSet set : q.shiftedSets(r.id())) {
        Map<String, Object> sm = new LinkedHashMap<>();
        sm.put("images", set.images());
        sm.put("accuracy", set.accuracy());
        List<Object> rows = new ArrayList<>();
        for (RunQuery.Prediction p : q.shiftedPredictions(r.id(), set.shift(), false)) {
          rows.add(List.of(p.exampleId(), p.label(), p.predicted(), p.confidence()));
        }
        sm.put("columns", List.of("example_id", "label", "predicted", "confidence"));
        sm.put("rows", rows);
        shifted.put(set.shift(), sm);
      }
      if (!shifted.isEmpty()) {
        m.put("shifted_predictions", shifted);
      }
      Map<String, Object> tables = new LinkedHashMap<>();
      for (RunQuery.Table t : exportedTables(q, r.id())) {
        Map<String, Object> tm = new LinkedHashMap<>();
        tm.put("columns", stored(t.columnsJson()));
        List<Object> rows = new ArrayList<>();
        for (String row : t.rows()) {
          rows.add(stored(row)); // images as stored: {"w", "h", "png": base64}
        }
        tm.put("rows", rows);
        tables.put(t.name(), tm);
      }
      if (!tables.isEmpty()) {
        m.put("tables", tables);
      }
      out.add(m);
    }
    Map<String, Object> doc = new LinkedHashMap<>();
    doc.put("format", "normlab-runs");
    doc.put("version", 1);
    doc.put("runs", out);
    return writeAtomically(file, new StringBuilder(Json.write(doc)).append('\n'));
  }

  // ------------------------------------------------------------------ files

  /** Writes {@code text} to a temp file beside {@code target}, then renames it over target. */
  static Path writeAtomically(Path target, CharSequence text) throws IOException {
    return writeAtomically(target, text.toString().getBytes(StandardCharsets.UTF_8));
  }

  /** Writes {@code bytes} to a temp file beside {@code target}, then renames it over target. */
  static Path writeAtomically(Path target, byte[] bytes) throws IOException {
    Path abs = target.toAbsolutePath();
    Path dir = abs.getParent();
    Files.createDirectories(dir);
    Path tmp = Files.createTempFile(dir, "." + abs.getFileName() + ".", ".tmp");
    try {
      Files.write(tmp, bytes);
      try {
        Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING);
      }
      return abs;
    } finally {
      Files.deleteIfExists(tmp);
    }
  }
}
