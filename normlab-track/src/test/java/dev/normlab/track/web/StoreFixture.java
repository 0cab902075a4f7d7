package dev.normlab.track.web;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import javax.imageio.ImageIO;

/**
 * Builds run stores for the tests with plain SQL over {@code schema.sql}: one run per norm type (10
 * epochs of metrics, config, summary, 100 predictions with 28x28 PNGs) and a run whose name is an
 * XSS attempt.
 */
final class StoreFixture {
  static final String GROUP = "compare-fixture";
  static final List<String> NORMS = List.of("none", "batch", "instance", "layer", "group");
  static final String XSS_NAME = "<img src=x onerror=alert(1)>";
  static final String XSS_ID = "xss00001";
  static final int EPOCHS = 10;
  static final int STEPS_PER_EPOCH = 20;
  static final int EXAMPLES = 100;
  static final double T0 = 1_764_000_000;

  private StoreFixture() {}

  static String runId(int i) {
    return "run" + i + NORMS.get(i);
  }

  /** Mistakes of run i: example e is wrong when this holds (run i has 5*(i+1) mistakes). */
  static boolean wrong(int run, int example) {
    return (example * 7 + run * 3) % 20 < run + 1;
  }

  /** The class names of the Layer Norm run's predictions: Fashion-MNIST's, its Bag as markup. */
  static final List<String> CLASS_NAMES = classNames();

  private static List<String> classNames() {
    List<String> names =
        new java.util.ArrayList<>(dev.normlab.data.MnistLike.FASHION_MNIST.classes());
    names.set(8, "<b>" + names.get(8) + "</b>");
    return List.copyOf(names);
  }

  /** Runs 0–3 have predictions on inverted images (robustness); run 4 has none. */
  static final int INVERTED_RUNS = 4;

  /** Mistakes of run i on the inverted images: three examples of four. */
  static boolean wrongInverted(int run, int example) {
    return (example + run) % 4 != 0;
  }

  /** What run i predicts for an inverted digit: an 8 when it is wrong (a 3 for an 8). */
  static int predictedInverted(int run, int example) {
    int label = example % 10;
    return wrongInverted(run, example) ? (label == 8 ? 3 : 8) : label;
  }

  static Path create(Path dir) {
    Path file = dir.resolve("runs.db");
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file)) {
      schema(c);
      c.setAutoCommit(false);
      for (int i = 0; i < NORMS.size(); i++) {
        addRun(c, runId(i), "mnist-" + NORMS.get(i), NORMS.get(i), "finished", i);
      }
      addRun(c, XSS_ID, XSS_NAME, "<b>layer</b>", "running", 5);
      try (PreparedStatement ps = c.prepareStatement("INSERT INTO run_tags VALUES (?, ?)")) {
        ps.setString(1, XSS_ID);
        ps.setString(2, "<script>alert(2)</script>");
        ps.executeUpdate();
      }
      // notes, as `normlab runs note` sets them: a column when a listed run has some
      try (PreparedStatement ps = c.prepareStatement("UPDATE runs SET notes = ? WHERE id = ?")) {
        ps.setString(1, "baseline, no norm");
        ps.setString(2, runId(0));
        ps.executeUpdate();
        ps.setString(1, "<img src=x onerror=alert(3)>");
        ps.setString(2, XSS_ID);
        ps.executeUpdate();
      }
      try (PreparedStatement ps = c.prepareStatement("UPDATE runs SET error = ? WHERE id = ?")) {
        ps.setString(1, "<b>loss became NaN at step 3</b>"); // shown when its status is pointed at
        ps.setString(2, XSS_ID);
        ps.executeUpdate();
      }
      c.commit();
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
    return file;
  }

  static void schema(Connection c) throws SQLException {
    String sql;
    try (InputStream in = StoreFixture.class.getResourceAsStream("/dev/normlab/track/schema.sql")) {
      sql = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    try (Statement st = c.createStatement()) {
      st.execute("PRAGMA journal_mode = WAL");
      // Comments may hold ';', so drop them before splitting into statements.
      String code = sql.replaceAll("--[^\n]*", "");
      for (String stmt : code.split(";")) {
        if (!stmt.isBlank()) {
          st.execute(stmt);
        }
      }
    }
  }

  static void addRun(Connection c, String id, String name, String norm, String status, int i)
      throws SQLException {
    addRun(c, id, name, GROUP, norm, status, i);
  }

  static void addRun(
      Connection c, String id, String name, String group, String norm, String status, int i)
      throws SQLException {
    double start = T0 + i * 1000;
    try (PreparedStatement ps =
        c.prepareStatement(
            "INSERT INTO runs (id, name, grp, status, started_at, ended_at, heartbeat, pid, host)"
                + " VALUES (?, ?, ?, ?, ?, ?, ?, 1, 'test')")) {
      ps.setString(1, id);
      ps.setString(2, name);
      ps.setString(3, group);
      ps.setString(4, status);
      ps.setDouble(5, start);
      if (status.equals("finished")) {
        ps.setDouble(6, start + 500);
      } else {
        ps.setObject(6, null);
      }
      ps.setDouble(7, start + 500);
      ps.executeUpdate();
    }
    try (PreparedStatement ps = c.prepareStatement("INSERT INTO run_tags VALUES (?, ?)")) {
      ps.setString(1, id);
      ps.setString(2, i == 0 ? "baseline" : "norm");
      ps.executeUpdate();
    }
    double lr = i % 2 == 0 ? 0.01 : 0.1;
    int batch = i < 3 ? 64 : 128;
    config(c, id, "norm", "\"" + norm.replace("\"", "\\\"") + "\"", null);
    config(c, id, "lr", Double.toString(lr), lr);
    config(c, id, "batch_size", Integer.toString(batch), (double) batch);
    config(c, id, "epochs", "10", 10.0);
    double momentum = i < 4 ? 0.9 : 0.5; // a swept key beyond the fixed columns
    config(c, id, "optimizer.momentum", Double.toString(momentum), momentum);
    config(c, id, "seed", "0", 0.0);
    config(c, id, "checkpoint_dir", "\"/runs/checkpoints/" + id + "\"", null); // differs per run
    // where it ran: in the comparer, never a column or an axis
    config(c, id, "env.cpu", i % 2 == 0 ? "\"AMD EPYC\"" : "\"Intel Xeon\"", null);
    config(c, id, "env.vector_bits", i % 2 == 0 ? "256" : "512", i % 2 == 0 ? 256.0 : 512.0);
    try (PreparedStatement ps = c.prepareStatement("INSERT INTO metrics VALUES (?, ?, ?, ?, ?)")) {
      for (int e = 0; e < EPOCHS; e++) {
        for (int s = 0; s < STEPS_PER_EPOCH; s++) {
          int step = e * STEPS_PER_EPOCH + s;
          double loss = 2.3 * Math.exp(-step / (40.0 + 10 * i)) + 0.05 * Math.sin(step);
          metric(ps, id, "train/loss", step, loss, start + step * 0.5);
          metric(ps, id, "epoch", step, e, start + step * 0.5);
        }
        // --watch's diagnostics at the epoch's first step: grouped in the key lists, no columns
        int first = e * STEPS_PER_EPOCH;
        metric(ps, id, "watch/act_std/conv2", first, 1.5 + 0.1 * i - 0.05 * e, start + first * 0.5);
        metric(ps, id, "watch/grad_norm/total", first, 2.0 / (e + 1), start + first * 0.5);
        double[] spread = {-1.6, -0.7, 0, 0.7, 1.6}; // the 5th to 95th percentile of a normal
        String[] percentiles = {"05", "25", "50", "75", "95"};
        for (int q = 0; q < 5; q++) {
          double v = 0.1 * i + spread[q] * (1 + 0.2 * e); // widening over the epochs
          metric(ps, id, "watch/act_p" + percentiles[q] + "/conv2", first, v, start + first * 0.5);
        }
        int last = (e + 1) * STEPS_PER_EPOCH - 1;
        double acc = 1 - 0.5 * Math.exp(-(e + 1) / (1.0 + i * 0.3));
        metric(ps, id, "test/accuracy", last, acc, start + last * 0.5);
        metric(ps, id, "test/loss", last, 1 - acc, start + last * 0.5);
        // the process's memory at each epoch's end: grouped as "system", only the peak a column
        metric(ps, id, "system/rss_mib", last, 600 + 10 * i + e, start + last * 0.5);
        metric(ps, id, "system/peak_rss_mib", last, 700 + 10 * i + e, start + last * 0.5);
      }
      ps.executeBatch();
    }
    double acc = 1 - 0.5 * Math.exp(-EPOCHS / (1.0 + i * 0.3));
    summary(c, id, "test/accuracy", "best_max", acc, EPOCHS * STEPS_PER_EPOCH - 1);
    summary(c, id, "test/loss", "min", 1 - acc, EPOCHS * STEPS_PER_EPOCH - 1);
    summary(c, id, "train/loss", "last", 0.05 + 0.01 * i, EPOCHS * STEPS_PER_EPOCH - 1);
    int lastWatched = (EPOCHS - 1) * STEPS_PER_EPOCH;
    summary(c, id, "watch/act_std/conv2", "last", 1.5 + 0.1 * i - 0.05 * 9, lastWatched);
    summary(c, id, "watch/grad_norm/total", "last", 2.0 / EPOCHS, lastWatched);
    summary(
        c, id, "system/rss_mib", "max", 600 + 10 * i + EPOCHS - 1, EPOCHS * STEPS_PER_EPOCH - 1);
    summary(
        c,
        id,
        "system/peak_rss_mib",
        "max",
        700 + 10 * i + EPOCHS - 1,
        EPOCHS * STEPS_PER_EPOCH - 1);
    // `normlab robustness` afterwards: columns after the results, clean first; no step
    summary(c, id, "robustness/clean", "last", 100 * acc, -1);
    summary(c, id, "robustness/brightness_0.2", "last", 100 * acc - 5 * i, -1);
    summary(c, id, "robustness/adapted/clean", "last", 100 * acc, -1);
    summary(c, id, "robustness/adapted/brightness_0.2", "last", 100 * acc, -1);
    try (PreparedStatement ps =
        c.prepareStatement("INSERT INTO predictions VALUES (?, ?, ?, ?, ?, ?, ?)")) {
      for (int x = 0; x < EXAMPLES; x++) {
        int label = x % 10;
        boolean miss = wrong(i, x);
        int predicted = miss ? (label + 1 + x % 3) % 10 : label;
        double confidence = 0.5 + ((x * 37 + i * 11) % 50) / 100.0;
        ps.setString(1, id);
        ps.setInt(2, x);
        ps.setInt(3, label);
        ps.setInt(4, predicted);
        ps.setDouble(5, confidence);
        ps.setString(6, "[" + confidence + "]");
        ps.setBytes(7, digitPng(label));
        ps.addBatch();
      }
      ps.executeBatch();
    }
    if (norm.equals("layer")) {
      // the typed table of the predictions, with class names (as a Fashion-MNIST run has them)
      try (PreparedStatement ps = c.prepareStatement("INSERT INTO tables VALUES (?, ?, ?, ?)")) {
        ps.setString(1, id);
        ps.setString(2, "predictions");
        ps.setString(
            3,
            "[{\"name\":\"example_id\",\"type\":\"number\"},"
                + "{\"name\":\"probs\",\"type\":\"probabilities\",\"classes\":"
                + dev.normlab.io.Json.write(CLASS_NAMES)
                + "}]");
        ps.setInt(4, 0);
        ps.executeUpdate();
      }
    }
    if (norm.equals("instance")) {
      featureMaps(c, id, 0);
    }
    if (norm.equals("group")) {
      featureMaps(c, id, 1); // the same table with other values: a merge of two runs
    }
    if (norm.equals("batch")) {
      // a table of the same name with other columns: left out of a merge
      try (PreparedStatement ps = c.prepareStatement("INSERT INTO tables VALUES (?, ?, ?, 0)")) {
        ps.setString(1, id);
        ps.setString(2, "feature_maps");
        ps.setString(3, "[{\"name\":\"example_id\",\"type\":\"number\"}]");
        ps.executeUpdate();
      }
    }
    if (i < INVERTED_RUNS) {
      shiftedPredictions(c, id, i, "invert", 100 * (1 - 0.75));
      if (norm.equals("batch")) {
        shiftedPredictions(c, id, i, "adapted/invert", 100 * (1 - 0.75));
      }
    }
  }

  static final int TABLE_ROWS = 30;

  /**
   * A typed table as {@code normlab feature-maps} writes one: two rows per example (layers norm1
   * and norm2), an image column, numbers and text; row k's spread is (k * 7 + shift) % 30 / 10.
   */
  private static void featureMaps(Connection c, String id, int shift) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("INSERT INTO tables VALUES (?, ?, ?, ?)")) {
      ps.setString(1, id);
      ps.setString(2, "feature_maps");
      ps.setString(
          3,
          "[{\"name\":\"example_id\",\"type\":\"number\"},"
              + "{\"name\":\"layer\",\"type\":\"text\"},"
              + "{\"name\":\"output\",\"type\":\"image\"},"
              + "{\"name\":\"spread\",\"type\":\"number\"}]");
      ps.setInt(4, TABLE_ROWS);
      ps.executeUpdate();
    }
    try (PreparedStatement ps = c.prepareStatement("INSERT INTO table_rows VALUES (?, ?, ?, ?)")) {
      for (int k = 0; k < TABLE_ROWS; k++) {
        String png = java.util.Base64.getEncoder().encodeToString(digitPng(k / 2 % 10));
        ps.setString(1, id);
        ps.setString(2, "feature_maps");
        ps.setInt(3, k);
        ps.setString(
            4,
            dev.normlab.io.Json.write(
                List.of(
                    k / 2,
                    k % 2 == 0 ? "norm1" : "norm2",
                    java.util.Map.of("w", 28, "h", 28, "png", png),
                    (k * 7 + shift) % 30 / 10.0)));
        ps.addBatch();
      }
      ps.executeBatch();
    }
  }

  /**
   * What `normlab robustness` stores: the run's predictions on inverted digits, the images once.
   */
  private static void shiftedPredictions(
      Connection c, String id, int i, String shift, double accuracy) throws SQLException {
    long setId;
    try (PreparedStatement ps =
        c.prepareStatement(
            "INSERT INTO shifted_sets(run_id, shift, images, accuracy) VALUES (?, ?, ?, ?)"
                + " RETURNING id")) {
      ps.setString(1, id);
      ps.setString(2, shift);
      ps.setString(3, "mnist/invert");
      ps.setDouble(4, accuracy);
      try (var rs = ps.executeQuery()) {
        rs.next();
        setId = rs.getLong(1);
      }
    }
    try (PreparedStatement ps =
            c.prepareStatement("INSERT INTO shifted_predictions VALUES (?, ?, ?, ?, ?)");
        PreparedStatement img =
            c.prepareStatement("INSERT OR IGNORE INTO shifted_images VALUES (?, ?, ?)")) {
      for (int x = 0; x < EXAMPLES; x++) {
        int label = x % 10;
        ps.setLong(1, setId);
        ps.setInt(2, x);
        ps.setInt(3, label);
        ps.setInt(4, predictedInverted(i, x));
        ps.setDouble(5, 0.4 + ((x * 13 + i) % 50) / 100.0);
        ps.addBatch();
        img.setString(1, "mnist/invert");
        img.setInt(2, x);
        img.setBytes(3, invertedDigitPng(label));
        img.addBatch();
      }
      ps.executeBatch();
      img.executeBatch();
    }
  }

  static void metric(PreparedStatement ps, String run, String key, long step, double v, double wall)
      throws SQLException {
    ps.setString(1, run);
    ps.setString(2, key);
    ps.setLong(3, step);
    ps.setDouble(4, v);
    ps.setDouble(5, wall);
    ps.addBatch();
  }

  private static void config(Connection c, String run, String key, String json, Double num)
      throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("INSERT INTO run_config VALUES (?, ?, ?, ?)")) {
      ps.setString(1, run);
      ps.setString(2, key);
      ps.setString(3, json);
      ps.setObject(4, num);
      ps.executeUpdate();
    }
  }

  private static void summary(Connection c, String run, String key, String rule, double v, int step)
      throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("INSERT INTO summary VALUES (?, ?, ?, ?, ?)")) {
      ps.setString(1, run);
      ps.setString(2, key);
      ps.setString(3, rule);
      ps.setDouble(4, v);
      if (step < 0) {
        ps.setNull(5, java.sql.Types.INTEGER);
      } else {
        ps.setInt(5, step);
      }
      ps.executeUpdate();
    }
  }

  private static final String[] SEGMENTS = {
    "abcdef", "bc", "abged", "abgcd", "fgbc", "afgcd", "afgedc", "abc", "abcdefg", "abcdfg"
  };

  private static final byte[][] PNGS = new byte[20][];

  /** A 28x28 grey PNG showing the digit, like an MNIST image. */
  static synchronized byte[] digitPng(int digit) {
    if (PNGS[digit] == null) {
      PNGS[digit] = drawDigit(digit, false);
    }
    return PNGS[digit];
  }

  /** The same, black on white. */
  static synchronized byte[] invertedDigitPng(int digit) {
    if (PNGS[10 + digit] == null) {
      PNGS[10 + digit] = drawDigit(digit, true);
    }
    return PNGS[10 + digit];
  }

  private static byte[] drawDigit(int digit, boolean inverted) {
    BufferedImage img = new BufferedImage(28, 28, BufferedImage.TYPE_BYTE_GRAY);
    Graphics2D g = img.createGraphics();
    g.setColor(inverted ? Color.WHITE : Color.BLACK);
    g.fillRect(0, 0, 28, 28);
    g.setColor(inverted ? Color.BLACK : Color.WHITE);
    // A seven-segment digit: no fonts needed on a headless machine.
    String on = SEGMENTS[digit];
    int[][] rects = {
      {9, 4, 10, 3},
      {18, 5, 3, 9},
      {18, 14, 3, 9},
      {9, 22, 10, 3},
      {7, 14, 3, 9},
      {7, 5, 3, 9},
      {9, 13, 10, 3}
    };
    for (int k = 0; k < 7; k++) {
      if (on.indexOf('a' + k) >= 0) {
        g.fillRect(rects[k][0], rects[k][1], rects[k][2], rects[k][3]);
      }
    }
    g.dispose();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      ImageIO.write(img, "png", out);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }
}
