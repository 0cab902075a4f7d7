package dev.normlab.track.store;

import dev.normlab.train.Predictions;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.sqlite.SQLiteConfig;
import org.sqlite.SQLiteErrorCode;

/**
 * The run store: one SQLite file in WAL mode, shared by any number of writer processes (one {@link
 * RunWriter} per run, each with its own connection) and readers such as the dashboard.
 *
 * <p>Opening a store creates the file (and its parent directories) when missing, applies {@code
 * schema.sql}, and marks runs whose writer died without a word as {@code killed} ({@link
 * #markDeadRuns()}).
 *
 * <pre>{@code
 * try (RunStore store = RunStore.open(Path.of("normlab-runs/runs.db"));
 *     RunWriter run = store.newRun("mnist-instance").group("demo").config(cfg).start()) {
 *   run.summaryRule("test/accuracy", SummaryRule.BEST_MAX);
 *   run.log("test/accuracy", 938, 98.7);
 *   run.finish();
 * }
 * }</pre>
 */
public final class RunStore implements AutoCloseable {
  /** The default store file, relative to the working directory. */
  public static final Path DEFAULT_FILE = Path.of("normlab-runs", "runs.db");

  /** The schema version this code writes ({@code PRAGMA user_version}). */
  public static final int SCHEMA_VERSION = 1;

  /** A running run whose heartbeat is older than this is considered dead. */
  public static final double DEAD_AFTER_SECONDS = 120;

  static final int BUSY_TIMEOUT_MS = 30_000;

  private static final byte[] SQLITE_MAGIC =
      "SQLite format 3\0".getBytes(StandardCharsets.US_ASCII);

  /** The store's tables. */
  static final Set<String> OUR_TABLES =
      Set.of(
          "runs",
          "run_tags",
          "run_config",
          "metrics",
          "summary",
          "tables",
          "table_rows",
          "predictions",
          "shifted_predictions",
          "shifted_sets",
          "shifted_images");

  private final Path file;
  private final Connection conn;
  private final RunQuery query;

  private RunStore(Path file, Connection conn) {
    this.file = file;
    this.conn = conn;
    this.query = new RunQuery(this, conn);
  }

  /** Opens the store at {@code file}, creating it (and its parent directories) when missing. */
  public static RunStore open(Path file) {
    Path f = file.toAbsolutePath().normalize();
    try {
      Path parent = f.getParent();
      if (parent != null) {
        Files.createDirectories(parent);
      }
    } catch (IOException e) {
      throw new StoreException(f, "cannot create its directory (" + e.getMessage() + ")", e);
    }
    if (Files.isDirectory(f)) {
      throw new StoreException(f, "is a directory, not a store file");
    }
    checkHeader(f);
    // Switching a new file to WAL can fail with SQLITE_BUSY at once, without the busy handler,
    // when another process creates the same store at the same moment: retry until the timeout.
    long deadline = System.nanoTime() + BUSY_TIMEOUT_MS * 1_000_000L;
    while (true) {
      Connection c = null;
      try {
        c = connect(f);
        applySchema(f, c);
        RunStore s = new RunStore(f, c);
        s.markDeadRuns();
        return s;
      } catch (StoreException e) {
        closeQuietly(c);
        if (!isBusy(e) || System.nanoTime() > deadline) {
          throw e;
        }
      } catch (RuntimeException e) {
        closeQuietly(c);
        throw e;
      }
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new StoreException(f, "interrupted while waiting for its lock");
      }
    }
  }

  private static boolean isBusy(StoreException e) {
    if (!(e.getCause() instanceof SQLException s)) {
      return false;
    }
    int code = s.getErrorCode() & 0xff;
    return code == SQLiteErrorCode.SQLITE_BUSY.code || code == SQLiteErrorCode.SQLITE_LOCKED.code;
  }

  /** Opens an existing store; a missing file is an error instead of a new empty store. */
  public static RunStore openExisting(Path file) {
    return open(requireExisting(file));
  }

  /**
   * {@code file} as an absolute path, or a {@link StoreException} saying there is no store there:
   * what the readers of a store (runs, export, serve, report) say when it is missing.
   */
  public static Path requireExisting(Path file) {
    Path f = file.toAbsolutePath().normalize();
    if (!Files.isRegularFile(f)) {
      throw new StoreException(f, "no such file (run train or compare first, or pass --store)");
    }
    return f;
  }

  public Path file() {
    return file;
  }

  /** Starts describing a new run; {@link NewRun#start()} creates it. */
  public NewRun newRun(String name) {
    return new NewRun(this, name);
  }

  /**
   * Reopens an existing run for writing: its status goes back to {@code running} and its history
   * continues (later steps only; logging an existing step is still an error).
   */
  public RunWriter resume(String runId) {
    return RunWriter.resume(this, runId);
  }

  /** The read API over this store. */
  public RunQuery query() {
    return query;
  }

  /**
   * Marks as {@code killed} every run still {@code running} whose writer is gone: its process is
   * not alive on this host, or its heartbeat is older than {@value #DEAD_AFTER_SECONDS} seconds.
   * Its {@code ended_at} becomes its last heartbeat. Returns how many runs were marked.
   */
  public int markDeadRuns() {
    synchronized (conn) {
      try {
        double now = now();
        String host = hostName();
        List<String[]> dead = new ArrayList<>();
        try (Statement st = conn.createStatement();
            ResultSet rs =
                st.executeQuery(
                    "SELECT id, pid, host, COALESCE(heartbeat, started_at) FROM runs"
                        + " WHERE status = 'running'")) {
          while (rs.next()) {
            long pid = rs.getLong(2);
            boolean hasPid = !rs.wasNull();
            String runHost = rs.getString(3);
            double beat = rs.getDouble(4);
            boolean processGone =
                hasPid
                    && host.equals(runHost)
                    && !ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
            if (processGone || now - beat > DEAD_AFTER_SECONDS) {
              dead.add(new String[] {rs.getString(1)});
            }
          }
        }
        if (dead.isEmpty()) {
          return 0;
        }
        int[] n = {0};
        inTransaction(
            conn,
            () -> {
              try (PreparedStatement up =
                  conn.prepareStatement(
                      "UPDATE runs SET status = 'killed', ended_at = COALESCE(heartbeat, started_at)"
                          + " WHERE id = ? AND status = 'running'")) {
                for (String[] d : dead) {
                  up.setString(1, d[0]);
                  n[0] += up.executeUpdate();
                }
              }
            });
        return n[0];
      } catch (SQLException e) {
        throw error("cannot mark dead runs", e);
      }
    }
  }

  /**
   * Deletes the runs {@code runIds} (exact ids) with everything they logged, all of them or none: a
   * run that is still {@code running} with a live writer, or an id the store does not have, stops
   * the deletion before anything is deleted. Returns how many runs were deleted. The file keeps its
   * size until {@link #vacuum()}.
   */
  public int delete(Collection<String> runIds) {
    markDeadRuns(); // a run whose writer died is killed, and may go
    synchronized (conn) {
      try {
        int[] n = {0};
        inTransaction(
            conn,
            () -> {
              for (String id : runIds) {
                String status = status(id);
                if ("running".equals(status)) {
                  throw new IllegalStateException(
                      "run " + id + " is still running; stop it (or let it end) first");
                }
              }
              try (PreparedStatement del = conn.prepareStatement("DELETE FROM runs WHERE id = ?")) {
                for (String id : runIds) {
                  del.setString(1, id);
                  n[0] += del.executeUpdate();
                }
              }
              deleteUnusedShiftedImages();
            });
        return n[0];
      } catch (SQLException e) {
        throw error("cannot delete runs " + runIds, e);
      }
    }
  }

  /** Adds {@code tags} to run {@code runId} (those it has already are left as they are). */
  public void tag(String runId, Collection<String> tags) {
    for (String t : tags) {
      if (t == null || t.isBlank()) {
        throw new IllegalArgumentException("a tag must not be blank");
      }
    }
    edit(
        runId,
        "cannot tag run " + runId,
        "INSERT OR IGNORE INTO run_tags(run_id, tag) VALUES (?, ?)",
        tags.stream().map(t -> new Object[] {runId, t}).toList(),
        null);
  }

  /** Removes {@code tags} from run {@code runId} (those it does not have are ignored). */
  public void untag(String runId, Collection<String> tags) {
    edit(
        runId,
        "cannot untag run " + runId,
        "DELETE FROM run_tags WHERE run_id = ? AND tag = ?",
        tags.stream().map(t -> new Object[] {runId, t}).toList(),
        null);
  }

  /** Sets run {@code runId}'s notes; null or blank clears them. */
  public void setNotes(String runId, String notes) {
    Object[] row = {notes == null || notes.isBlank() ? null : notes, runId};
    edit(
        runId,
        "cannot set the notes of run " + runId,
        "UPDATE runs SET notes = ? WHERE id = ?",
        List.<Object[]>of(row),
        null);
  }

  /**
   * Sets summary values of a run that has ended (W&B's {@code run.summary.update} through its API):
   * each key's value with rule {@code last} and no step, replacing what the key had. For results
   * computed afterwards, such as {@code normlab robustness}'s. A run still {@code running} is
   * refused (its writer owns its summary).
   */
  public void updateSummary(String runId, Map<String, Double> values) {
    markDeadRuns(); // a run whose writer died is killed, and may be updated
    edit(
        runId,
        "cannot update the summary of run " + runId,
        "INSERT INTO summary(run_id, key, rule, value, step) VALUES (?, ?, 'last', ?, NULL)"
            + " ON CONFLICT(run_id, key) DO UPDATE SET rule = 'last', value = excluded.value,"
            + " step = NULL",
        values.entrySet().stream()
            .map(
                e -> {
                  Double v = e.getValue();
                  return new Object[] {
                    runId, e.getKey(), v != null && Double.isFinite(v) ? v : null
                  };
                })
            .toList(),
        "run " + runId + " is still running; its summary is its writer's");
  }

  /**
   * Stores the predictions of an ended run on one shifted test set ({@code normlab robustness}),
   * replacing what the run had for {@code shift}: one row per example, the set's accuracy, and the
   * images under the image set {@code images} — written once per image set, since every run
   * evaluated on, say, {@code mnist/invert} saw the same images. A run still {@code running} is
   * refused, as for {@link #updateSummary}.
   */
  public void writeShiftedPredictions(
      String runId, String shift, String images, double accuracy, Predictions p) {
    markDeadRuns();
    String what = "cannot write run " + runId + "'s predictions on " + shift;
    synchronized (conn) {
      try {
        // The PNGs are made before the write transaction, which then holds no one up for long.
        List<byte[]> pngs = storedImageCount(images) == p.size() ? null : pngs(p);
        inTransaction(
            conn,
            () -> {
              if ("running".equals(status(runId))) {
                throw new IllegalStateException(
                    "run " + runId + " is still running; evaluate it when it has ended");
              }
              // a set evaluated again is replaced, its rows with it (ON DELETE CASCADE), and goes
              // to the end of the run's sets
              try (PreparedStatement d =
                  conn.prepareStatement(
                      "DELETE FROM shifted_sets WHERE run_id = ? AND shift = ?")) {
                d.setString(1, runId);
                d.setString(2, shift);
                d.executeUpdate();
              }
              long setId;
              try (PreparedStatement set =
                  conn.prepareStatement(
                      "INSERT INTO shifted_sets(run_id, shift, images, accuracy) VALUES (?, ?, ?, ?)"
                          + " RETURNING id")) {
                set.setString(1, runId);
                set.setString(2, shift);
                set.setString(3, images);
                RunWriter.setDouble(set, 4, Double.isFinite(accuracy) ? accuracy : null);
                try (ResultSet rs = set.executeQuery()) {
                  rs.next();
                  setId = rs.getLong(1);
                }
              }
              try (PreparedStatement ins =
                  conn.prepareStatement(
                      "INSERT INTO shifted_predictions(set_id, example_id, label, predicted,"
                          + " confidence) VALUES (?, ?, ?, ?, ?)")) {
                for (int i = 0; i < p.size(); i++) {
                  ins.setLong(1, setId);
                  ins.setInt(2, p.exampleIds()[i]);
                  ins.setInt(3, p.labels()[i]);
                  ins.setInt(4, p.predicted()[i]);
                  Double confidence = RunWriter.shortest(p.confidence(i));
                  ins.setDouble(5, confidence == null ? 0 : confidence); // a diverged model's NaN
                  ins.addBatch();
                }
                ins.executeBatch();
              }
              if (pngs != null) {
                try (PreparedStatement img =
                    conn.prepareStatement(
                        "INSERT OR REPLACE INTO shifted_images(images, example_id, image)"
                            + " VALUES (?, ?, ?)")) {
                  for (int i = 0; i < p.size(); i++) {
                    img.setString(1, images);
                    img.setInt(2, p.exampleIds()[i]);
                    img.setBytes(3, pngs.get(i));
                    img.addBatch();
                  }
                  img.executeBatch();
                }
              }
              deleteUnusedShiftedImages(); // an image set the run no longer points to
            });
      } catch (SQLException e) {
        throw error(what, e);
      }
    }
  }

  /**
   * Writes typed table {@code name} of an ended run (what its {@link RunWriter#table} does while it
   * runs, for results computed afterwards, such as {@code normlab feature-maps}'), replacing a
   * table of that name: every row, one value per column as {@link TableWriter#addRow} takes them,
   * in one transaction. A run still {@code running} is refused, as for {@link #updateSummary}.
   */
  public void writeTable(String runId, String name, List<Column> columns, List<Object[]> rows) {
    if (name == null || name.isBlank() || columns.isEmpty()) {
      throw new IllegalArgumentException("a table needs a name and at least one column");
    }
    // encoded (PNGs included) before the write transaction, which then holds no one up for long
    String columnsJson = TableWriter.columnsJson(columns, null);
    List<String> data = new ArrayList<>(rows.size());
    for (Object[] row : rows) {
      data.add(TableWriter.rowJson(name, columns, row));
    }
    markDeadRuns();
    synchronized (conn) {
      try {
        inTransaction(
            conn,
            () -> {
              if ("running".equals(status(runId))) {
                throw new IllegalStateException(
                    "run " + runId + " is still running; its tables are its writer's");
              }
              TableWriter.declare(conn, runId, name, columnsJson);
              TableWriter.append(conn, runId, name, 0, data);
            });
      } catch (SQLException e) {
        throw error("cannot write table '" + name + "' of run " + runId, e);
      }
    }
  }

  private int storedImageCount(String images) throws SQLException {
    try (PreparedStatement q =
        conn.prepareStatement("SELECT COUNT(*) FROM shifted_images WHERE images = ?")) {
      q.setString(1, images);
      try (ResultSet rs = q.executeQuery()) {
        return rs.next() ? rs.getInt(1) : 0;
      }
    }
  }

  private static List<byte[]> pngs(Predictions p) {
    List<byte[]> out = new ArrayList<>(p.size());
    for (int i = 0; i < p.size(); i++) {
      out.add(new GreyImage(p.cols(), p.rows(), p.images()[i]).png());
    }
    return out;
  }

  /** Drops the shifted images no run's shifted set refers to any more. */
  private void deleteUnusedShiftedImages() throws SQLException {
    try (Statement st = conn.createStatement()) {
      st.executeUpdate(
          "DELETE FROM shifted_images WHERE images NOT IN (SELECT images FROM shifted_sets)");
    }
  }

  /**
   * {@code sql} once per row of parameters (a null parameter binds SQL NULL), in one transaction,
   * after checking the run exists — and, when {@code whileRunning} is not null, that it is not
   * running, else {@code whileRunning} is the error.
   */
  private void edit(
      String runId, String what, String sql, List<Object[]> rows, String whileRunning) {
    synchronized (conn) {
      try {
        inTransaction(
            conn,
            () -> {
              String status = status(runId);
              if (whileRunning != null && "running".equals(status)) {
                throw new IllegalStateException(whileRunning);
              }
              try (PreparedStatement ps = conn.prepareStatement(sql)) {
                for (Object[] row : rows) {
                  for (int i = 0; i < row.length; i++) {
                    ps.setObject(i + 1, row[i]);
                  }
                  ps.executeUpdate();
                }
              }
            });
      } catch (SQLException e) {
        throw error(what, e);
      }
    }
  }

  /** The status of run {@code id}; an id the store does not have is an error naming it. */
  private String status(String id) throws SQLException {
    try (PreparedStatement q = conn.prepareStatement("SELECT status FROM runs WHERE id = ?")) {
      q.setString(1, id);
      try (ResultSet rs = q.executeQuery()) {
        if (!rs.next()) {
          throw new IllegalArgumentException("no run " + id + " in " + file);
        }
        return rs.getString(1);
      }
    }
  }

  /**
   * Rewrites the file without the space deleted runs left ({@code VACUUM}; it waits for other
   * writers' transactions) and folds the write-ahead log into it. Returns the store's size on disk
   * (the file and its {@code -wal}) before and after, in bytes.
   */
  public long[] vacuum() {
    synchronized (conn) {
      try (Statement st = conn.createStatement()) {
        long before = sizeOnDisk();
        st.execute("VACUUM");
        st.execute("PRAGMA wal_checkpoint(TRUNCATE)");
        return new long[] {before, sizeOnDisk()};
      } catch (SQLException e) {
        throw error("cannot compact the store", e);
      } catch (IOException e) {
        throw new StoreException(file, "cannot read its size: " + e.getMessage(), e);
      }
    }
  }

  private long sizeOnDisk() throws IOException {
    Path wal = file.resolveSibling(file.getFileName() + "-wal");
    return Files.size(file) + (Files.exists(wal) ? Files.size(wal) : 0);
  }

  interface SqlWork {
    void run() throws SQLException;
  }

  /** Runs {@code work} in one write transaction (taken at once, so writers queue, not deadlock). */
  static void inTransaction(Connection conn, SqlWork work) throws SQLException {
    try (Statement tx = conn.createStatement()) {
      tx.execute("BEGIN IMMEDIATE");
      try {
        work.run();
        tx.execute("COMMIT");
      } catch (SQLException | RuntimeException e) {
        rollback(tx);
        throw e;
      }
    }
  }

  static void rollback(Statement tx) {
    try {
      tx.execute("ROLLBACK");
    } catch (SQLException ignored) {
      // no transaction left to roll back
    }
  }

  /** {@code PRAGMA integrity_check}: "ok" for a sound file, else the problems found. */
  public String integrityCheck() {
    synchronized (conn) {
      try (Statement st = conn.createStatement();
          ResultSet rs = st.executeQuery("PRAGMA integrity_check")) {
        StringBuilder sb = new StringBuilder();
        while (rs.next()) {
          if (!sb.isEmpty()) {
            sb.append('\n');
          }
          sb.append(rs.getString(1));
        }
        return sb.toString();
      } catch (SQLException e) {
        throw error("integrity check failed", e);
      }
    }
  }

  @Override
  public void close() {
    synchronized (conn) {
      closeQuietly(conn);
    }
  }

  // ------------------------------------------------------------------ internals

  /** A new connection to this store, configured like every other (WAL, busy timeout, FKs). */
  Connection connect() {
    return connect(file);
  }

  StoreException error(String what, SQLException e) {
    return translate(file, what, e);
  }

  static StoreException translate(Path file, String what, SQLException e) {
    int code = e.getErrorCode() & 0xff;
    if (code == SQLiteErrorCode.SQLITE_CORRUPT.code || code == SQLiteErrorCode.SQLITE_NOTADB.code) {
      return new StoreException(
          file, "is corrupt or not a normlab run store (" + e.getMessage() + ")", e);
    }
    if (code == SQLiteErrorCode.SQLITE_BUSY.code || code == SQLiteErrorCode.SQLITE_LOCKED.code) {
      return new StoreException(
          file,
          what + ": still locked by another process after " + BUSY_TIMEOUT_MS / 1000 + " s",
          e);
    }
    if (code == SQLiteErrorCode.SQLITE_READONLY.code) {
      return new StoreException(file, what + ": the file is read-only", e);
    }
    if (code == SQLiteErrorCode.SQLITE_FULL.code) {
      return new StoreException(file, what + ": the disk is full", e);
    }
    return new StoreException(file, what + " (" + e.getMessage() + ")", e);
  }

  static double now() {
    return System.currentTimeMillis() / 1000.0;
  }

  private static volatile String hostName;

  /**
   * This machine's name as the kernel knows it (the same in every process, whatever the
   * environment), else the network's idea of it.
   */
  public static String hostName() {
    String h = hostName;
    if (h == null) {
      try {
        Path kernel = Path.of("/proc/sys/kernel/hostname");
        h = Files.isReadable(kernel) ? Files.readString(kernel).strip() : null;
      } catch (IOException e) {
        h = null;
      }
      if (h == null || h.isEmpty()) {
        try {
          h = InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
          h = "localhost";
        }
      }
      hostName = h;
    }
    return h;
  }

  private static Connection connect(Path f) {
    SQLiteConfig cfg = new SQLiteConfig();
    cfg.setBusyTimeout(BUSY_TIMEOUT_MS);
    cfg.enforceForeignKeys(true);
    cfg.setSynchronous(SQLiteConfig.SynchronousMode.NORMAL);
    try {
      Connection c = cfg.createConnection("jdbc:sqlite:" + f);
      try (Statement st = c.createStatement()) {
        // A no-op once the file is in WAL mode; the first switch waits on busy_timeout like any
        // lock.
        st.execute("PRAGMA journal_mode = WAL");
      } catch (SQLException e) {
        closeQuietly(c);
        throw e;
      }
      return c;
    } catch (SQLException e) {
      throw translate(f, "cannot open", e);
    }
  }

  private static void checkHeader(Path f) {
    try {
      if (!Files.exists(f) || Files.size(f) == 0) {
        return;
      }
      byte[] head = new byte[SQLITE_MAGIC.length];
      int n;
      try (InputStream in = Files.newInputStream(f)) {
        n = in.readNBytes(head, 0, head.length);
      }
      if (n < head.length || !java.util.Arrays.equals(head, SQLITE_MAGIC)) {
        throw new StoreException(f, "is not a normlab run store (not an SQLite database)");
      }
    } catch (IOException e) {
      throw new StoreException(f, "cannot read (" + e.getMessage() + ")", e);
    }
  }

  /**
   * Checks that the file is a normlab store and creates the tables when missing. The write lock is
   * taken only to create them, so a read-only store can still be read.
   */
  private static void applySchema(Path f, Connection c) {
    try (Statement st = c.createStatement()) {
      if (checkedTables(f, st).containsAll(OUR_TABLES)) {
        return;
      }
      st.execute("BEGIN IMMEDIATE");
      try {
        if (!checkedTables(f, st).containsAll(OUR_TABLES)) { // another process may have won
          for (String sql : schemaStatements()) {
            st.execute(sql);
          }
        }
        st.execute("COMMIT");
      } catch (SQLException | RuntimeException e) {
        try {
          st.execute("ROLLBACK");
        } catch (SQLException ignored) {
          // the original error says more
        }
        throw e;
      }
    } catch (SQLException e) {
      throw translate(f, "cannot read its schema", e);
    }
  }

  /** The tables of the file, after checking that it is (or can become) a normlab store. */
  private static Set<String> checkedTables(Path f, Statement st) throws SQLException {
    // Outside a transaction each query reads its own snapshot, and another process may commit
    // the schema between the two: the tables are read first, so that tables seen mean their
    // creation (which set the version too) committed before the version is read. (Read the other
    // way round, an opener could see version 0 and then the new tables, and call the store a
    // foreign database.)
    Set<String> tables = new HashSet<>();
    try (ResultSet rs =
        st.executeQuery(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")) {
      while (rs.next()) {
        tables.add(rs.getString(1));
      }
    }
    int version;
    try (ResultSet rs = st.executeQuery("PRAGMA user_version")) {
      version = rs.next() ? rs.getInt(1) : 0;
    }
    if (version > SCHEMA_VERSION) {
      throw new StoreException(
          f,
          "was written by a newer normlab (schema version "
              + version
              + ", this one knows "
              + SCHEMA_VERSION
              + ")");
    }
    if (!tables.isEmpty() && (version != SCHEMA_VERSION || !tables.contains("runs"))) {
      throw new StoreException(
          f,
          "is an SQLite database but not a normlab run store (tables: "
              + String.join(", ", new java.util.TreeSet<>(tables))
              + ")");
    }
    return tables;
  }

  /** The statements of schema.sql, comments removed. */
  static List<String> schemaStatements() {
    String text;
    try (InputStream in = RunStore.class.getResourceAsStream("/dev/normlab/track/schema.sql")) {
      if (in == null) {
        throw new IllegalStateException("schema.sql missing from the classpath");
      }
      text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new IllegalStateException("cannot read schema.sql", e);
    }
    StringBuilder sb = new StringBuilder();
    for (String line : text.split("\n", -1)) {
      int dash = line.indexOf("--");
      sb.append(dash >= 0 ? line.substring(0, dash) : line).append('\n');
    }
    List<String> out = new ArrayList<>();
    for (String s : sb.toString().split(";")) {
      if (!s.isBlank()) {
        out.add(s.strip());
      }
    }
    return out;
  }

  static void closeQuietly(AutoCloseable c) {
    try {
      if (c != null) {
        c.close();
      }
    } catch (Exception ignored) {
      // closing is best effort
    }
  }
}
