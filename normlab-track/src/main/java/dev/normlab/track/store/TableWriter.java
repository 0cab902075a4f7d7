package dev.normlab.track.store;

import dev.normlab.io.Json;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes the rows of one typed table of a run, in batches (one transaction per {@value #BATCH} rows
 * and at {@link #close()}). Creating a table replaces an earlier one of the same name.
 */
public final class TableWriter implements AutoCloseable {
  static final int BATCH = 500;

  private final RunWriter run;
  private final String name;
  private final List<Column> columns;
  private final List<String> pending = new ArrayList<>();
  private long rows;
  private boolean closed;

  TableWriter(RunWriter run, String name, List<Column> columns) {
    this(run, name, columns, null);
  }

  /** {@code classNames}, when given, label the probabilities columns. */
  TableWriter(RunWriter run, String name, List<Column> columns, String[] classNames) {
    if (name == null || name.isBlank()) {
      throw new IllegalArgumentException("a table needs a name");
    }
    if (columns.isEmpty()) {
      throw new IllegalArgumentException("table '" + name + "' needs at least one column");
    }
    this.run = run;
    this.name = name;
    this.columns = List.copyOf(columns);
    String columnsJson = columnsJson(columns, classNames);
    run.lock().lock();
    try {
      run.ensureOpen();
      run.inTransaction(() -> declare(run.connection(), run.runId(), name, columnsJson));
    } catch (SQLException e) {
      throw run.fail(
          run.store().error("run " + run.runId() + ": cannot create table '" + name + "'", e));
    } finally {
      run.lock().unlock();
    }
  }

  /**
   * Declares table {@code name} of run {@code runId} with no rows, replacing one of that name (its
   * rows go with it, {@code ON DELETE CASCADE}); inside the caller's transaction.
   */
  static void declare(Connection conn, String runId, String name, String columnsJson)
      throws SQLException {
    try (PreparedStatement d =
        conn.prepareStatement("DELETE FROM tables WHERE run_id = ? AND name = ?")) {
      d.setString(1, runId);
      d.setString(2, name);
      d.executeUpdate();
    }
    try (PreparedStatement ins =
        conn.prepareStatement(
            "INSERT INTO tables(run_id, name, columns, nrows) VALUES (?, ?, ?, 0)")) {
      ins.setString(1, runId);
      ins.setString(2, name);
      ins.setString(3, columnsJson);
      ins.executeUpdate();
    }
  }

  /**
   * Adds rows {@code data} (each a {@link #rowJson}) after the table's first {@code before} rows
   * and sets its row count; inside the caller's transaction.
   */
  static void append(Connection conn, String runId, String name, long before, List<String> data)
      throws SQLException {
    try (PreparedStatement ins =
        conn.prepareStatement(
            "INSERT INTO table_rows(run_id, name, row, data) VALUES (?, ?, ?, ?)")) {
      long r = before;
      for (String row : data) {
        ins.setString(1, runId);
        ins.setString(2, name);
        ins.setLong(3, r++);
        ins.setString(4, row);
        ins.addBatch();
      }
      ins.executeBatch();
    }
    try (PreparedStatement up =
        conn.prepareStatement("UPDATE tables SET nrows = ? WHERE run_id = ? AND name = ?")) {
      up.setLong(1, before + data.size());
      up.setString(2, runId);
      up.setString(3, name);
      up.executeUpdate();
    }
  }

  /** The {@code columns} JSON of table {@code tables}; {@code classNames} label probabilities. */
  static String columnsJson(List<Column> columns, String[] classNames) {
    List<Map<String, Object>> spec = new ArrayList<>();
    for (Column c : columns) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("name", c.name());
      m.put("type", c.type().jsonName());
      if (c.type() == ColumnType.PROBABILITIES && classNames != null) {
        m.put("classes", List.of(classNames));
      }
      spec.add(m);
    }
    return Json.write(spec);
  }

  /** Adds one row, one value per column, of the column's type. */
  public void addRow(Object... values) {
    if (closed) {
      throw new IllegalStateException("table '" + name + "' is closed");
    }
    pending.add(rowJson(name, columns, values));
    if (pending.size() >= BATCH) {
      flush();
    }
  }

  /**
   * Row {@code values} of table {@code table} as the JSON array {@code table_rows.data} holds: a
   * value per column, of the column's type (a Number, anything for text, a {@link GreyImage}, a
   * float[] or double[] of probabilities; null for none); a wrong count or type names the column.
   */
  static String rowJson(String table, List<Column> columns, Object... values) {
    if (values.length != columns.size()) {
      throw new IllegalArgumentException(
          "table '"
              + table
              + "' has "
              + columns.size()
              + " columns, got "
              + values.length
              + " values");
    }
    List<Object> row = new ArrayList<>(values.length);
    for (int i = 0; i < values.length; i++) {
      row.add(encode(table, columns.get(i), values[i]));
    }
    return Json.write(row);
  }

  private static Object encode(String table, Column c, Object v) {
    if (v == null) {
      return null;
    }
    return switch (c.type()) {
      case NUMBER -> {
        if (!(v instanceof Number n)) {
          throw typeError(table, c, v, "a number");
        }
        double d = n.doubleValue();
        yield !Double.isFinite(d) ? null : (v instanceof Float f ? RunWriter.shortest(f) : v);
      }
      case TEXT -> v.toString();
      case IMAGE -> {
        if (v instanceof RunWriter.EncodedImage e) {
          yield e.json();
        }
        if (!(v instanceof GreyImage g)) {
          throw typeError(table, c, v, "a GreyImage");
        }
        yield new RunWriter.EncodedImage(g.width(), g.height(), g.png()).json();
      }
      case PROBABILITIES -> {
        List<Object> out = new ArrayList<>();
        if (v instanceof float[] f) {
          for (float x : f) {
            out.add(RunWriter.shortest(x));
          }
        } else if (v instanceof double[] d) {
          for (double x : d) {
            out.add(RunWriter.finiteOrNull(x));
          }
        } else {
          throw typeError(table, c, v, "a float[] or double[]");
        }
        yield out;
      }
    };
  }

  private static IllegalArgumentException typeError(
      String table, Column c, Object v, String expected) {
    return new IllegalArgumentException(
        "table '"
            + table
            + "' column '"
            + c.name()
            + "' ("
            + c.type().jsonName()
            + ") needs "
            + expected
            + ", got "
            + v.getClass().getSimpleName());
  }

  /** Writes the buffered rows in one transaction. */
  public void flush() {
    if (pending.isEmpty()) {
      return;
    }
    run.lock().lock();
    try {
      run.ensureOpen();
      List<String> batch = List.copyOf(pending);
      run.inTransaction(() -> append(run.connection(), run.runId(), name, rows, batch));
      rows += batch.size();
      pending.clear();
    } catch (SQLException e) {
      throw run.fail(
          run.store().error("run " + run.runId() + ": cannot write table '" + name + "'", e));
    } finally {
      run.lock().unlock();
    }
  }

  /** Rows written so far (not counting buffered ones). */
  public long rowsWritten() {
    return rows;
  }

  @Override
  public void close() {
    if (!closed) {
      flush();
      closed = true;
    }
  }
}
