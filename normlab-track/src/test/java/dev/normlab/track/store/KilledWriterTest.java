package dev.normlab.track.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A writer process killed mid-run leaves a sound store and a run marked as not finished. */
class KilledWriterTest {
  @TempDir Path dir;

  private Process startWriter(Path db) throws Exception {
    String java = ProcessHandle.current().info().command().orElseThrow();
    return new ProcessBuilder(
            java,
            "-Xmx128m",
            "-XX:TieredStopAtLevel=1",
            "--enable-native-access=ALL-UNNAMED",
            "-cp",
            System.getProperty("java.class.path"),
            WriterProcess.class.getName(),
            db.toString())
        .redirectError(ProcessBuilder.Redirect.INHERIT)
        .start();
  }

  private static String readRunId(Process p) throws Exception {
    var in = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
    String id = in.readLine();
    assertNotNull(id, "the writer process printed no run id");
    return id.strip();
  }

  private static long count(Path db, String sql) throws Exception {
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db);
        Statement st = c.createStatement()) {
      st.execute("PRAGMA busy_timeout = 10000");
      try (ResultSet rs = st.executeQuery(sql)) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }

  private static String status(Path db, String id) throws Exception {
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db);
        Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT status FROM runs WHERE id = '" + id + "'")) {
      return rs.next() ? rs.getString(1) : null;
    }
  }

  /** Waits until the child has written a good part of its history (bounded, not timed). */
  private static void awaitRows(Process p, Path db, String id, long rows) throws Exception {
    for (int i = 0; i < 600; i++) {
      assertTrue(p.isAlive(), "the writer process died on its own");
      if (count(db, "SELECT count(*) FROM metrics WHERE run_id = '" + id + "'") >= rows) {
        return;
      }
      Thread.sleep(50);
    }
    throw new AssertionError("the writer process wrote fewer than " + rows + " rows in 30 s");
  }

  @Test
  void sigkillLeavesAReadableStoreAndAKilledRun() throws Exception {
    Path db = dir.resolve("runs.db");
    RunStore.open(db).close();
    Process p = startWriter(db);
    try {
      String id = readRunId(p);
      awaitRows(p, db, id, 600);
      p.destroyForcibly(); // SIGKILL: no shutdown hook runs
      assertTrue(p.waitFor(30, TimeUnit.SECONDS));
      assertEquals("running", status(db, id)); // nobody could say otherwise yet
      try (RunStore s = RunStore.open(db)) { // opening marks dead runs
        assertEquals("ok", s.integrityCheck());
        var run = s.query().run(id).orElseThrow();
        assertEquals("killed", run.status());
        assertEquals(run.heartbeat(), run.endedAt());
        var loss = s.query().history(id, "loss");
        assertTrue(loss.size() >= 300, "rows: " + loss.size());
        for (int i = 0; i < loss.size(); i++) {
          assertEquals(i + 1, loss.get(i).step()); // a prefix of the history, no holes
        }
        var best = s.query().summary(id).get("loss");
        assertEquals("best_min", best.rule());
        assertTrue(best.step() >= 200);
      }
    } finally {
      p.destroyForcibly();
    }
  }

  @Test
  void sigtermMarksTheRunKilledThroughTheShutdownHook() throws Exception {
    Path db = dir.resolve("runs.db");
    RunStore.open(db).close();
    Process p = startWriter(db);
    try {
      String id = readRunId(p);
      awaitRows(p, db, id, 100);
      p.destroy(); // SIGTERM
      assertTrue(p.waitFor(30, TimeUnit.SECONDS));
      // read without RunStore.open, whose markDeadRuns would mark it anyway
      assertEquals("killed", status(db, id));
      assertEquals(
          1,
          count(db, "SELECT count(*) FROM runs WHERE id = '" + id + "' AND ended_at IS NOT NULL"));
    } finally {
      p.destroyForcibly();
    }
  }
}
