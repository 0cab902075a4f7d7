package dev.normlab.track.web;

import dev.normlab.io.Json;
import dev.normlab.track.analysis.ParameterImportance;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.sqlite.SQLiteConfig;

/**
 * Read-only queries over a run store (the tables of {@code schema.sql}) for the dashboard and the
 * report. Every query is parameterized; each thread keeps its own read-only connection, so readers
 * never block each other and WAL lets them read while training runs write.
 */
public final class StoreReader implements AutoCloseable {
  /** Seconds without a heartbeat after which a 'running' run is shown as stale. */
  static final double STALE_SECONDS = 120;

  private final String url;
  private final ThreadLocal<Connection> connections;
  private final ConcurrentLinkedQueue<Connection> opened = new ConcurrentLinkedQueue<>();

  public StoreReader(Path store) {
    if (!Files.isRegularFile(store)) {
      throw new IllegalArgumentException("no such run store: " + store);
    }
    this.url = "jdbc:sqlite:" + store.toAbsolutePath();
    this.connections = ThreadLocal.withInitial(this::open);
    // Fail now, with a clear message, when the file is not a run store.
    try (PreparedStatement ps = connection().prepareStatement("SELECT COUNT(*) FROM runs");
        ResultSet rs = ps.executeQuery()) {
      rs.next();
    } catch (SQLException e) {
      throw new IllegalArgumentException("not a normlab run store: " + store + " (" + e + ")");
    }
  }

  private Connection open() {
    SQLiteConfig config = new SQLiteConfig();
    config.setReadOnly(true);
    config.setBusyTimeout(5000);
    try {
      Connection c = DriverManager.getConnection(url, config.toProperties());
      opened.add(c);
      return c;
    } catch (SQLException e) {
      throw new IllegalStateException("cannot open the run store: " + e.getMessage(), e);
    }
  }

  private Connection connection() {
    return connections.get();
  }

  @Override
  public void close() {
    for (Connection c : opened) {
      try {
        c.close();
      } catch (SQLException ignored) {
        // closing at shutdown: nothing left to do
      }
    }
    opened.clear();
  }

  /** Filters and order of the runs list; null fields mean "any". */
  public record RunQuery(
      String group,
      String status,
      String tag,
      String norm,
      Map<String, String> config,
      String sort,
      boolean descending) {
    public static RunQuery all() {
      return new RunQuery(null, null, null, null, Map.of(), null, false);
    }

    public static RunQuery group(String group) {
      return new RunQuery(group, null, null, null, Map.of(), null, false);
    }
  }

  /** Runs with their tags, config and summary, filtered in SQL and sorted. */
  public List<Map<String, Object>> runs(RunQuery q) throws SQLException {
    StringBuilder sql =
        new StringBuilder(
            "SELECT id, name, grp, status, started_at, ended_at, heartbeat, notes, error"
                + " FROM runs r WHERE 1 = 1");
    List<Object> args = new ArrayList<>();
    if (q.group() != null) {
      sql.append(" AND grp = ?");
      args.add(q.group());
    }
    if (q.status() != null) {
      sql.append(" AND status = ?");
      args.add(q.status());
    }
    if (q.tag() != null) {
      sql.append(" AND EXISTS (SELECT 1 FROM run_tags t WHERE t.run_id = r.id AND t.tag = ?)");
      args.add(q.tag());
    }
    Map<String, String> config = new LinkedHashMap<>(q.config());
    if (q.norm() != null) {
      config.put("norm", q.norm());
    }
    for (var e : config.entrySet()) {
      // The value is JSON text: match a string both bare and quoted, a number by value.
      sql.append(
          " AND EXISTS (SELECT 1 FROM run_config c WHERE c.run_id = r.id AND c.key = ?"
              + " AND (c.value = ? OR c.value = ? OR c.num = ?))");
      args.add(e.getKey());
      args.add(e.getValue());
      args.add(Json.write(e.getValue()));
      args.add(parseNumber(e.getValue()));
    }
    sql.append(" ORDER BY started_at, id");
    List<Map<String, Object>> runs = new ArrayList<>();
    Map<String, Map<String, Object>> byId = new LinkedHashMap<>();
    double now = System.currentTimeMillis() / 1000.0;
    try (PreparedStatement ps = prepare(sql.toString(), args);
        ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        Map<String, Object> run = new LinkedHashMap<>();
        run.put("id", rs.getString(1));
        run.put("name", rs.getString(2));
        run.put("group", rs.getString(3));
        String status = rs.getString(4);
        run.put("status", status);
        double started = rs.getDouble(5);
        run.put("started_at", started);
        Double ended = nullableDouble(rs, 6);
        run.put("ended_at", ended);
        Double heartbeat = nullableDouble(rs, 7);
        // how long it ran: to its end, or while running to its writer's last sign of life
        Double until = ended != null ? ended : heartbeat;
        run.put("runtime", until == null ? null : Math.max(0, until - started));
        run.put(
            "stale",
            "running".equals(status) && (heartbeat == null || now - heartbeat > STALE_SECONDS));
        run.put("notes", rs.getString(8));
        run.put("error", rs.getString(9));
        run.put("tags", new ArrayList<String>());
        run.put("config", new LinkedHashMap<String, Object>());
        run.put("summary", new LinkedHashMap<String, Object>());
        runs.add(run);
        byId.put((String) run.get("id"), run);
      }
    }
    if (runs.isEmpty()) {
      return runs;
    }
    fillDetails(byId);
    if (q.sort() != null) {
      Comparator<Map<String, Object>> c =
          Comparator.comparing(r -> sortValue(r, q.sort()), NULLS_LAST);
      runs.sort(q.descending() ? reversedKeepingNullsLast(q.sort()) : c);
    }
    return runs;
  }

  private static Comparator<Map<String, Object>> reversedKeepingNullsLast(String sort) {
    return (a, b) -> {
      Object x = sortValue(a, sort);
      Object y = sortValue(b, sort);
      if (x == null || y == null) {
        return NULLS_LAST.compare(x, y);
      }
      return NULLS_LAST.compare(y, x);
    };
  }

  private static final Comparator<Object> NULLS_LAST =
      (x, y) -> {
        if (x == null) {
          return y == null ? 0 : 1;
        }
        if (y == null) {
          return -1;
        }
        if (x instanceof Number a && y instanceof Number b) {
          return Double.compare(a.doubleValue(), b.doubleValue());
        }
        return String.valueOf(x).compareTo(String.valueOf(y));
      };

  @SuppressWarnings("unchecked")
  private static Object sortValue(Map<String, Object> run, String sort) {
    if (sort.startsWith("config.")) {
      return ((Map<String, Object>) run.get("config")).get(sort.substring(7));
    }
    if (sort.startsWith("summary.")) {
      return ((Map<String, Object>) run.get("summary")).get(sort.substring(8));
    }
    return run.get(sort);
  }

  @SuppressWarnings("unchecked")
  private void fillDetails(Map<String, Map<String, Object>> byId) throws SQLException {
    try (PreparedStatement ps =
            connection().prepareStatement("SELECT run_id, tag FROM run_tags ORDER BY run_id, tag");
        ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        Map<String, Object> run = byId.get(rs.getString(1));
        if (run != null) {
          ((List<String>) run.get("tags")).add(rs.getString(2));
        }
      }
    }
    try (PreparedStatement ps =
            connection()
                .prepareStatement(
                    "SELECT run_id, key, value FROM run_config ORDER BY run_id, key");
        ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        Map<String, Object> run = byId.get(rs.getString(1));
        if (run != null) {
          ((Map<String, Object>) run.get("config"))
              .put(rs.getString(2), parseScalar(rs.getString(3)));
        }
      }
    }
    try (PreparedStatement ps =
            connection()
                .prepareStatement("SELECT run_id, key, value FROM summary ORDER BY run_id, key");
        ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        Map<String, Object> run = byId.get(rs.getString(1));
        if (run != null) {
          ((Map<String, Object>) run.get("summary")).put(rs.getString(2), nullableDouble(rs, 3));
        }
      }
    }
  }

  /** The distinct groups, most recent first. */
  public List<String> groups() throws SQLException {
    List<String> groups = new ArrayList<>();
    try (PreparedStatement ps =
            connection()
                .prepareStatement(
                    "SELECT grp FROM runs WHERE grp IS NOT NULL GROUP BY grp"
                        + " ORDER BY MAX(started_at) DESC");
        ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        groups.add(rs.getString(1));
      }
    }
    return groups;
  }

  /** Metric, config and summary keys present in the store. */
  public Map<String, Object> keys() throws SQLException {
    TreeSet<String> metricKeys = new TreeSet<>();
    // One index-prefix query per run instead of a scan of the whole metrics table.
    List<String> ids = new ArrayList<>();
    try (PreparedStatement ps = connection().prepareStatement("SELECT id FROM runs");
        ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        ids.add(rs.getString(1));
      }
    }
    try (PreparedStatement ps =
        connection().prepareStatement("SELECT DISTINCT key FROM metrics WHERE run_id = ?")) {
      for (String id : ids) {
        ps.setString(1, id);
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            metricKeys.add(rs.getString(1));
          }
        }
      }
    }
    Map<String, Object> keys = new LinkedHashMap<>();
    keys.put("metrics", new ArrayList<>(metricKeys));
    keys.put("config", distinct("SELECT DISTINCT key FROM run_config ORDER BY key"));
    keys.put("summary", distinct("SELECT DISTINCT key FROM summary ORDER BY key"));
    return keys;
  }

  /**
   * The parameter importance of {@code metric} (a summary key) over {@code runs} as {@link #runs}
   * returns them; a run without a number for it is counted, not used.
   */
  @SuppressWarnings("unchecked")
  public static Map<String, Object> importance(String metric, List<Map<String, Object>> runs) {
    List<ParameterImportance.Observation> obs = new ArrayList<>(runs.size());
    for (Map<String, Object> run : runs) {
      Object v = ((Map<String, Object>) run.get("summary")).get(metric);
      obs.add(
          new ParameterImportance.Observation(
              (Map<String, Object>) run.get("config"),
              v instanceof Number n ? n.doubleValue() : Double.NaN));
    }
    return ParameterImportance.of(metric, obs).toMap();
  }

  /** The summary keys with a number in at least one of {@code runs}, in order. */
  @SuppressWarnings("unchecked")
  public static List<String> numericSummaryKeys(List<Map<String, Object>> runs) {
    TreeSet<String> keys = new TreeSet<>();
    for (Map<String, Object> run : runs) {
      for (var e : ((Map<String, Object>) run.get("summary")).entrySet()) {
        if (e.getValue() instanceof Number) {
          keys.add(e.getKey());
        }
      }
    }
    return new ArrayList<>(keys);
  }

  private List<String> distinct(String sql) throws SQLException {
    List<String> out = new ArrayList<>();
    try (PreparedStatement ps = connection().prepareStatement(sql);
        ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        out.add(rs.getString(1));
      }
    }
    return out;
  }

  /** The x axis of a metric chart. */
  public enum XAxis {
    STEP,
    EPOCH,
    TIME,
    /** The lr of the same step ({@code train/lr}): an lr range test's curve (log scale). */
    LR;

    public static XAxis parse(String s) {
      return switch (s) {
        case "step" -> STEP;
        case "epoch" -> EPOCH;
        case "time" -> TIME;
        case "lr" -> LR;
        default -> throw new BadRequest("x must be step, epoch, time or lr, got '" + s + "'");
      };
    }
  }

  /** One metric series: x (step, epoch or seconds since start), y, and the step of each point. */
  public record Series(String run, double[] x, double[] y, long[] step) {
    public int size() {
      return x.length;
    }

    /** At most maxPoints points chosen by LTTB (first and last kept). */
    public Series downsample(int maxPoints) {
      int[] keep = Downsample.lttb(x, y, maxPoints);
      if (keep.length == x.length) {
        return this;
      }
      double[] dx = new double[keep.length];
      double[] dy = new double[keep.length];
      long[] ds = new long[keep.length];
      for (int i = 0; i < keep.length; i++) {
        dx[i] = x[keep[i]];
        dy[i] = y[keep[i]];
        ds[i] = step[keep[i]];
      }
      return new Series(run, dx, dy, ds);
    }
  }

  /**
   * The full history of one metric of one run, finite values only, in step order (so ordered by x,
   * but for the lr of a run whose schedule lowers it; steps without a logged lr have no point
   * then).
   */
  public Series metric(String run, String key, XAxis axis) throws SQLException {
    if (axis == XAxis.LR) {
      return query(
          run,
          "SELECT l.value, m.value, m.step FROM metrics m JOIN metrics l ON l.run_id = m.run_id"
              + " AND l.key = 'train/lr' AND l.step = m.step WHERE m.run_id = ? AND m.key = ?"
              + " AND m.value IS NOT NULL ORDER BY m.step",
          key);
    }
    String xExpr =
        axis == XAxis.TIME
            ? "m.wall - (SELECT started_at FROM runs WHERE id = m.run_id)"
            : "m.step";
    Series raw =
        query(
            run,
            "SELECT "
                + xExpr
                + ", m.value, m.step FROM metrics m WHERE m.run_id = ? AND m.key = ?"
                + " AND m.value IS NOT NULL ORDER BY m.step",
            key);
    if (axis != XAxis.EPOCH) {
      return raw;
    }
    Series epochs =
        query(
            run,
            "SELECT step, value, step FROM metrics WHERE run_id = ? AND key = ?"
                + " AND value IS NOT NULL ORDER BY step",
            "epoch");
    return withEpochAxis(raw, epochs);
  }

  /**
   * Puts a series on a fractional epoch axis: the steps where the logged 'epoch' value changes are
   * anchors, steps between them are interpolated linearly, steps after the last anchor continue at
   * the pace of the epoch before it, steps before the first one at the pace of the first (both at
   * most one epoch away). Without two anchors, points before the first (or all) are dropped.
   */
  static Series withEpochAxis(Series raw, Series epochs) {
    List<double[]> anchors = new ArrayList<>(); // {step, epoch}
    for (int i = 0; i < epochs.size(); i++) {
      if (anchors.isEmpty() || anchors.get(anchors.size() - 1)[1] != epochs.y()[i]) {
        anchors.add(new double[] {epochs.x()[i], epochs.y()[i]});
      }
    }
    double[] x = new double[raw.size()];
    double[] y = new double[raw.size()];
    long[] steps = new long[raw.size()];
    int n = 0;
    int a = 0;
    for (int i = 0; i < raw.size(); i++) {
      double step = raw.step()[i];
      if (anchors.isEmpty() || (step < anchors.get(0)[0] && anchors.size() < 2)) {
        continue;
      }
      while (a + 1 < anchors.size() && anchors.get(a + 1)[0] <= step) {
        a++;
      }
      double[] lo = anchors.get(a);
      double epoch;
      if (step < lo[0]) {
        // Before the first anchor: back at the pace of the first epoch, at most one epoch.
        double[] next = anchors.get(1);
        double pace = (next[1] - lo[1]) / (next[0] - lo[0]);
        epoch = Math.max(lo[1] - pace * (lo[0] - step), lo[1] - (next[1] - lo[1]));
      } else if (a + 1 < anchors.size()) {
        double[] hi = anchors.get(a + 1);
        epoch = lo[1] + (hi[1] - lo[1]) * (step - lo[0]) / (hi[0] - lo[0]);
      } else if (a > 0) {
        double[] prev = anchors.get(a - 1);
        double pace = (lo[1] - prev[1]) / (lo[0] - prev[0]); // epochs per step
        epoch = Math.min(lo[1] + pace * (step - lo[0]), lo[1] + (lo[1] - prev[1]));
      } else {
        epoch = lo[1];
      }
      x[n] = epoch;
      y[n] = raw.y()[i];
      steps[n] = raw.step()[i];
      n++;
    }
    return new Series(
        raw.run(),
        java.util.Arrays.copyOf(x, n),
        java.util.Arrays.copyOf(y, n),
        java.util.Arrays.copyOf(steps, n));
  }

  private Series query(String run, String sql, String key) throws SQLException {
    double[] xs = new double[256];
    double[] ys = new double[256];
    long[] steps = new long[256];
    int n = 0;
    try (PreparedStatement ps = connection().prepareStatement(sql)) {
      ps.setString(1, run);
      ps.setString(2, key);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          double x = rs.getDouble(1);
          double y = rs.getDouble(2);
          if (!Double.isFinite(x) || !Double.isFinite(y)) {
            continue;
          }
          if (n == xs.length) {
            xs = java.util.Arrays.copyOf(xs, n * 2);
            ys = java.util.Arrays.copyOf(ys, n * 2);
            steps = java.util.Arrays.copyOf(steps, n * 2);
          }
          xs[n] = x;
          ys[n] = y;
          steps[n] = rs.getLong(3);
          n++;
        }
      }
    }
    return new Series(
        run,
        java.util.Arrays.copyOf(xs, n),
        java.util.Arrays.copyOf(ys, n),
        java.util.Arrays.copyOf(steps, n));
  }

  /**
   * Where a run's predictions on one test set are: with {@code shift} null the run's own (the
   * trained model's, in {@code predictions}), else those on a shifted set of {@code normlab
   * robustness}.
   */
  private record Source(String run, String shift) {
    String table() {
      return shift == null ? "predictions" : "shifted_predictions";
    }

    /** The condition on the rows of {@link #table()} (under {@code alias}, if not empty). */
    String where(String alias) {
      String a = alias.isEmpty() ? "" : alias + ".";
      return shift == null
          ? a + "run_id = ?"
          : a + "set_id = (SELECT id FROM shifted_sets WHERE run_id = ? AND shift = ?)";
    }

    String where() {
      return where("");
    }

    List<Object> args() {
      return shift == null ? List.of(run) : List.of(run, shift);
    }
  }

  /** The source of a request's {@code set}: empty or null for the run's own predictions. */
  private static Source source(String run, String set) {
    return new Source(run, set == null || set.isEmpty() ? null : set);
  }

  /** Whether the store has the tables of shifted predictions (stores made before them do not). */
  private boolean hasShiftedSets() throws SQLException {
    try (PreparedStatement ps =
            prepare(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'shifted_sets'",
                List.of());
        ResultSet rs = ps.executeQuery()) {
      return rs.next();
    }
  }

  /** A set the run has no predictions on is a 404 naming the sets it has. */
  private void requireSet(String run, String set) throws SQLException {
    if (set == null || set.isEmpty()) {
      return;
    }
    if (hasShiftedSets()) {
      try (PreparedStatement ps =
              prepare(
                  "SELECT 1 FROM shifted_sets WHERE run_id = ? AND shift = ?", List.of(run, set));
          ResultSet rs = ps.executeQuery()) {
        if (rs.next()) {
          return; // the usual case: one index lookup, no listing
        }
      }
    }
    List<Map<String, Object>> sets = shiftedSets(run);
    throw new BadRequest(
        404,
        "run "
            + run
            + " has no predictions on shifted test images '"
            + set
            + "'"
            + (sets.isEmpty()
                ? " (run normlab robustness on it)"
                : "; it has: "
                    + String.join(", ", sets.stream().map(m -> (String) m.get("shift")).toList())));
  }

  /**
   * The shifted test sets a run has predictions on, in the order they were evaluated: shift,
   * accuracy (%), example count.
   */
  public List<Map<String, Object>> shiftedSets(String run) throws SQLException {
    List<Map<String, Object>> out = new ArrayList<>();
    if (!hasShiftedSets()) {
      return out;
    }
    try (PreparedStatement ps =
            prepare(
                "SELECT s.shift, s.accuracy, (SELECT COUNT(*) FROM shifted_predictions p"
                    + " WHERE p.set_id = s.id) FROM shifted_sets s WHERE s.run_id = ? ORDER BY s.id",
                List.of(run));
        ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("shift", rs.getString(1));
        m.put("accuracy", nullableDouble(rs, 2));
        m.put("total", rs.getLong(3));
        out.add(m);
      }
    }
    return out;
  }

  /**
   * The class names of a run's predictions (index = class), as its typed {@code predictions} table
   * declares them ({@code T-shirt/top}, {@code Trouser}, ... for Fashion-MNIST), or null when it
   * has none or they are only the class numbers (MNIST's "0" to "9").
   */
  public List<String> classNames(String run) throws SQLException {
    String columns;
    try (PreparedStatement ps =
            prepare(
                "SELECT columns FROM tables WHERE run_id = ? AND name = 'predictions'",
                List.of(run));
        ResultSet rs = ps.executeQuery()) {
      if (!rs.next()) {
        return null;
      }
      columns = rs.getString(1);
    }
    if (!(parseScalar(columns) instanceof List<?> cols)) {
      return null;
    }
    for (Object c : cols) {
      if (c instanceof Map<?, ?> m && m.get("classes") instanceof List<?> names) {
        List<String> out = new ArrayList<>();
        boolean numbers = true;
        for (int i = 0; i < names.size(); i++) {
          String name = String.valueOf(names.get(i));
          out.add(name);
          numbers &= name.equals(Integer.toString(i));
        }
        return numbers ? null : out;
      }
    }
    return null;
  }

  /** Filters and paging of a predictions table ({@code set}: see {@link #source}). */
  public record PredictionQuery(
      String run,
      String set,
      boolean mistakesOnly,
      Integer predicted,
      Integer label,
      String sort,
      int page,
      int size) {}

  /** One page of predictions plus the total and the counts per predicted class. */
  public Map<String, Object> predictions(PredictionQuery q) throws SQLException {
    requireSet(q.run(), q.set());
    Source src = source(q.run(), q.set());
    String from = " FROM " + src.table();
    StringBuilder where = new StringBuilder(" WHERE " + src.where());
    List<Object> args = new ArrayList<>(src.args());
    if (q.mistakesOnly()) {
      where.append(" AND predicted <> label");
    }
    if (q.label() != null) {
      where.append(" AND label = ?");
      args.add(q.label());
    }
    // Counts per predicted class ignore the predicted filter, so the groups stay visible.
    Map<String, Object> groups = new LinkedHashMap<>();
    try (PreparedStatement ps =
            prepare(
                "SELECT predicted, COUNT(*)"
                    + from
                    + where
                    + " GROUP BY predicted ORDER BY predicted",
                args);
        ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        groups.put(Integer.toString(rs.getInt(1)), rs.getLong(2));
      }
    }
    if (q.predicted() != null) {
      where.append(" AND predicted = ?");
      args.add(q.predicted());
    }
    long total;
    try (PreparedStatement ps = prepare("SELECT COUNT(*)" + from + where, args);
        ResultSet rs = ps.executeQuery()) {
      rs.next();
      total = rs.getLong(1);
    }
    String order =
        switch (q.sort()) {
          case "confidence" -> " ORDER BY confidence DESC, example_id";
          case "-confidence" -> " ORDER BY confidence ASC, example_id";
          case "example" -> " ORDER BY example_id";
          case "mistakes" -> " ORDER BY (predicted = label), confidence DESC, example_id";
          default ->
              throw new BadRequest("sort must be mistakes, confidence, -confidence or example");
        };
    List<Object> pageArgs = new ArrayList<>(args);
    pageArgs.add(q.size());
    pageArgs.add((long) q.page() * q.size());
    List<Map<String, Object>> rows = new ArrayList<>();
    try (PreparedStatement ps =
            prepare(
                "SELECT example_id, label, predicted, confidence"
                    + from
                    + where
                    + order
                    + " LIMIT ? OFFSET ?",
                pageArgs);
        ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("example", rs.getLong(1));
        row.put("label", rs.getInt(2));
        row.put("predicted", rs.getInt(3));
        row.put("confidence", rs.getDouble(4));
        rows.add(row);
      }
    }
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("run", q.run());
    out.put("set", q.set() == null ? "" : q.set());
    out.put("classes", classNames(q.run()));
    out.put("total", total);
    out.put("page", q.page());
    out.put("size", q.size());
    out.put("groups", groups);
    out.put("rows", rows);
    return out;
  }

  /**
   * Examples both runs predicted where exactly one is right ({@code which}: "differ", "a" = only a
   * right, "b" = only b right), one page, plus the four counts — run a on test set {@code aSet},
   * run b on {@code bSet} (see {@link #source}): two runs on the same images, or one run on the
   * clean images and on shifted ones.
   */
  public Map<String, Object> comparePredictions(
      String a, String aSet, String b, String bSet, String which, int page, int size)
      throws SQLException {
    requireSet(a, aSet);
    requireSet(b, bSet);
    Source sa = source(a, aSet);
    Source sb = source(b, bSet);
    String from =
        " FROM "
            + sa.table()
            + " pa JOIN "
            + sb.table()
            + " pb ON "
            + sb.where("pb")
            + " AND pb.example_id = pa.example_id WHERE "
            + sa.where("pa");
    List<Object> fromArgs = new ArrayList<>(sb.args());
    fromArgs.addAll(sa.args());
    Map<String, Object> counts = new LinkedHashMap<>();
    try (PreparedStatement ps =
            prepare(
                "SELECT"
                    + " SUM(pa.predicted = pa.label AND pb.predicted = pb.label),"
                    + " SUM(pa.predicted = pa.label AND pb.predicted <> pb.label),"
                    + " SUM(pa.predicted <> pa.label AND pb.predicted = pb.label),"
                    + " SUM(pa.predicted <> pa.label AND pb.predicted <> pb.label)"
                    + from,
                fromArgs);
        ResultSet rs = ps.executeQuery()) {
      rs.next();
      counts.put("both_right", rs.getLong(1));
      counts.put("only_a_right", rs.getLong(2));
      counts.put("only_b_right", rs.getLong(3));
      counts.put("both_wrong", rs.getLong(4));
    }
    String filter =
        switch (which) {
          case "differ" -> " AND (pa.predicted = pa.label) <> (pb.predicted = pb.label)";
          case "a" -> " AND pa.predicted = pa.label AND pb.predicted <> pb.label";
          case "b" -> " AND pa.predicted <> pa.label AND pb.predicted = pb.label";
          default -> throw new BadRequest("which must be differ, a or b");
        };
    List<Map<String, Object>> rows = new ArrayList<>();
    try (PreparedStatement ps =
            prepare(
                "SELECT pa.example_id, pa.label, pa.predicted, pa.confidence, pb.predicted,"
                    + " pb.confidence"
                    + from
                    + filter
                    + " ORDER BY pa.example_id LIMIT ? OFFSET ?",
                concat(fromArgs, List.of(size, (long) page * size)));
        ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("example", rs.getLong(1));
        row.put("label", rs.getInt(2));
        row.put("a_predicted", rs.getInt(3));
        row.put("a_confidence", rs.getDouble(4));
        row.put("b_predicted", rs.getInt(5));
        row.put("b_confidence", rs.getDouble(6));
        rows.add(row);
      }
    }
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("a", a);
    out.put("b", b);
    out.put("set", aSet == null ? "" : aSet);
    out.put("b_set", bSet == null ? "" : bSet);
    out.put("which", which);
    out.put("counts", counts);
    out.put(
        "total",
        switch (which) {
          case "a" -> counts.get("only_a_right");
          case "b" -> counts.get("only_b_right");
          default -> (Long) counts.get("only_a_right") + (Long) counts.get("only_b_right");
        });
    out.put("page", page);
    out.put("size", size);
    out.put("rows", rows);
    return out;
  }

  /** Confusion matrix: rows are true labels, columns predicted classes. */
  public Map<String, Object> confusion(String run, String set) throws SQLException {
    requireSet(run, set);
    Source src = source(run, set);
    List<long[]> cells = new ArrayList<>();
    int classes = 0;
    try (PreparedStatement ps =
            prepare(
                "SELECT label, predicted, COUNT(*) FROM "
                    + src.table()
                    + " WHERE "
                    + src.where()
                    + " GROUP BY label, predicted",
                src.args());
        ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        long[] cell = {rs.getLong(1), rs.getLong(2), rs.getLong(3)};
        cells.add(cell);
        classes = (int) Math.max(classes, Math.max(cell[0], cell[1]) + 1);
      }
    }
    long[][] m = new long[classes][classes];
    long total = 0;
    for (long[] c : cells) {
      if (c[0] >= 0 && c[1] >= 0) {
        m[(int) c[0]][(int) c[1]] = c[2];
        total += c[2];
      }
    }
    List<long[]> rows = new ArrayList<>();
    for (long[] row : m) {
      rows.add(row);
    }
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("run", run);
    out.put("classes", classes);
    out.put("names", classNames(run));
    out.put("total", total);
    out.put("matrix", rows);
    return out;
  }

  /** The PNG of one example of a run (as it was shown to the model on {@code set}), or null. */
  public byte[] image(String run, String set, long example) throws SQLException {
    boolean shifted = set != null && !set.isEmpty();
    if (shifted && !hasShiftedSets()) {
      return null;
    }
    try (PreparedStatement ps =
            shifted
                ? prepare(
                    "SELECT i.image FROM shifted_sets s JOIN shifted_images i ON i.images = s.images"
                        + " AND i.example_id = ? WHERE s.run_id = ? AND s.shift = ?",
                    List.of(example, run, set))
                : prepare(
                    "SELECT image FROM predictions WHERE run_id = ? AND example_id = ?",
                    List.of(run, example));
        ResultSet rs = ps.executeQuery()) {
      return rs.next() ? rs.getBytes(1) : null;
    }
  }

  /** One stored prediction with its image (for the report). */
  public record Prediction(long example, int label, int predicted, double confidence, byte[] png) {}

  /**
   * Up to {@code limit} predictions of a run on a test set ({@link #source}), mistakes first, then
   * by confidence, each with its image as the model saw it.
   */
  public List<Prediction> reportPredictions(String run, String set, int limit) throws SQLException {
    Source src = source(run, set);
    String sql =
        src.shift() == null
            ? "SELECT example_id, label, predicted, confidence, image FROM predictions p"
            : "SELECT p.example_id, p.label, p.predicted, p.confidence, i.image"
                + " FROM shifted_predictions p JOIN shifted_sets s ON s.id = p.set_id"
                + " LEFT JOIN shifted_images i ON i.images = s.images"
                + " AND i.example_id = p.example_id";
    List<Prediction> out = new ArrayList<>();
    try (PreparedStatement ps =
            prepare(
                sql
                    + " WHERE "
                    + src.where("p")
                    + " ORDER BY (p.predicted = p.label), p.confidence DESC, p.example_id LIMIT ?",
                concat(src.args(), List.of(limit)));
        ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        out.add(
            new Prediction(
                rs.getLong(1), rs.getInt(2), rs.getInt(3), rs.getDouble(4), rs.getBytes(5)));
      }
    }
    return out;
  }

  /**
   * The typed tables of a run ({@code RunWriter.table}, {@code RunStore.writeTable}), as W&B's
   * Tables: name, columns ({@code [{"name":..,"type":..}]}) and row count, by name.
   */
  public List<Map<String, Object>> tables(String run) throws SQLException {
    List<Map<String, Object>> out = new ArrayList<>();
    try (PreparedStatement ps =
            prepare(
                "SELECT name, columns, nrows FROM tables WHERE run_id = ? ORDER BY name",
                List.of(run));
        ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", rs.getString(1));
        m.put("columns", parseScalar(rs.getString(2)));
        m.put("rows", rs.getLong(3));
        out.add(m);
      }
    }
    return out;
  }

  /**
   * Paging, sorting and one equality filter over a typed table of one run or, merged, of several
   * (each row then says whose): {@code sort} and {@code filterColumn} name a number or text column
   * ({@code null} for none: rows in the order of {@code runs}, then in the order written).
   */
  public record TableQuery(
      List<String> runs,
      String name,
      String sort,
      boolean descending,
      String filterColumn,
      String filterValue,
      int page,
      int size) {}

  /**
   * One page of a typed table's rows, each with its run, its row number and the stored JSON array
   * (images as {@code {"w", "h", "png"}} with the PNG in base64), with the columns, the runs that
   * had the table, those left out because theirs has other columns, and the total after the filter.
   * An unknown table is a 404 (naming the run's tables when one run was asked for); sorting or
   * filtering by an image or probabilities column, or by one the table does not have, a 400.
   */
  public Map<String, Object> tableRows(TableQuery q) throws SQLException {
    // the runs that have the table, in the order asked; merged, a run whose table has other
    // columns than the first one's is left out and named
    List<String> having = new ArrayList<>();
    List<String> otherColumns = new ArrayList<>();
    List<?> columns = null;
    for (String run : q.runs()) {
      List<Map<String, Object>> tables = tables(run);
      Map<String, Object> table =
          tables.stream().filter(t -> q.name().equals(t.get("name"))).findFirst().orElse(null);
      if (table == null && q.runs().size() == 1) {
        throw new BadRequest(
            404,
            "run "
                + run
                + " has no table '"
                + q.name()
                + "'"
                + (tables.isEmpty()
                    ? ""
                    : "; it has: "
                        + String.join(
                            ", ", tables.stream().map(t -> (String) t.get("name")).toList())));
      }
      if (table == null) {
        continue; // merged: a run without the table adds no rows
      }
      List<?> own = table.get("columns") instanceof List<?> l ? l : List.of();
      if (columns == null) {
        columns = own;
      } else if (!columns.equals(own)) {
        otherColumns.add(run);
        continue;
      }
      having.add(run);
    }
    if (having.isEmpty()) {
      throw new BadRequest(404, "none of these runs has a table '" + q.name() + "'");
    }
    StringBuilder where =
        new StringBuilder(" WHERE name = ? AND run_id IN (")
            .append(String.join(", ", java.util.Collections.nCopies(having.size(), "?")))
            .append(")");
    List<Object> args = new ArrayList<>();
    args.add(q.name());
    args.addAll(having);
    if (q.filterColumn() != null) {
      int c = scalarColumn(columns, q.filterColumn(), "filter");
      where.append(" AND json_extract(data, '$[").append(c).append("]') = ?");
      boolean number = "number".equals(columnType(columns, c));
      Double v = number ? parseNumber(q.filterValue()) : null;
      if (number && v == null) {
        throw new BadRequest("column '" + q.filterColumn() + "' holds numbers");
      }
      args.add(number ? v : q.filterValue());
    }
    long total;
    try (PreparedStatement ps = prepare("SELECT COUNT(*) FROM table_rows" + where, args);
        ResultSet rs = ps.executeQuery()) {
      rs.next();
      total = rs.getLong(1);
    }
    // runs in the order asked: CASE run_id WHEN ? THEN 0 WHEN ? THEN 1 ... END
    StringBuilder runOrder = new StringBuilder("CASE run_id");
    List<Object> orderArgs = new ArrayList<>();
    for (int i = 0; i < having.size(); i++) {
      runOrder.append(" WHEN ? THEN ").append(i);
      orderArgs.add(having.get(i));
    }
    runOrder.append(" END");
    String order =
        (q.sort() == null
                ? " ORDER BY "
                : " ORDER BY json_extract(data, '$["
                    + scalarColumn(columns, q.sort(), "sort")
                    + "]')"
                    + (q.descending() ? " DESC" : " ASC")
                    + ", ")
            + runOrder
            + ", row";
    List<Object> pageArgs = new ArrayList<>(args);
    pageArgs.addAll(orderArgs);
    pageArgs.add(q.size());
    pageArgs.add((long) q.page() * q.size());
    List<Object> rows = new ArrayList<>();
    try (PreparedStatement ps =
            prepare(
                "SELECT run_id, row, data FROM table_rows" + where + order + " LIMIT ? OFFSET ?",
                pageArgs);
        ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("run", rs.getString(1));
        row.put("row", rs.getLong(2));
        row.put("values", parseScalar(rs.getString(3)));
        rows.add(row);
      }
    }
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("runs", having);
    out.put("other_columns", otherColumns);
    out.put("name", q.name());
    out.put("columns", columns);
    out.put("total", total);
    out.put("page", q.page());
    out.put("size", q.size());
    out.put("rows", rows);
    return out;
  }

  /** The index of column {@code name}, which must hold numbers or text to {@code use} it. */
  private static int scalarColumn(List<?> columns, String name, String use) {
    for (int i = 0; i < columns.size(); i++) {
      if (columns.get(i) instanceof Map<?, ?> m && name.equals(m.get("name"))) {
        String type = columnType(columns, i);
        if (!"number".equals(type) && !"text".equals(type)) {
          throw new BadRequest("cannot " + use + " by " + type + " column '" + name + "'");
        }
        return i;
      }
    }
    throw new BadRequest("no column '" + name + "' to " + use + " by");
  }

  private static String columnType(List<?> columns, int i) {
    return columns.get(i) instanceof Map<?, ?> m ? String.valueOf(m.get("type")) : "";
  }

  /** The number of predictions stored for a run on a test set ({@link #source}). */
  public long predictionCount(String run, String set) throws SQLException {
    Source src = source(run, set);
    try (PreparedStatement ps =
            prepare("SELECT COUNT(*) FROM " + src.table() + " WHERE " + src.where(), src.args());
        ResultSet rs = ps.executeQuery()) {
      rs.next();
      return rs.getLong(1);
    }
  }

  private static List<Object> concat(List<?> a, List<?> b) {
    List<Object> out = new ArrayList<>(a);
    out.addAll(b);
    return out;
  }

  private PreparedStatement prepare(String sql, List<?> args) throws SQLException {
    PreparedStatement ps = connection().prepareStatement(sql);
    for (int i = 0; i < args.size(); i++) {
      ps.setObject(i + 1, args.get(i));
    }
    return ps;
  }

  private static Double nullableDouble(ResultSet rs, int column) throws SQLException {
    double v = rs.getDouble(column);
    return rs.wasNull() || !Double.isFinite(v) ? null : v;
  }

  private static Double parseNumber(String s) {
    try {
      double d = Double.parseDouble(s);
      return Double.isFinite(d) ? d : null;
    } catch (NumberFormatException e) {
      return null;
    }
  }

  private static Object parseScalar(String json) {
    try {
      return Json.parse(json);
    } catch (Json.ParseException | RuntimeException e) {
      return json;
    }
  }
}
