package dev.normlab.track.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.normlab.train.Predictions;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Deleting runs, and editing their tags and notes, as `normlab runs delete|tag|untag|note` do. */
class RunEditTest {
  @TempDir Path dir;

  /** A finished run with rows in every table. */
  private static String finishedRun(RunStore s, String name) {
    try (RunWriter w = s.newRun(name).group("g").tags("batch").config(Map.of("lr", 0.01)).start()) {
      for (long step = 1; step <= 500; step++) {
        w.log("train/loss", step, 1.0 / step);
      }
      w.writePredictions(RunWriterTest.predictions(200));
      w.finish();
      // normlab robustness afterwards, on images of the run's own
      s.writeShiftedPredictions(
          w.runId(), "invert", "images-of-" + w.runId(), 25, RunWriterTest.predictions(50));
      return w.runId();
    }
  }

  private static long rows(Path file, String table, String runId) throws Exception {
    String where =
        switch (table) {
          case "runs" -> "id = '" + runId + "'";
          case "shifted_images" -> "images = 'images-of-" + runId + "'"; // no run_id: shared
          case "shifted_predictions" ->
              "set_id IN (SELECT id FROM shifted_sets WHERE run_id = '" + runId + "')";
          default -> "run_id = '" + runId + "'";
        };
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file);
        Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT count(*) FROM " + table + " WHERE " + where)) {
      return rs.getLong(1);
    }
  }

  @Test
  void deletingRunsRemovesTheirRowsEverywhereAndVacuumShrinksTheFile() throws Exception {
    try (RunStore s = RunStore.open(dir.resolve("runs.db"))) {
      String a = finishedRun(s, "a");
      String b = finishedRun(s, "b");
      String c = finishedRun(s, "c");
      for (String t : RunStore.OUR_TABLES) {
        assertTrue(rows(s.file(), t, a) > 0, t);
      }
      assertEquals(2, s.delete(List.of(a, b)));
      for (String t : RunStore.OUR_TABLES) {
        assertEquals(0, rows(s.file(), t, a), t);
        assertEquals(0, rows(s.file(), t, b), t);
        assertTrue(rows(s.file(), t, c) > 0, "the run that stays keeps its " + t);
      }
      long[] size = s.vacuum();
      assertTrue(size[1] < size[0], "the file shrinks: " + size[0] + " -> " + size[1]);
      assertEquals("ok", s.integrityCheck());
      assertEquals(500, s.query().history(c, "train/loss").size());
    }
  }

  @Test
  void aRunningRunOrAnUnknownIdStopsTheDeletionBeforeAnythingGoes() {
    try (RunStore s = RunStore.open(dir.resolve("runs.db"))) {
      String done = finishedRun(s, "done");
      try (RunWriter live = s.newRun("live").start()) { // this process writes it: alive
        var e =
            assertThrows(IllegalStateException.class, () -> s.delete(List.of(done, live.runId())));
        assertTrue(
            e.getMessage().contains("run " + live.runId() + " is still running"), e.getMessage());
        var unknown =
            assertThrows(IllegalArgumentException.class, () -> s.delete(List.of(done, "0000beef")));
        assertEquals("no run 0000beef in " + s.file(), unknown.getMessage());
        assertTrue(s.query().run(done).isPresent(), "all or nothing");
        live.finish();
        assertEquals(2, s.delete(List.of(done, live.runId())));
      }
      assertEquals(List.of(), s.query().runs(RunQuery.Filter.all()));
    }
  }

  @Test
  void tagsAndNotesAreEdited() {
    try (RunStore s = RunStore.open(dir.resolve("runs.db"))) {
      String id = finishedRun(s, "a");
      s.tag(id, List.of("keep", "batch", "paper"));
      assertEquals(List.of("batch", "keep", "paper"), s.query().run(id).orElseThrow().tags());
      s.untag(id, List.of("paper", "never-had"));
      assertEquals(List.of("batch", "keep"), s.query().run(id).orElseThrow().tags());
      assertEquals(1, s.query().runs(new RunQuery.Filter(null, null, "keep")).size());
      assertThrows(IllegalArgumentException.class, () -> s.tag(id, List.of(" ")));
      s.setNotes(id, "lr too high; see step 40");
      assertEquals("lr too high; see step 40", s.query().run(id).orElseThrow().notes());
      s.setNotes(id, "  ");
      assertNull(s.query().run(id).orElseThrow().notes());
      var e = assertThrows(IllegalArgumentException.class, () -> s.setNotes("0000beef", "x"));
      assertTrue(e.getMessage().startsWith("no run 0000beef"), e.getMessage());
    }
  }

  @Test
  void summaryValuesComputedAfterTheRunAreAddedOrReplaced() {
    try (RunStore s = RunStore.open(dir.resolve("runs.db"))) {
      String done = finishedRun(s, "done");
      var loss = s.query().summary(done).get("train/loss");
      java.util.Map<String, Double> values = new java.util.LinkedHashMap<>();
      values.put("robustness/clean", 97.5);
      values.put("robustness/invert", Double.NaN);
      s.updateSummary(done, values);
      var summary = s.query().summary(done);
      assertEquals(97.5, summary.get("robustness/clean").value());
      assertEquals("last", summary.get("robustness/clean").rule());
      assertNull(summary.get("robustness/clean").step());
      assertNull(summary.get("robustness/invert").value(), "not a number is stored as none");
      assertEquals(loss, summary.get("train/loss"), "the run's own summary is untouched");
      s.updateSummary(done, Map.of("robustness/clean", 98.25));
      assertEquals(98.25, s.query().summary(done).get("robustness/clean").value());
      try (RunWriter live = s.newRun("live").start()) {
        var e =
            assertThrows(
                IllegalStateException.class,
                () -> s.updateSummary(live.runId(), Map.of("robustness/clean", 1.0)));
        assertEquals(
            "run " + live.runId() + " is still running; its summary is its writer's",
            e.getMessage());
        live.finish();
      }
      var unknown =
          assertThrows(
              IllegalArgumentException.class,
              () -> s.updateSummary("0000beef", Map.of("robustness/clean", 1.0)));
      assertEquals("no run 0000beef in " + s.file(), unknown.getMessage());
    }
  }

  @Test
  void aTableWrittenAfterTheRunReplacesOneOfItsNameAndIsDeletedWithTheRun() throws Exception {
    try (RunStore s = RunStore.open(dir.resolve("runs.db"))) {
      String done = finishedRun(s, "done");
      List<Column> cols =
          List.of(Column.number("example_id"), Column.text("layer"), Column.image("map"));
      GreyImage img = new GreyImage(3, 2, new byte[] {0, 1, 2, 3, 4, (byte) 255});
      s.writeTable(
          done,
          "feature_maps",
          cols,
          List.of(new Object[] {0, "norm1", img}, new Object[] {0, "norm2", null}));
      assertEquals(2, s.query().tableRows(done, "feature_maps"));
      // written again, the table is replaced, not appended to
      s.writeTable(done, "feature_maps", cols, List.<Object[]>of(new Object[] {7, "norm1", img}));
      assertEquals(1, s.query().tableRows(done, "feature_maps"));
      try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + s.file());
          Statement st = c.createStatement();
          ResultSet rs =
              st.executeQuery(
                  "SELECT t.columns, r.row, r.data FROM tables t JOIN table_rows r USING (run_id,"
                      + " name) WHERE t.run_id = '"
                      + done
                      + "' AND t.name = 'feature_maps'")) {
        assertTrue(rs.next());
        assertTrue(rs.getString(1).startsWith("[{\"name\":\"example_id\",\"type\":\"number\"}"));
        assertEquals(0, rs.getInt(2));
        String data = rs.getString(3);
        assertTrue(data.startsWith("[7,\"norm1\",{\"w\":3,\"h\":2,\"png\":\""), data);
      }
      // a wrong value names the table and column, and nothing is written
      var wrong =
          assertThrows(
              IllegalArgumentException.class,
              () ->
                  s.writeTable(
                      done, "feature_maps", cols, List.<Object[]>of(new Object[] {"x", "a", img})));
      assertEquals(
          "table 'feature_maps' column 'example_id' (number) needs a number, got String",
          wrong.getMessage());
      assertEquals(1, s.query().tableRows(done, "feature_maps"));
      try (RunWriter live = s.newRun("live").start()) {
        var e =
            assertThrows(
                IllegalStateException.class,
                () -> s.writeTable(live.runId(), "t", cols, List.of()));
        assertEquals(
            "run " + live.runId() + " is still running; its tables are its writer's",
            e.getMessage());
        live.finish();
      }
      s.delete(List.of(done));
      assertEquals(0, rows(s.file(), "table_rows", done));
      assertEquals(0, rows(s.file(), "tables", done));
    }
  }

  @Test
  void predictionsOnShiftedImagesKeepEachImageSetOnce() throws Exception {
    try (RunStore s = RunStore.open(dir.resolve("runs.db"))) {
      String a = finishedRun(s, "a");
      String b = finishedRun(s, "b");
      Predictions p = RunWriterTest.predictions(120);
      s.writeShiftedPredictions(a, "invert", "mnist/invert", 31.5, p);
      s.writeShiftedPredictions(a, "adapted/invert", "mnist/invert", 52.5, p);
      s.writeShiftedPredictions(b, "invert", "mnist/invert", 40, p);
      RunQuery q = s.query();
      // a's sets in the order written, the first replaced in place of the one finishedRun wrote
      assertEquals(
          List.of(
              new RunQuery.ShiftedSet("invert", "mnist/invert", 31.5, 120),
              new RunQuery.ShiftedSet("adapted/invert", "mnist/invert", 52.5, 120)),
          q.shiftedSets(a));
      List<RunQuery.Prediction> rows = q.shiftedPredictions(a, "adapted/invert", true);
      assertEquals(120, rows.size());
      for (int i = 0; i < rows.size(); i++) {
        RunQuery.Prediction r = rows.get(i);
        assertEquals(p.exampleIds()[i], r.exampleId());
        assertEquals(p.labels()[i], r.label());
        assertEquals(p.predicted()[i], r.predicted());
        assertEquals(0.8, r.confidence(), 1e-6);
        assertArrayEquals(new GreyImage(28, 28, p.images()[i]).png(), r.png());
      }
      // the images once for the three sets; the image sets finishedRun wrote, no longer shown by
      // any set, are gone
      assertEquals(120, count(s.file(), "shifted_images", "images = 'mnist/invert'"));
      assertEquals(120, count(s.file(), "shifted_images", "1"));
      // deleting a run keeps the images another run's set still shows
      s.delete(List.of(a));
      assertEquals(120, count(s.file(), "shifted_images", "images = 'mnist/invert'"));
      s.delete(List.of(b));
      assertEquals(0, count(s.file(), "shifted_images", "1"));
      // a run still running is refused, an unknown one named
      try (RunWriter live = s.newRun("live").start()) {
        var e =
            assertThrows(
                IllegalStateException.class,
                () -> s.writeShiftedPredictions(live.runId(), "invert", "mnist/invert", 1, p));
        assertEquals(
            "run " + live.runId() + " is still running; evaluate it when it has ended",
            e.getMessage());
        live.finish();
      }
      var unknown =
          assertThrows(
              IllegalArgumentException.class,
              () -> s.writeShiftedPredictions("0000beef", "invert", "mnist/invert", 1, p));
      assertEquals("no run 0000beef in " + s.file(), unknown.getMessage());
      assertEquals(0, count(s.file(), "shifted_images", "1"), "nothing written for them");
    }
  }

  private static long count(Path file, String table, String where) throws Exception {
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file);
        Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT count(*) FROM " + table + " WHERE " + where)) {
      return rs.getLong(1);
    }
  }

  @Test
  void aStoreFromBeforeShiftedPredictionsReadsAsHavingNoneAndGetsTheirTablesWhenOpened()
      throws Exception {
    Path file = dir.resolve("old.db");
    String id;
    try (RunStore s = RunStore.open(file)) {
      id = finishedRun(s, "old");
    }
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file);
        Statement st = c.createStatement()) {
      for (String t : List.of("shifted_predictions", "shifted_sets", "shifted_images")) {
        st.execute("DROP TABLE " + t);
      }
    }
    // the dashboard's reader opens it read-only: no sets, the run's own predictions as before
    try (var reader = new dev.normlab.track.web.StoreReader(file)) {
      assertEquals(List.of(), reader.shiftedSets(id));
      assertEquals(200, reader.predictionCount(id, null));
      assertNull(reader.image(id, "invert", 100));
    }
    // opening it for writing adds the tables, and robustness can store its predictions
    try (RunStore s = RunStore.open(file)) {
      s.writeShiftedPredictions(id, "invert", "mnist/invert", 12.5, RunWriterTest.predictions(3));
      assertEquals(3, s.query().shiftedSets(id).get(0).examples());
    }
  }

  @Test
  void aSetThatFailsHalfWayLeavesTheOneBeforeItWhole() throws Exception {
    try (RunStore s = RunStore.open(dir.resolve("runs.db"))) {
      String a = finishedRun(s, "a");
      Predictions good = RunWriterTest.predictions(50);
      s.writeShiftedPredictions(a, "invert", "mnist/invert", 30, good);
      // labels for half the examples: the write fails after the old set was deleted and the new
      // one inserted, in the middle of its rows
      Predictions p = RunWriterTest.predictions(60);
      Predictions broken =
          new Predictions(
              p.exampleIds(),
              p.images(),
              28,
              28,
              java.util.Arrays.copyOf(p.labels(), 30),
              p.predicted(),
              p.probabilities(),
              p.classNames());
      assertThrows(
          ArrayIndexOutOfBoundsException.class,
          () -> s.writeShiftedPredictions(a, "invert", "mnist/invert-2", 40, broken));
      RunQuery q = s.query();
      assertEquals(
          List.of(new RunQuery.ShiftedSet("invert", "mnist/invert", 30.0, 50)), q.shiftedSets(a));
      assertEquals(
          50,
          q.shiftedPredictions(a, "invert", true).stream().filter(r -> r.png() != null).count());
      assertEquals(0, count(s.file(), "shifted_images", "images = 'mnist/invert-2'"));
    }
  }
}
