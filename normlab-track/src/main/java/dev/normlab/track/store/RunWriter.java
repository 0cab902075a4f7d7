package dev.normlab.track.store;

import dev.normlab.io.Json;
import dev.normlab.train.Predictions;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Writes one run: metrics, summaries, tables, predictions, heartbeat and final status. Has its own
 * connection; metric rows are buffered and written in one transaction per flush, at least every
 * second (a background thread, which also beats the heartbeat), when {@link #flush()} is called
 * (the tracking listener does at every epoch end) and when the run ends.
 *
 * <p>If the process receives SIGTERM or SIGINT while the run is still open, a shutdown hook writes
 * what is buffered and marks the run {@code killed}. A SIGKILL leaves it {@code running} with a
 * stale heartbeat and a dead pid, which {@link RunStore#markDeadRuns()} recognizes.
 *
 * <p>Methods may be called from any thread. A write failure is reported by the next call as a
 * {@link StoreException}.
 */
public final class RunWriter implements AutoCloseable {
  private static final int MAX_PENDING = 4096;
  private static final int PREDICTION_BATCH = 1000;
  private static final SecureRandom RANDOM = new SecureRandom();

  private final RunStore store;
  private final String runId;
  private final Connection conn;
  private final ReentrantLock lock = new ReentrantLock();
  private final List<Metric> pending = new ArrayList<>();
  private final Map<String, Set<Long>> steps = new HashMap<>();
  private final Map<String, Summary> summaries = new LinkedHashMap<>();
  private final Set<String> dirtySummaries = new LinkedHashSet<>();
  private final ScheduledExecutorService ticker;
  private final Thread shutdownHook;
  private long lastFlushNanos = System.nanoTime();
  private volatile StoreException failure;
  private volatile boolean closed;
  private volatile boolean killedByShutdown;
  private PreparedStatement insertMetric;
  private PreparedStatement upsertSummary;
  private PreparedStatement heartbeat;

  private record Metric(String key, long step, double value, double wall) {}

  private static final class Summary {
    SummaryRule rule;
    Double value;
    long step;

    Summary(SummaryRule rule) {
      this.rule = rule;
    }
  }

  private RunWriter(RunStore store, String runId, Connection conn) {
    this.store = store;
    this.runId = runId;
    this.conn = conn;
    this.ticker =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "normlab-store-" + runId);
              t.setDaemon(true);
              return t;
            });
    this.shutdownHook = new Thread(this::onShutdown, "normlab-store-shutdown-" + runId);
  }

  // ------------------------------------------------------------------ start / resume

  static RunWriter start(NewRun spec) {
    RunStore store = spec.store;
    Map<String, Flatten.Entry> flat = Flatten.flatten(spec.config);
    Connection c = store.connect();
    try {
      String id = null;
      try (Statement tx = c.createStatement()) {
        tx.execute("BEGIN IMMEDIATE");
        try {
          id = freshId(c);
          double now = RunStore.now();
          try (PreparedStatement ins =
              c.prepareStatement(
                  "INSERT INTO runs(id, name, grp, status, started_at, heartbeat, pid, host, notes)"
                      + " VALUES (?, ?, ?, 'running', ?, ?, ?, ?, ?)")) {
            ins.setString(1, id);
            ins.setString(2, spec.name);
            ins.setString(3, spec.group);
            ins.setDouble(4, now);
            ins.setDouble(5, now);
            ins.setLong(6, ProcessHandle.current().pid());
            ins.setString(7, RunStore.hostName());
            ins.setString(8, spec.notes);
            ins.executeUpdate();
          }
          try (PreparedStatement tag =
              c.prepareStatement("INSERT INTO run_tags(run_id, tag) VALUES (?, ?)")) {
            for (String t : spec.tags) {
              tag.setString(1, id);
              tag.setString(2, t);
              tag.addBatch();
            }
            tag.executeBatch();
          }
          try (PreparedStatement cfg =
              c.prepareStatement(
                  "INSERT INTO run_config(run_id, key, value, num) VALUES (?, ?, ?, ?)")) {
            for (var e : flat.entrySet()) {
              cfg.setString(1, id);
              cfg.setString(2, e.getKey());
              cfg.setString(3, e.getValue().json());
              setDouble(cfg, 4, e.getValue().number());
              cfg.addBatch();
            }
            cfg.executeBatch();
          }
          tx.execute("COMMIT");
        } catch (SQLException | RuntimeException e) {
          RunStore.rollback(tx);
          throw e;
        }
      }
      RunWriter w = new RunWriter(store, id, c);
      w.begin();
      return w;
    } catch (SQLException e) {
      RunStore.closeQuietly(c);
      throw store.error("cannot start run '" + spec.name + "'", e);
    } catch (RuntimeException e) {
      RunStore.closeQuietly(c);
      throw e;
    }
  }

  static RunWriter resume(RunStore store, String runId) {
    Connection c = store.connect();
    try {
      RunWriter w = new RunWriter(store, runId, c);
      try (Statement tx = c.createStatement()) {
        tx.execute("BEGIN IMMEDIATE");
        try {
          try (PreparedStatement up =
              c.prepareStatement(
                  "UPDATE runs SET status = 'running', ended_at = NULL, error = NULL,"
                      + " heartbeat = ?, pid = ?, host = ? WHERE id = ?")) {
            up.setDouble(1, RunStore.now());
            up.setLong(2, ProcessHandle.current().pid());
            up.setString(3, RunStore.hostName());
            up.setString(4, runId);
            if (up.executeUpdate() != 1) {
              throw new IllegalArgumentException(
                  "no run '" + runId + "' in " + store.file() + " to resume");
            }
          }
          w.loadHistory();
          tx.execute("COMMIT");
        } catch (SQLException | RuntimeException e) {
          RunStore.rollback(tx);
          throw e;
        }
      }
      w.begin();
      return w;
    } catch (SQLException e) {
      RunStore.closeQuietly(c);
      throw store.error("cannot resume run " + runId, e);
    } catch (RuntimeException e) {
      RunStore.closeQuietly(c);
      throw e;
    }
  }

  private void loadHistory() throws SQLException {
    try (PreparedStatement q =
        conn.prepareStatement("SELECT key, step FROM metrics WHERE run_id = ?")) {
      q.setString(1, runId);
      try (ResultSet rs = q.executeQuery()) {
        while (rs.next()) {
          steps.computeIfAbsent(rs.getString(1), k -> new HashSet<>()).add(rs.getLong(2));
        }
      }
    }
    try (PreparedStatement q =
        conn.prepareStatement("SELECT key, rule, value, step FROM summary WHERE run_id = ?")) {
      q.setString(1, runId);
      try (ResultSet rs = q.executeQuery()) {
        while (rs.next()) {
          Summary s = new Summary(SummaryRule.parse(rs.getString(2)));
          double v = rs.getDouble(3);
          s.value = rs.wasNull() ? null : v;
          s.step = rs.getLong(4);
          summaries.put(rs.getString(1), s);
        }
      }
    }
  }

  private void begin() throws SQLException {
    insertMetric =
        conn.prepareStatement(
            "INSERT INTO metrics(run_id, key, step, value, wall) VALUES (?, ?, ?, ?, ?)");
    upsertSummary =
        conn.prepareStatement(
            "INSERT INTO summary(run_id, key, rule, value, step) VALUES (?, ?, ?, ?, ?)"
                + " ON CONFLICT(run_id, key) DO UPDATE SET rule = excluded.rule,"
                + " value = excluded.value, step = excluded.step");
    // A writer that was wrongly declared dead (e.g. the machine slept) revives its run.
    heartbeat =
        conn.prepareStatement(
            "UPDATE runs SET heartbeat = ?, status = 'running', ended_at = NULL"
                + " WHERE id = ? AND status IN ('running', 'killed')");
    Runtime.getRuntime().addShutdownHook(shutdownHook);
    ticker.scheduleWithFixedDelay(this::tick, 1, 1, TimeUnit.SECONDS);
  }

  private static String freshId(Connection c) throws SQLException {
    try (PreparedStatement q = c.prepareStatement("SELECT 1 FROM runs WHERE id = ?")) {
      while (true) {
        String id = String.format("%08x", RANDOM.nextInt());
        q.setString(1, id);
        try (ResultSet rs = q.executeQuery()) {
          if (!rs.next()) {
            return id;
          }
        }
      }
    }
  }

  // ------------------------------------------------------------------ public API

  public String runId() {
    return runId;
  }

  public RunStore store() {
    return store;
  }

  /**
   * Records {@code value} of metric {@code key} at {@code step}, with the current wall time.
   *
   * @throws DuplicateStepException if the run already has a value of {@code key} at {@code step}
   * @throws StoreException if an earlier write failed
   */
  public void log(String key, long step, double value) {
    if (key == null || key.isBlank()) {
      throw new IllegalArgumentException("run " + runId + ": a metric needs a key");
    }
    if (step < 0) {
      throw new IllegalArgumentException(
          "run " + runId + ": metric '" + key + "' step must be >= 0, got " + step);
    }
    lock.lock();
    try {
      checkOpen();
      if (!steps.computeIfAbsent(key, k -> new HashSet<>()).add(step)) {
        throw new DuplicateStepException(runId, key, step);
      }
      pending.add(new Metric(key, step, value, RunStore.now()));
      Summary s = summaries.computeIfAbsent(key, k -> new Summary(SummaryRule.LAST));
      if (s.rule.replaces(s.value, s.step, value, step)) {
        s.value = Double.isFinite(value) ? value : null;
        s.step = step;
        dirtySummaries.add(key);
      }
      if (pending.size() >= MAX_PENDING || System.nanoTime() - lastFlushNanos > 1_000_000_000L) {
        flushLocked();
      }
    } finally {
      lock.unlock();
    }
  }

  /** Adds a tag to the run (again: no change), e.g. {@code stopped-early} when a pruner ends it. */
  public void tag(String tag) {
    lock.lock();
    try {
      checkOpen();
      inTransaction(
          () -> {
            try (PreparedStatement ins =
                conn.prepareStatement(
                    "INSERT OR IGNORE INTO run_tags(run_id, tag) VALUES (?, ?)")) {
              ins.setString(1, runId);
              ins.setString(2, tag);
              ins.executeUpdate();
            }
          });
    } catch (SQLException e) {
      throw fail(store.error("run " + runId + ": cannot add the tag " + tag, e));
    } finally {
      lock.unlock();
    }
  }

  /**
   * Sets the rule of {@code key}'s summary (default {@link SummaryRule#LAST}); values already
   * logged are taken into account.
   */
  public void summaryRule(String key, SummaryRule rule) {
    lock.lock();
    try {
      checkOpen();
      Summary s = summaries.get(key);
      if (s != null && s.rule == rule) {
        return;
      }
      if (s == null) {
        summaries.put(key, new Summary(rule));
        return;
      }
      flushLocked();
      s.rule = rule;
      recompute(key, s);
      flushLocked();
    } catch (SQLException e) {
      throw fail(store.error("run " + runId + ": cannot set the summary rule of " + key, e));
    } finally {
      lock.unlock();
    }
  }

  /** Recomputes a summary from the stored history (everything must be flushed). */
  private void recompute(String key, Summary s) throws SQLException {
    s.value = null;
    s.step = 0;
    String order =
        switch (s.rule) {
          case LAST -> "step DESC";
          case MIN, BEST_MIN -> "value ASC, step ASC";
          case MAX, BEST_MAX -> "value DESC, step ASC";
        };
    String where = s.rule == SummaryRule.LAST ? "" : " AND value IS NOT NULL";
    try (PreparedStatement q =
        conn.prepareStatement(
            "SELECT value, step FROM metrics WHERE run_id = ? AND key = ?"
                + where
                + " ORDER BY "
                + order
                + " LIMIT 1")) {
      q.setString(1, runId);
      q.setString(2, key);
      try (ResultSet rs = q.executeQuery()) {
        if (rs.next()) {
          double v = rs.getDouble(1);
          s.value = rs.wasNull() ? null : v;
          s.step = rs.getLong(2);
        }
      }
    }
    dirtySummaries.add(key);
  }

  /**
   * Drops the history after {@code step}: a run resumed from a checkpoint redoes the steps logged
   * after that checkpoint by the process that died. Summaries are recomputed.
   */
  public void rewindTo(long step) {
    lock.lock();
    try {
      checkOpen();
      flushLocked();
      inTransaction(
          () -> {
            try (PreparedStatement d =
                conn.prepareStatement("DELETE FROM metrics WHERE run_id = ? AND step > ?")) {
              d.setString(1, runId);
              d.setLong(2, step);
              d.executeUpdate();
            }
          });
      for (Set<Long> s : steps.values()) {
        s.removeIf(x -> x > step);
      }
      for (var e : summaries.entrySet()) {
        recompute(e.getKey(), e.getValue());
      }
      flushLocked();
    } catch (SQLException e) {
      throw fail(store.error("run " + runId + ": cannot rewind to step " + step, e));
    } finally {
      lock.unlock();
    }
  }

  /** Writes a typed table (replacing one of the same name); rows go in with {@link TableWriter}. */
  public TableWriter table(String name, List<Column> columns) {
    lock.lock();
    try {
      checkOpen();
      return new TableWriter(this, name, columns);
    } finally {
      lock.unlock();
    }
  }

  /**
   * Writes the {@code predictions} table of this run (replacing earlier ones): as plain columns in
   * {@code predictions}, images included, and as the typed table {@code predictions} in {@code
   * tables} / {@code table_rows} (example_id, label, predicted, confidence, probs with the class
   * names) — without the images, which would double the store's size a second time over.
   */
  public void writePredictions(Predictions p) {
    List<Column> cols =
        List.of(
            Column.number("example_id"),
            Column.number("label"),
            Column.number("predicted"),
            Column.number("confidence"),
            Column.probabilities("probs"));
    lock.lock();
    try {
      checkOpen();
      flushLocked();
      inTransaction(
          () -> {
            try (PreparedStatement d =
                conn.prepareStatement("DELETE FROM predictions WHERE run_id = ?")) {
              d.setString(1, runId);
              d.executeUpdate();
            }
          });
      try (TableWriter table = new TableWriter(this, "predictions", cols, p.classNames());
          PreparedStatement ins =
              conn.prepareStatement(
                  "INSERT INTO predictions(run_id, example_id, label, predicted, confidence,"
                      + " probs, image) VALUES (?, ?, ?, ?, ?, ?, ?)")) {
        for (int from = 0; from < p.size(); from += PREDICTION_BATCH) {
          int to = Math.min(p.size(), from + PREDICTION_BATCH);
          List<Object[]> rows = new ArrayList<>(to - from);
          for (int i = from; i < to; i++) {
            byte[] png = new GreyImage(p.cols(), p.rows(), p.images()[i]).png();
            List<Object> probs = new ArrayList<>(p.probabilities()[i].length);
            for (float f : p.probabilities()[i]) {
              probs.add(shortest(f));
            }
            String probsJson = Json.write(probs);
            ins.setString(1, runId);
            ins.setInt(2, p.exampleIds()[i]);
            ins.setInt(3, p.labels()[i]);
            ins.setInt(4, p.predicted()[i]);
            ins.setDouble(5, shortest(p.confidence(i)));
            ins.setString(6, probsJson);
            ins.setBytes(7, png);
            ins.addBatch();
            rows.add(
                new Object[] {
                  p.exampleIds()[i],
                  p.labels()[i],
                  p.predicted()[i],
                  shortest(p.confidence(i)),
                  p.probabilities()[i]
                });
          }
          inTransaction(ins::executeBatch);
          for (Object[] r : rows) {
            table.addRow(r);
          }
          table.flush();
        }
      }
    } catch (SQLException e) {
      throw fail(store.error("run " + runId + ": cannot write predictions", e));
    } finally {
      lock.unlock();
    }
  }

  /** Writes everything buffered now (the tracking listener calls this at every epoch end). */
  public void flush() {
    lock.lock();
    try {
      checkOpen();
      flushLocked();
    } finally {
      lock.unlock();
    }
  }

  /** Ends the run as {@code finished}. */
  public void finish() {
    end("finished", null);
  }

  /** Ends the run as {@code failed} with {@code message}. */
  public void fail(String message) {
    end("failed", message == null ? "failed" : message);
  }

  /** Closes the writer; a run neither finished nor failed is marked {@code killed}. */
  @Override
  public void close() {
    if (!closed) {
      end("killed", null);
    }
  }

  public boolean isOpen() {
    return !closed;
  }

  // ------------------------------------------------------------------ internals

  private void end(String status, String error) {
    lock.lock();
    try {
      if (closed) {
        return;
      }
      StoreException first = failure;
      try {
        if (first == null) {
          flushLocked();
        }
      } catch (StoreException e) {
        first = e;
      }
      try {
        inTransaction(
            () -> {
              try (PreparedStatement up =
                  conn.prepareStatement(
                      "UPDATE runs SET status = ?, ended_at = ?, heartbeat = ?, error = ?"
                          + " WHERE id = ?")) {
                double now = RunStore.now();
                up.setString(1, status);
                up.setDouble(2, now);
                up.setDouble(3, now);
                up.setString(4, error);
                up.setString(5, runId);
                up.executeUpdate();
              }
            });
      } catch (SQLException e) {
        if (first == null) {
          first = store.error("run " + runId + ": cannot mark it " + status, e);
        }
      } finally {
        shutdown();
      }
      if (first != null && !"failed".equals(status)) {
        throw first;
      }
    } finally {
      lock.unlock();
    }
  }

  private void shutdown() {
    closed = true;
    ticker.shutdownNow();
    try {
      Runtime.getRuntime().removeShutdownHook(shutdownHook);
    } catch (IllegalStateException shuttingDown) {
      // called from the hook itself
    }
    RunStore.closeQuietly(insertMetric);
    RunStore.closeQuietly(upsertSummary);
    RunStore.closeQuietly(heartbeat);
    RunStore.closeQuietly(conn);
  }

  private void onShutdown() {
    try {
      if (lock.tryLock(5, TimeUnit.SECONDS)) {
        try {
          killedByShutdown = !closed;
          end("killed", null);
        } finally {
          lock.unlock();
        }
      }
    } catch (InterruptedException | RuntimeException ignored) {
      // the JVM is going down; markDeadRuns() catches what is left
    }
  }

  private void tick() {
    if (closed || failure != null || !lock.tryLock()) {
      return;
    }
    try {
      if (!closed) {
        flushLocked();
      }
    } catch (RuntimeException e) {
      // reported by the next call on the training thread
    } finally {
      lock.unlock();
    }
  }

  private void checkOpen() {
    if (failure != null) {
      throw failure;
    }
    if (closed) {
      throw new IllegalStateException(
          killedByShutdown
              ? "run " + runId + " was marked killed: the process is shutting down"
              : "run " + runId + " is closed");
    }
  }

  StoreException fail(StoreException e) {
    if (failure == null) {
      failure = e;
    }
    return e;
  }

  private void flushLocked() {
    if (failure != null) {
      throw failure;
    }
    try {
      List<Metric> batch = List.copyOf(pending);
      List<String> dirty = List.copyOf(dirtySummaries);
      inTransaction(
          () -> {
            if (!batch.isEmpty()) {
              for (Metric m : batch) {
                insertMetric.setString(1, runId);
                insertMetric.setString(2, m.key());
                insertMetric.setLong(3, m.step());
                setDouble(insertMetric, 4, finiteOrNull(m.value()));
                insertMetric.setDouble(5, m.wall());
                insertMetric.addBatch();
              }
              insertMetric.executeBatch();
            }
            for (String key : dirty) {
              Summary s = summaries.get(key);
              upsertSummary.setString(1, runId);
              upsertSummary.setString(2, key);
              upsertSummary.setString(3, s.rule.sqlName());
              setDouble(upsertSummary, 4, s.value);
              if (s.value == null && s.rule != SummaryRule.LAST) {
                upsertSummary.setNull(5, java.sql.Types.INTEGER);
              } else {
                upsertSummary.setLong(5, s.step);
              }
              upsertSummary.addBatch();
            }
            if (!dirty.isEmpty()) {
              upsertSummary.executeBatch();
            }
            heartbeat.setDouble(1, RunStore.now());
            heartbeat.setString(2, runId);
            heartbeat.executeUpdate();
          });
      pending.clear();
      dirtySummaries.removeAll(dirty);
      lastFlushNanos = System.nanoTime();
    } catch (SQLException e) {
      throw fail(store.error("run " + runId + ": cannot write metrics", e));
    }
  }

  /** Runs {@code work} in one write transaction (taken at once, so writers queue, not deadlock). */
  void inTransaction(RunStore.SqlWork work) throws SQLException {
    RunStore.inTransaction(conn, work);
  }

  Connection connection() {
    return conn;
  }

  ReentrantLock lock() {
    return lock;
  }

  void ensureOpen() {
    checkOpen();
  }

  static Double finiteOrNull(double v) {
    return Double.isFinite(v) ? v : null;
  }

  /** A float as the double with its shortest decimal form (0.8f -> 0.8, not 0.800000011920929). */
  static Double shortest(float f) {
    return Float.isFinite(f) ? Double.parseDouble(Float.toString(f)) : null;
  }

  static void setDouble(PreparedStatement ps, int i, Double v) throws SQLException {
    if (v == null) {
      ps.setNull(i, java.sql.Types.REAL);
    } else {
      ps.setDouble(i, v);
    }
  }

  /** An image already encoded as PNG (avoids encoding the predictions twice). */
  record EncodedImage(int width, int height, byte[] png) {
    Map<String, Object> json() {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("w", width);
      m.put("h", height);
      m.put("png", Base64.getEncoder().encodeToString(png));
      return m;
    }
  }
}
