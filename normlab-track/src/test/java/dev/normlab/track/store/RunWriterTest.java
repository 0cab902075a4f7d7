package dev.normlab.track.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.normlab.io.Json;
import dev.normlab.train.Predictions;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RunWriterTest {
  @TempDir Path dir;

  private RunStore store() {
    return RunStore.open(dir.resolve("sub").resolve("runs.db"));
  }

  private static String one(Connection c, String sql) throws Exception {
    try (Statement st = c.createStatement();
        ResultSet rs = st.executeQuery(sql)) {
      return rs.next() ? rs.getString(1) : null;
    }
  }

  @Test
  void opensInWalModeWithTheSchema() throws Exception {
    try (RunStore s = store()) {
      assertTrue(Files.isRegularFile(dir.resolve("sub/runs.db")));
      try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + s.file())) {
        assertEquals("wal", one(c, "PRAGMA journal_mode"));
        assertEquals("1", one(c, "PRAGMA user_version"));
        assertEquals("runs", one(c, "SELECT name FROM sqlite_master WHERE name = 'runs'"));
      }
      assertEquals("ok", s.integrityCheck());
    }
    // reopening an existing store works and keeps it
    try (RunStore s = store()) {
      assertEquals(List.of(), s.query().runs(RunQuery.Filter.all()));
    }
  }

  @Test
  void duplicateStepIsAnErrorNamingRunKeyAndStep() {
    try (RunStore s = store();
        RunWriter w = s.newRun("dup").start()) {
      w.log("train/loss", 1, 0.5);
      var e = assertThrows(DuplicateStepException.class, () -> w.log("train/loss", 1, 0.4));
      assertTrue(e.getMessage().contains(w.runId()), e.getMessage());
      assertTrue(e.getMessage().contains("train/loss"), e.getMessage());
      assertTrue(e.getMessage().contains("step 1"), e.getMessage());
      // also once the first value is on disk
      w.log("train/loss", 2, 0.3);
      w.flush();
      assertThrows(DuplicateStepException.class, () -> w.log("train/loss", 2, 0.3));
      // the same step of another key is fine
      w.log("train/lr", 2, 0.01);
      w.finish();
      assertEquals(2, s.query().history(w.runId(), "train/loss").size());
      assertEquals(0.5, s.query().history(w.runId(), "train/loss").get(0).value());
    }
  }

  @Test
  void resumedRunContinuesItsHistoryAndStillRejectsDuplicates() {
    try (RunStore s = store()) {
      String id;
      try (RunWriter w = s.newRun("r").start()) {
        id = w.runId();
        w.log("loss", 1, 1.0);
        w.log("loss", 2, 0.5);
        w.summaryRule("loss", SummaryRule.BEST_MIN);
      } // closed without finish: killed
      assertEquals("killed", s.query().run(id).orElseThrow().status());
      try (RunWriter w = s.resume(id)) {
        assertEquals("running", s.query().run(id).orElseThrow().status());
        assertThrows(DuplicateStepException.class, () -> w.log("loss", 2, 0.1));
        w.log("loss", 3, 0.25);
        w.finish();
      }
      var r = s.query().run(id).orElseThrow();
      assertEquals("finished", r.status());
      assertEquals(3, s.query().history(id, "loss").size());
      assertEquals(0.25, s.query().summary(id).get("loss").value());
      assertEquals("best_min", s.query().summary(id).get("loss").rule());
      assertThrows(IllegalArgumentException.class, () -> s.resume("nosuchid"));
    }
  }

  @Test
  void rewindDropsTheStepsAfterACheckpointAndRecomputesSummaries() {
    try (RunStore s = store();
        RunWriter w = s.newRun("rw").start()) {
      w.summaryRule("acc", SummaryRule.BEST_MAX);
      w.log("acc", 10, 90);
      w.log("acc", 20, 95);
      w.log("loss", 20, 0.2);
      w.rewindTo(10);
      assertEquals(90.0, s.query().summary(w.runId()).get("acc").value());
      assertEquals(10L, s.query().summary(w.runId()).get("acc").step());
      w.log("acc", 20, 93); // redone after the rewind: not a duplicate
      w.finish();
      assertEquals(93.0, s.query().summary(w.runId()).get("acc").value());
      assertEquals(List.of(), s.query().history(w.runId(), "loss"));
    }
  }

  @Test
  void configIsFlattenedToDottedKeysWithJsonAndNumber() {
    Map<String, Object> optimizer = new LinkedHashMap<>();
    optimizer.put("name", "sgd");
    optimizer.put("lr", 0.01);
    optimizer.put("betas", List.of(0.9, 0.999));
    Map<String, Object> config = new LinkedHashMap<>();
    config.put("optimizer", optimizer);
    config.put("epochs", 10);
    config.put("amp", true);
    config.put("data", Map.of("dir", Path.of("/data/mnist")));
    config.put("none", null);
    config.put("eps", Float.NaN);
    try (RunStore s = store();
        RunWriter w = s.newRun("flat").config(config).start()) {
      var c = s.query().config(w.runId());
      assertEquals(
          List.of(
              "amp",
              "data.dir",
              "epochs",
              "eps",
              "none",
              "optimizer.betas",
              "optimizer.lr",
              "optimizer.name"),
          List.copyOf(c.keySet()));
      assertEquals("0.01", c.get("optimizer.lr").json());
      assertEquals(0.01, c.get("optimizer.lr").number());
      assertEquals("\"sgd\"", c.get("optimizer.name").json());
      assertNull(c.get("optimizer.name").number());
      assertEquals("[0.9,0.999]", c.get("optimizer.betas").json());
      assertEquals("10", c.get("epochs").json());
      assertEquals(10.0, c.get("epochs").number());
      assertEquals("true", c.get("amp").json());
      assertEquals("\"/data/mnist\"", c.get("data.dir").json());
      assertEquals("null", c.get("none").json());
      assertEquals("\"NaN\"", c.get("eps").json());
      assertNull(c.get("eps").number());
      w.finish();
    }
    assertThrows(
        IllegalArgumentException.class,
        () -> Flatten.flatten(Map.of("a.b", 1, "a", Map.of("b", 2))));
  }

  @Test
  void summaryRulesFollowTheValues() {
    try (RunStore s = store();
        RunWriter w = s.newRun("sum").start()) {
      w.summaryRule("a_last", SummaryRule.LAST);
      w.summaryRule("a_min", SummaryRule.MIN);
      w.summaryRule("a_max", SummaryRule.MAX);
      w.summaryRule("a_bmin", SummaryRule.BEST_MIN);
      w.summaryRule("a_bmax", SummaryRule.BEST_MAX);
      double[] values = {3, 1, Double.NaN, 5, 1, 2};
      for (String k : List.of("a_last", "a_min", "a_max", "a_bmin", "a_bmax", "untold")) {
        for (int i = 0; i < values.length; i++) {
          w.log(k, i + 1, values[i]);
        }
      }
      w.flush();
      var sum = s.query().summary(w.runId());
      assertEquals(new RunQuery.SummaryValue("last", 2.0, 6L), sum.get("a_last"));
      assertEquals(new RunQuery.SummaryValue("min", 1.0, 2L), sum.get("a_min"));
      assertEquals(new RunQuery.SummaryValue("max", 5.0, 4L), sum.get("a_max"));
      assertEquals(new RunQuery.SummaryValue("best_min", 1.0, 2L), sum.get("a_bmin"));
      assertEquals(new RunQuery.SummaryValue("best_max", 5.0, 4L), sum.get("a_bmax"));
      assertEquals(new RunQuery.SummaryValue("last", 2.0, 6L), sum.get("untold"));
      // NaN is stored as NULL in the history and never wins a min/max
      assertNull(s.query().history(w.runId(), "a_min").get(2).value());
      // a rule set after the values is computed from the history
      w.summaryRule("untold", SummaryRule.BEST_MAX);
      assertEquals(
          new RunQuery.SummaryValue("best_max", 5.0, 4L),
          s.query().summary(w.runId()).get("untold"));
      // 'last' follows the highest step, even when logged out of order
      w.log("a_last", 0, 100);
      w.finish();
      assertEquals(2.0, s.query().summary(w.runId()).get("a_last").value());
    }
  }

  @Test
  void endStatuses() {
    try (RunStore s = store()) {
      RunWriter ok = s.newRun("ok").group("g").tags("x", "y").notes("hello").start();
      ok.finish();
      RunWriter bad = s.newRun("bad").group("g").start();
      bad.fail("loss became NaN at step 7");
      RunWriter gone = s.newRun("gone").start();
      gone.close();
      var q = s.query();
      var okRun = q.run(ok.runId()).orElseThrow();
      assertEquals("finished", okRun.status());
      assertNotNull(okRun.endedAt());
      assertEquals(List.of("x", "y"), okRun.tags());
      assertEquals("hello", okRun.notes());
      assertEquals(ProcessHandle.current().pid(), okRun.pid());
      var badRun = q.run(bad.runId()).orElseThrow();
      assertEquals("failed", badRun.status());
      assertEquals("loss became NaN at step 7", badRun.error());
      assertEquals("killed", q.run(gone.runId()).orElseThrow().status());
      assertEquals(2, q.runs(new RunQuery.Filter("g", null, null)).size());
      assertEquals(1, q.runs(new RunQuery.Filter("g", "failed", null)).size());
      assertEquals(1, q.runs(new RunQuery.Filter(null, null, "y")).size());
      assertThrows(IllegalStateException.class, () -> ok.log("late", 1, 1));
    }
  }

  @Test
  void markDeadRunsUsesPidAndHeartbeat() throws Exception {
    try (RunStore s = store()) {
      RunWriter alive = s.newRun("alive").start();
      try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + s.file());
          Statement st = c.createStatement()) {
        st.execute("PRAGMA busy_timeout = 10000");
        double now = System.currentTimeMillis() / 1000.0;
        // a dead pid on this host; a live pid whose heartbeat stopped 5 minutes ago; one elsewhere
        long deadPid = deadPid();
        st.execute(
            "INSERT INTO runs(id, name, status, started_at, heartbeat, pid, host) VALUES"
                + " ('deadpid1', 'a', 'running', "
                + (now - 10)
                + ", "
                + (now - 5)
                + ", "
                + deadPid
                + ", '"
                + RunStore.hostName()
                + "'),"
                + " ('stale001', 'b', 'running', "
                + (now - 600)
                + ", "
                + (now - 300)
                + ", "
                + ProcessHandle.current().pid()
                + ", '"
                + RunStore.hostName()
                + "'),"
                + " ('elsewher', 'c', 'running', "
                + (now - 10)
                + ", "
                + (now - 5)
                + ", 1, 'another-host')");
      }
      assertEquals(2, s.markDeadRuns());
      var q = s.query();
      assertEquals("killed", q.run("deadpid1").orElseThrow().status());
      var stale = q.run("stale001").orElseThrow();
      assertEquals("killed", stale.status());
      assertEquals(stale.heartbeat(), stale.endedAt());
      assertEquals("running", q.run("elsewher").orElseThrow().status());
      assertEquals("running", q.run(alive.runId()).orElseThrow().status());
      alive.finish();
    }
  }

  /** A pid that is not running: a finished child's. */
  static long deadPid() throws Exception {
    Process p =
        new ProcessBuilder(ProcessHandle.current().info().command().orElseThrow(), "-version")
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.DISCARD)
            .start();
    p.waitFor();
    return p.pid();
  }

  @Test
  void typedTablesAreWrittenInBatches() throws Exception {
    byte[] px = new byte[6];
    for (int i = 0; i < px.length; i++) {
      px[i] = (byte) (i * 40);
    }
    try (RunStore s = store();
        RunWriter w = s.newRun("tab").start()) {
      try (TableWriter t =
          w.table(
              "samples",
              List.of(
                  Column.number("i"),
                  Column.text("label"),
                  Column.image("img"),
                  Column.probabilities("p")))) {
        for (int i = 0; i < 1234; i++) {
          t.addRow(i, "n" + i, new GreyImage(3, 2, px), new float[] {0.25f, 0.75f});
        }
        assertEquals(1000, t.rowsWritten()); // two full batches on disk, the rest buffered
        assertThrows(IllegalArgumentException.class, () -> t.addRow(1, "too few"));
        assertThrows(
            IllegalArgumentException.class, () -> t.addRow("x", "a", null, new float[] {1}));
      }
      assertEquals(1234, s.query().tableRows(w.runId(), "samples"));
      try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + s.file())) {
        String cols = one(c, "SELECT columns FROM tables WHERE name = 'samples'");
        assertEquals(
            "[{\"name\":\"i\",\"type\":\"number\"},{\"name\":\"label\",\"type\":\"text\"},"
                + "{\"name\":\"img\",\"type\":\"image\"},{\"name\":\"p\",\"type\":\"probabilities\"}]",
            cols);
        assertEquals("1234", one(c, "SELECT count(*) FROM table_rows WHERE name = 'samples'"));
        List<?> row = (List<?>) Json.parse(one(c, "SELECT data FROM table_rows WHERE row = 7"));
        assertEquals(7L, row.get(0));
        assertEquals("n7", row.get(1));
        Map<?, ?> img = (Map<?, ?>) row.get(2);
        assertEquals(3L, img.get("w"));
        assertEquals(2L, img.get("h"));
        assertArrayEquals(px, greyPixels(Base64.getDecoder().decode((String) img.get("png"))));
        assertEquals(List.of(0.25, 0.75), row.get(3));
      }
      w.finish();
    }
  }

  static byte[] greyPixels(byte[] png) throws Exception {
    BufferedImage img = ImageIO.read(new ByteArrayInputStream(png));
    assertEquals(BufferedImage.TYPE_BYTE_GRAY, img.getType());
    byte[] out = new byte[img.getWidth() * img.getHeight()];
    img.getRaster().getDataElements(0, 0, img.getWidth(), img.getHeight(), out);
    return out;
  }

  static Predictions predictions(int n) {
    int[] ids = new int[n];
    byte[][] images = new byte[n][];
    int[] labels = new int[n];
    int[] predicted = new int[n];
    float[][] probs = new float[n][];
    for (int i = 0; i < n; i++) {
      ids[i] = 100 + i;
      images[i] = new byte[28 * 28];
      for (int j = 0; j < images[i].length; j++) {
        images[i][j] = (byte) ((i + j) % 256);
      }
      labels[i] = i % 3;
      predicted[i] = (i * 7) % 3;
      probs[i] = new float[] {0.1f, 0.1f, 0.1f};
      probs[i][predicted[i]] = 0.8f;
    }
    return new Predictions(
        ids, images, 28, 28, labels, predicted, probs, new String[] {"zero", "one", "two"});
  }

  @Test
  void predictionsTableHoldsPngImagesAndProbabilities() throws Exception {
    Predictions p = predictions(1100);
    try (RunStore s = store();
        RunWriter w = s.newRun("pred").start()) {
      w.writePredictions(p);
      w.writePredictions(p); // writing again replaces
      var rows = s.query().predictions(w.runId(), true);
      assertEquals(1100, rows.size());
      var r = rows.get(5);
      assertEquals(105, r.exampleId());
      assertEquals(2, r.label());
      assertEquals(2, r.predicted());
      assertEquals(0.8, r.confidence());
      assertEquals("[0.1,0.1,0.8]", r.probsJson());
      assertArrayEquals(p.images()[5], greyPixels(r.png()));
      assertEquals(1100, s.query().tableRows(w.runId(), "predictions"));
      // the typed table: the class names, no second copy of the images
      try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + s.file())) {
        String columns =
            one(
                c,
                "SELECT columns FROM tables WHERE run_id = '"
                    + w.runId()
                    + "' AND name = 'predictions'");
        assertEquals(
            "[{\"name\":\"example_id\",\"type\":\"number\"},{\"name\":\"label\",\"type\":\"number\"},"
                + "{\"name\":\"predicted\",\"type\":\"number\"},{\"name\":\"confidence\",\"type\":\"number\"},"
                + "{\"name\":\"probs\",\"type\":\"probabilities\",\"classes\":[\"zero\",\"one\",\"two\"]}]",
            columns);
        assertEquals(
            "[105,2,2,0.8,[0.1,0.1,0.8]]",
            one(
                c,
                "SELECT data FROM table_rows WHERE run_id = '"
                    + w.runId()
                    + "' AND name = 'predictions' AND row = 5"));
      }
      w.finish();
    }
  }

  @Test
  void aWriteErrorIsReportedNamingStoreAndRunAndTheRunCanBeMarkedFailed() throws Exception {
    try (RunStore s = store()) {
      RunWriter w = s.newRun("broken").start();
      w.log("k", 1, 1);
      w.flush();
      try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + s.file());
          Statement st = c.createStatement()) {
        st.execute("PRAGMA busy_timeout = 10000");
        st.execute(
            "CREATE TRIGGER refuse BEFORE INSERT ON metrics"
                + " BEGIN SELECT RAISE(ABORT, 'simulated write failure'); END");
      }
      w.log("k", 2, 2);
      var e = assertThrows(StoreException.class, w::flush);
      assertTrue(e.getMessage().contains(s.file().toString()), e.getMessage());
      assertTrue(e.getMessage().contains("run " + w.runId()), e.getMessage());
      assertTrue(e.getMessage().contains("simulated write failure"), e.getMessage());
      assertThrows(StoreException.class, () -> w.log("k", 3, 3)); // stays broken, says so
      w.fail(e.getMessage());
      var run = s.query().run(w.runId()).orElseThrow();
      assertEquals("failed", run.status());
      assertTrue(run.error().contains("simulated write failure"), run.error());
      assertEquals(1, s.query().history(w.runId(), "k").size());
    }
  }

  @Test
  void aFileThatIsNotAStoreIsAClearError() throws Exception {
    Path text = dir.resolve("notes.db");
    Files.writeString(text, "hello, this is not a database at all\n");
    var e = assertThrows(StoreException.class, () -> RunStore.open(text));
    assertTrue(e.getMessage().contains(text.toString()), e.getMessage());
    assertTrue(e.getMessage().contains("not a normlab run store"), e.getMessage());

    Path other = dir.resolve("other.db");
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + other);
        Statement st = c.createStatement()) {
      st.execute("CREATE TABLE customers(id INTEGER)");
    }
    var e2 = assertThrows(StoreException.class, () -> RunStore.open(other));
    assertTrue(e2.getMessage().contains(other.toString()), e2.getMessage());
    assertTrue(e2.getMessage().contains("customers"), e2.getMessage());

    var e3 = assertThrows(StoreException.class, () -> RunStore.openExisting(dir.resolve("no.db")));
    assertTrue(e3.getMessage().contains("no such file"), e3.getMessage());
    assertTrue(Files.notExists(dir.resolve("no.db")));
  }

  @Test
  void aCorruptStoreIsAClearError() throws Exception {
    Path f = dir.resolve("corrupt.db");
    try (RunStore s = RunStore.open(f);
        RunWriter w = s.newRun("x").start()) {
      for (int i = 0; i < 2000; i++) {
        w.log("k", i, i);
      }
      w.finish();
    }
    // keep the header, smash the pages after it
    byte[] b = Files.readAllBytes(f);
    for (int i = 100; i < b.length; i++) {
      b[i] = (byte) 0xA5;
    }
    Files.write(f, b);
    Files.deleteIfExists(Path.of(f + "-wal"));
    Files.deleteIfExists(Path.of(f + "-shm"));
    var e = assertThrows(StoreException.class, () -> RunStore.open(f));
    assertTrue(e.getMessage().contains(f.toString()), e.getMessage());
    assertTrue(e.getMessage().contains("corrupt"), e.getMessage());
  }
}
