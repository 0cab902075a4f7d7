package dev.normlab.track.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/** Reads runs back: the small API behind {@code normlab runs} and {@link Export}. */
public final class RunQuery {
  private final RunStore store;
  private final Connection conn;

  RunQuery(RunStore store, Connection conn) {
    this.store = store;
    this.conn = conn;
  }

  /** One row of {@code runs}, with its tags. Times are unix seconds; null when unknown. */
  public record RunInfo(
      String id,
      String name,
      String group,
      String status,
      double startedAt,
      Double endedAt,
      Double heartbeat,
      Long pid,
      String host,
      String notes,
      String error,
      List<String> tags) {
    /** Seconds from its start to its end, or while running to its writer's last heartbeat. */
    public Double runtimeSeconds() {
      Double until = endedAt != null ? endedAt : heartbeat;
      return until == null ? null : Math.max(0, until - startedAt);
    }
  }

  /** Which runs to list; null fields match everything. */
  public record Filter(String group, String status, String tag) {
    public static Filter all() {
      return new Filter(null, null, null);
    }
  }

  /** A config entry: the JSON text of the value, and the number when it is one. */
  public record ConfigValue(String json, Double number) {
    /** The value parsed (number, words, boolean, list, map or null); the text if not JSON. */
    public Object value() {
      try {
        return dev.normlab.io.Json.parse(json);
      } catch (dev.normlab.io.Json.ParseException notJson) {
        return json;
      }
    }
  }

  public record SummaryValue(String rule, Double value, Long step) {}

  public record MetricPoint(long step, Double value, double wall) {}

  public record Metric(String key, long step, Double value, double wall) {}

  public record Prediction(
      int exampleId, int label, int predicted, double confidence, String probsJson, byte[] png) {}

  /** Runs matching {@code f}, newest first. */
  public List<RunInfo> runs(Filter f) {
    StringBuilder sql =
        new StringBuilder(
            "SELECT id, name, grp, status, started_at, ended_at, heartbeat, pid, host, notes,"
                + " error FROM runs r WHERE 1 = 1");
    List<String> args = new ArrayList<>();
    if (f.group() != null) {
      sql.append(" AND grp = ?");
      args.add(f.group());
    }
    if (f.status() != null) {
      sql.append(" AND status = ?");
      args.add(f.status());
    }
    if (f.tag() != null) {
      sql.append(" AND EXISTS (SELECT 1 FROM run_tags t WHERE t.run_id = r.id AND t.tag = ?)");
      args.add(f.tag());
    }
    sql.append(" ORDER BY started_at DESC, id");
    synchronized (conn) {
      try (PreparedStatement q = conn.prepareStatement(sql.toString())) {
        for (int i = 0; i < args.size(); i++) {
          q.setString(i + 1, args.get(i));
        }
        List<RunInfo> out = new ArrayList<>();
        try (ResultSet rs = q.executeQuery()) {
          while (rs.next()) {
            out.add(runInfo(rs));
          }
        }
        List<RunInfo> withTags = new ArrayList<>(out.size());
        for (RunInfo r : out) {
          withTags.add(withTags(r));
        }
        return withTags;
      } catch (SQLException e) {
        throw store.error("cannot list runs", e);
      }
    }
  }

  /** The run whose id is {@code idOrPrefix}, or the only one whose id starts with it. */
  public Optional<RunInfo> run(String idOrPrefix) {
    synchronized (conn) {
      try (PreparedStatement q =
          conn.prepareStatement(
              "SELECT id, name, grp, status, started_at, ended_at, heartbeat, pid, host, notes,"
                  + " error FROM runs WHERE id = ? OR id LIKE ? ESCAPE '\\' ORDER BY id = ? DESC"
                  + " LIMIT 2")) {
        q.setString(1, idOrPrefix);
        q.setString(
            2, idOrPrefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%");
        q.setString(3, idOrPrefix);
        List<RunInfo> found = new ArrayList<>();
        try (ResultSet rs = q.executeQuery()) {
          while (rs.next()) {
            found.add(runInfo(rs));
          }
        }
        if (found.isEmpty()) {
          return Optional.empty();
        }
        if (found.size() > 1 && !found.get(0).id().equals(idOrPrefix)) {
          throw new IllegalArgumentException(
              "run id prefix '"
                  + idOrPrefix
                  + "' is ambiguous ("
                  + found.get(0).id()
                  + ", "
                  + found.get(1).id()
                  + ", ...)");
        }
        return Optional.of(withTags(found.get(0)));
      } catch (SQLException e) {
        throw store.error("cannot read run " + idOrPrefix, e);
      }
    }
  }

  /** The most recent run named {@code name} (in {@code group} when not null). */
  public Optional<RunInfo> latestNamed(String name, String group) {
    for (RunInfo r : runs(new Filter(group, null, null))) {
      if (r.name().equals(name)) {
        return Optional.of(r);
      }
    }
    return Optional.empty();
  }

  public Map<String, ConfigValue> config(String runId) {
    synchronized (conn) {
      try (PreparedStatement q =
          conn.prepareStatement(
              "SELECT key, value, num FROM run_config WHERE run_id = ? ORDER BY key")) {
        q.setString(1, runId);
        Map<String, ConfigValue> out = new LinkedHashMap<>();
        try (ResultSet rs = q.executeQuery()) {
          while (rs.next()) {
            out.put(rs.getString(1), new ConfigValue(rs.getString(2), doubleOrNull(rs, 3)));
          }
        }
        return out;
      } catch (SQLException e) {
        throw store.error("cannot read the config of run " + runId, e);
      }
    }
  }

  public Map<String, SummaryValue> summary(String runId) {
    synchronized (conn) {
      try (PreparedStatement q =
          conn.prepareStatement(
              "SELECT key, rule, value, step FROM summary WHERE run_id = ? ORDER BY key")) {
        q.setString(1, runId);
        Map<String, SummaryValue> out = new LinkedHashMap<>();
        try (ResultSet rs = q.executeQuery()) {
          while (rs.next()) {
            long step = rs.getLong(4);
            Long s = rs.wasNull() ? null : step;
            out.put(rs.getString(1), new SummaryValue(rs.getString(2), doubleOrNull(rs, 3), s));
          }
        }
        return out;
      } catch (SQLException e) {
        throw store.error("cannot read the summary of run " + runId, e);
      }
    }
  }

  /** The metric keys a run has logged, sorted. */
  public List<String> metricKeys(String runId) {
    synchronized (conn) {
      try (PreparedStatement q =
          conn.prepareStatement("SELECT DISTINCT key FROM metrics WHERE run_id = ? ORDER BY key")) {
        q.setString(1, runId);
        List<String> out = new ArrayList<>();
        try (ResultSet rs = q.executeQuery()) {
          while (rs.next()) {
            out.add(rs.getString(1));
          }
        }
        return out;
      } catch (SQLException e) {
        throw store.error("cannot read the metric keys of run " + runId, e);
      }
    }
  }

  /** The history of one metric, by step. */
  public List<MetricPoint> history(String runId, String key) {
    synchronized (conn) {
      try (PreparedStatement q =
          conn.prepareStatement(
              "SELECT step, value, wall FROM metrics WHERE run_id = ? AND key = ? ORDER BY step")) {
        q.setString(1, runId);
        q.setString(2, key);
        List<MetricPoint> out = new ArrayList<>();
        try (ResultSet rs = q.executeQuery()) {
          while (rs.next()) {
            out.add(new MetricPoint(rs.getLong(1), doubleOrNull(rs, 2), rs.getDouble(3)));
          }
        }
        return out;
      } catch (SQLException e) {
        throw store.error("cannot read metric " + key + " of run " + runId, e);
      }
    }
  }

  /** All metrics of a run, by key then step. */
  public List<Metric> metrics(String runId) {
    synchronized (conn) {
      try (PreparedStatement q =
          conn.prepareStatement(
              "SELECT key, step, value, wall FROM metrics WHERE run_id = ? ORDER BY key, step")) {
        q.setString(1, runId);
        List<Metric> out = new ArrayList<>();
        try (ResultSet rs = q.executeQuery()) {
          while (rs.next()) {
            out.add(
                new Metric(rs.getString(1), rs.getLong(2), doubleOrNull(rs, 3), rs.getDouble(4)));
          }
        }
        return out;
      } catch (SQLException e) {
        throw store.error("cannot read the metrics of run " + runId, e);
      }
    }
  }

  /** The predictions of a run by example id; images only when asked for. */
  public List<Prediction> predictions(String runId, boolean withImages) {
    return predictionRows(
        "SELECT example_id, label, predicted, confidence, probs, "
            + (withImages ? "image" : "NULL")
            + " FROM predictions WHERE run_id = ? ORDER BY example_id",
        "cannot read the predictions of run " + runId,
        runId);
  }

  /**
   * The rows of {@code sql} (example id, label, predicted, confidence, probabilities, image) as
   * predictions; {@code what} says what failed.
   */
  private List<Prediction> predictionRows(String sql, String what, String... args) {
    synchronized (conn) {
      try (PreparedStatement q = conn.prepareStatement(sql)) {
        for (int i = 0; i < args.length; i++) {
          q.setString(i + 1, args[i]);
        }
        List<Prediction> out = new ArrayList<>();
        try (ResultSet rs = q.executeQuery()) {
          while (rs.next()) {
            out.add(
                new Prediction(
                    rs.getInt(1),
                    rs.getInt(2),
                    rs.getInt(3),
                    rs.getDouble(4),
                    rs.getString(5),
                    rs.getBytes(6)));
          }
        }
        return out;
      } catch (SQLException e) {
        throw store.error(what, e);
      }
    }
  }

  /** One shifted test set a run has predictions on ({@code normlab robustness}). */
  public record ShiftedSet(String shift, String images, Double accuracy, long examples) {}

  /** The shifted test sets of a run, in the order they were evaluated. */
  public List<ShiftedSet> shiftedSets(String runId) {
    synchronized (conn) {
      try (PreparedStatement q =
          conn.prepareStatement(
              "SELECT s.shift, s.images, s.accuracy, (SELECT COUNT(*) FROM shifted_predictions p"
                  + " WHERE p.set_id = s.id) FROM shifted_sets s WHERE s.run_id = ? ORDER BY s.id")) {
        q.setString(1, runId);
        List<ShiftedSet> out = new ArrayList<>();
        try (ResultSet rs = q.executeQuery()) {
          while (rs.next()) {
            double acc = rs.getDouble(3);
            out.add(
                new ShiftedSet(
                    rs.getString(1), rs.getString(2), rs.wasNull() ? null : acc, rs.getLong(4)));
          }
        }
        return out;
      } catch (SQLException e) {
        throw store.error("cannot read the shifted test sets of run " + runId, e);
      }
    }
  }

  /**
   * The predictions of a run on one shifted test set by example id (no class probabilities: the
   * confidence only); the shifted images only when asked for.
   */
  public List<Prediction> shiftedPredictions(String runId, String shift, boolean withImages) {
    return predictionRows(
        "SELECT p.example_id, p.label, p.predicted, p.confidence, NULL, "
            + (withImages ? "i.image" : "NULL")
            + " FROM shifted_predictions p JOIN shifted_sets s ON s.id = p.set_id"
            + (withImages
                ? " LEFT JOIN shifted_images i ON i.images = s.images"
                    + " AND i.example_id = p.example_id"
                : "")
            + " WHERE s.run_id = ? AND s.shift = ? ORDER BY p.example_id",
        "cannot read the predictions of run " + runId + " on " + shift,
        runId,
        shift);
  }

  /**
   * A run's typed table: its {@code columns} JSON and each row's JSON array, in row order.
   *
   * @param name as the run wrote it
   */
  public record Table(String name, String columnsJson, List<String> rows) {}

  /** A run's typed tables with all their rows, by name (for an export). */
  public List<Table> tables(String runId) {
    return tables(runId, Set.of());
  }

  /** The same without the tables named in {@code except}, whose rows are not read at all. */
  public List<Table> tables(String runId, Set<String> except) {
    synchronized (conn) {
      try (PreparedStatement q =
              conn.prepareStatement(
                  "SELECT name, columns FROM tables WHERE run_id = ? ORDER BY name");
          PreparedStatement rows =
              conn.prepareStatement(
                  "SELECT data FROM table_rows WHERE run_id = ? AND name = ? ORDER BY row")) {
        q.setString(1, runId);
        List<Table> out = new ArrayList<>();
        try (ResultSet rs = q.executeQuery()) {
          while (rs.next()) {
            String name = rs.getString(1);
            if (except.contains(name)) {
              continue;
            }
            List<String> data = new ArrayList<>();
            rows.setString(1, runId);
            rows.setString(2, name);
            try (ResultSet r = rows.executeQuery()) {
              while (r.next()) {
                data.add(r.getString(1));
              }
            }
            out.add(new Table(name, rs.getString(2), data));
          }
        }
        return out;
      } catch (SQLException e) {
        throw store.error("cannot read the tables of run " + runId, e);
      }
    }
  }

  /** Row count of one table of a run (as recorded in {@code tables.nrows}), or -1 if absent. */
  public long tableRows(String runId, String table) {
    synchronized (conn) {
      try (PreparedStatement q =
          conn.prepareStatement("SELECT nrows FROM tables WHERE run_id = ? AND name = ?")) {
        q.setString(1, runId);
        q.setString(2, table);
        try (ResultSet rs = q.executeQuery()) {
          return rs.next() ? rs.getLong(1) : -1;
        }
      } catch (SQLException e) {
        throw store.error("cannot read table " + table + " of run " + runId, e);
      }
    }
  }

  private RunInfo runInfo(ResultSet rs) throws SQLException {
    long pid = rs.getLong(8);
    Long p = rs.wasNull() ? null : pid;
    return new RunInfo(
        rs.getString(1),
        rs.getString(2),
        rs.getString(3),
        rs.getString(4),
        rs.getDouble(5),
        doubleOrNull(rs, 6),
        doubleOrNull(rs, 7),
        p,
        rs.getString(9),
        rs.getString(10),
        rs.getString(11),
        List.of());
  }

  private RunInfo withTags(RunInfo r) throws SQLException {
    try (PreparedStatement q =
        conn.prepareStatement("SELECT tag FROM run_tags WHERE run_id = ? ORDER BY tag")) {
      q.setString(1, r.id());
      List<String> tags = new ArrayList<>();
      try (ResultSet rs = q.executeQuery()) {
        while (rs.next()) {
          tags.add(rs.getString(1));
        }
      }
      return new RunInfo(
          r.id(),
          r.name(),
          r.group(),
          r.status(),
          r.startedAt(),
          r.endedAt(),
          r.heartbeat(),
          r.pid(),
          r.host(),
          r.notes(),
          r.error(),
          List.copyOf(tags));
    }
  }

  private static Double doubleOrNull(ResultSet rs, int col) throws SQLException {
    double v = rs.getDouble(col);
    return rs.wasNull() ? null : v;
  }
}
