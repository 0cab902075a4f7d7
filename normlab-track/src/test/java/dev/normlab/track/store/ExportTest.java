package dev.normlab.track.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.normlab.io.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ExportTest {
  @TempDir Path dir;

  /** Two runs in group g (one with predictions), one in another group. */
  private String[] fill(RunStore s) {
    Map<String, Object> cfg = new LinkedHashMap<>();
    cfg.put("norm", "instance");
    cfg.put("optimizer", Map.of("lr", 0.01));
    RunWriter a = s.newRun("a, \"quoted\"").group("g").tags("t1").config(cfg).start();
    a.summaryRule("test/accuracy", SummaryRule.BEST_MAX);
    a.log("test/accuracy", 10, 90.5);
    a.log("test/accuracy", 20, 92.0);
    a.log("train/loss", 10, Double.NaN);
    a.writePredictions(RunWriterTest.predictions(2));
    a.finish();
    s.writeShiftedPredictions(
        a.runId(), "invert", "mnist/invert", 50, RunWriterTest.predictions(2));
    RunWriter b = s.newRun("b").group("g").start();
    b.log("train/loss", 1, 2.0);
    b.fail("boom");
    RunWriter c = s.newRun("c").group("other").start();
    c.finish();
    return new String[] {a.runId(), b.runId(), c.runId()};
  }

  @Test
  void runToCsv() throws Exception {
    try (RunStore s = RunStore.open(dir.resolve("runs.db"))) {
      String[] ids = fill(s);
      Path out = dir.resolve("csv");
      var files = Export.run(s.query(), ids[0], Export.Format.CSV, out);
      assertEquals(
          List.of(
              "runs.csv",
              "config.csv",
              "metrics.csv",
              "summary.csv",
              "predictions.csv",
              "shifted_predictions.csv"),
          files.stream().map(f -> f.getFileName().toString()).toList());
      String id = ids[0];
      List<String> runs = Files.readAllLines(out.resolve("runs.csv"));
      assertEquals(
          "id,name,group,status,started_at,ended_at,host,pid,tags,notes,error", runs.get(0));
      assertTrue(runs.get(1).startsWith(id + ",\"a, \"\"quoted\"\"\",g,finished,"), runs.get(1));
      assertTrue(runs.get(1).endsWith(",t1,,"), runs.get(1));
      assertEquals(2, runs.size());
      assertEquals(
          List.of("run_id,key,value", id + ",norm,instance", id + ",optimizer.lr,0.01"),
          Files.readAllLines(out.resolve("config.csv")));
      List<String> metrics = Files.readAllLines(out.resolve("metrics.csv"));
      assertEquals("run_id,key,step,value,wall", metrics.get(0));
      assertEquals(4, metrics.size());
      assertTrue(metrics.get(1).startsWith(id + ",test/accuracy,10,90.5,"), metrics.get(1));
      assertTrue(metrics.get(2).startsWith(id + ",test/accuracy,20,92,"), metrics.get(2));
      assertTrue(metrics.get(3).startsWith(id + ",train/loss,10,,"), metrics.get(3)); // NaN: empty
      assertEquals(
          List.of(
              "run_id,key,rule,value,step",
              id + ",test/accuracy,best_max,92,20",
              id + ",train/loss,last,,10"),
          Files.readAllLines(out.resolve("summary.csv")));
      List<String> preds = Files.readAllLines(out.resolve("predictions.csv"));
      assertEquals("run_id,example_id,label,predicted,confidence,probs", preds.get(0));
      assertEquals(id + ",100,0,0,0.8,\"[0.8,0.1,0.1]\"", preds.get(1));
      assertEquals(3, preds.size());
      assertEquals(
          List.of(
              "run_id,shift,example_id,label,predicted,confidence",
              id + ",invert,100,0,0,0.8",
              id + ",invert,101,1,1,0.8"),
          Files.readAllLines(out.resolve("shifted_predictions.csv")));
      try (Stream<Path> left = Files.list(out)) {
        assertEquals(6, left.count()); // no temp files left behind
      }
    }
  }

  @Test
  void groupToJson() throws Exception {
    try (RunStore s = RunStore.open(dir.resolve("runs.db"))) {
      String[] ids = fill(s);
      Path out = dir.resolve("g.json");
      Export.group(s.query(), "g", Export.Format.JSON, out);
      Map<?, ?> doc = (Map<?, ?>) Json.parse(Files.readString(out));
      assertEquals("normlab-runs", doc.get("format"));
      List<?> runs = (List<?>) doc.get("runs");
      assertEquals(2, runs.size());
      Map<?, ?> a = (Map<?, ?>) runs.get(0);
      assertEquals(ids[0], a.get("id"));
      assertEquals("g", a.get("group"));
      assertEquals("finished", a.get("status"));
      assertEquals(List.of("t1"), a.get("tags"));
      assertEquals(Map.of("norm", "instance", "optimizer.lr", 0.01), a.get("config"));
      Map<?, ?> acc = (Map<?, ?>) ((Map<?, ?>) a.get("summary")).get("test/accuracy");
      assertEquals("best_max", acc.get("rule"));
      assertEquals(92.0, acc.get("value"));
      assertEquals(20L, acc.get("step"));
      Map<?, ?> hist = (Map<?, ?>) ((Map<?, ?>) a.get("metrics")).get("test/accuracy");
      assertEquals(List.of(10L, 20L), hist.get("step"));
      assertEquals(List.of(90.5, 92.0), hist.get("value"));
      Map<?, ?> loss = (Map<?, ?>) ((Map<?, ?>) a.get("metrics")).get("train/loss");
      assertEquals(java.util.Arrays.asList((Object) null), loss.get("value"));
      List<?> preds = (List<?>) a.get("predictions");
      assertEquals(2, preds.size());
      Map<?, ?> p1 = (Map<?, ?>) preds.get(1);
      assertEquals(101L, p1.get("example_id"));
      assertEquals(1L, p1.get("label"));
      assertEquals(1L, p1.get("predicted"));
      assertEquals(3, ((List<?>) p1.get("probs")).size());
      assertTrue(!p1.containsKey("image"));
      Map<?, ?> b = (Map<?, ?>) runs.get(1);
      assertEquals("failed", b.get("status"));
      assertEquals("boom", b.get("error"));
      assertEquals(List.of(), b.get("predictions"));
      Map<?, ?> inverted = (Map<?, ?>) ((Map<?, ?>) a.get("shifted_predictions")).get("invert");
      assertEquals("mnist/invert", inverted.get("images"));
      assertEquals(50.0, inverted.get("accuracy"));
      assertEquals(
          List.of("example_id", "label", "predicted", "confidence"), inverted.get("columns"));
      assertEquals(
          List.of(List.of(100L, 0L, 0L, 0.8), List.of(101L, 1L, 1L, 0.8)), inverted.get("rows"));
      assertFalse(b.containsKey("shifted_predictions"));

      assertThrows(
          IllegalArgumentException.class,
          () -> Export.group(s.query(), "nope", Export.Format.JSON, dir.resolve("x.json")));
      assertThrows(
          IllegalArgumentException.class,
          () -> Export.run(s.query(), "zzzzzzzz", Export.Format.CSV, dir.resolve("x")));
      assertThrows(
          IllegalArgumentException.class,
          () -> Export.group(s.query(), "g", Export.Format.CSV, out)); // a file, not a directory
    }
  }

  @Test
  @SuppressWarnings("unchecked")
  void typedTablesAreExportedWithTheirImagesAsPngFiles() throws Exception {
    try (RunStore s = RunStore.open(dir.resolve("runs.db"))) {
      String id = fill(s)[0]; // a run with predictions: its typed predictions table stays out
      GreyImage img = new GreyImage(2, 2, new byte[] {0, 64, (byte) 128, (byte) 255});
      s.writeTable(
          id,
          "feature maps",
          List.of(
              Column.number("example_id"),
              Column.text("layer"),
              Column.image("output"),
              Column.probabilities("p")),
          List.of(
              new Object[] {3, "norm1, first", img, new float[] {0.25f, 0.75f}},
              new Object[] {3, "norm2", null, null}));
      Path out = dir.resolve("csv");
      var files = Export.run(s.query(), id, Export.Format.CSV, out);
      Path table = out.resolve("tables").resolve(id);
      assertTrue(
          files.contains(table.resolve("feature_maps.csv").toAbsolutePath()), files.toString());
      assertEquals(
          List.of(
              "row,example_id,layer,output,p",
              "0,3,\"norm1, first\",feature_maps/0_output.png,\"[0.25,0.75]\"",
              "1,3,norm2,,"),
          Files.readAllLines(table.resolve("feature_maps.csv")));
      assertTrue(
          java.util.Arrays.equals(
              img.png(), Files.readAllBytes(table.resolve("feature_maps/0_output.png"))));
      assertFalse(Files.exists(table.resolve("predictions.csv")), "in predictions.csv already");

      Path json = dir.resolve("run.json");
      Export.run(s.query(), id, Export.Format.JSON, json);
      var doc = (Map<String, Object>) Json.parse(Files.readString(json));
      var run = (Map<String, Object>) ((List<Object>) doc.get("runs")).get(0);
      var tables = (Map<String, Object>) run.get("tables");
      assertEquals(List.of("feature maps"), List.copyOf(tables.keySet()));
      var rows =
          (List<List<Object>>) ((Map<String, Object>) tables.get("feature maps")).get("rows");
      assertEquals(2, rows.size());
      assertEquals("norm1, first", rows.get(0).get(1));
      assertEquals(
          java.util.Base64.getEncoder().encodeToString(img.png()),
          ((Map<String, Object>) rows.get(0).get(2)).get("png"));
    }
  }

  @Test
  void csvCellsAreQuotedOnlyWhenNeeded() {
    assertEquals("plain", Export.cell("plain"));
    assertEquals("\"a,b\"", Export.cell("a,b"));
    assertEquals("\"say \"\"hi\"\"\"", Export.cell("say \"hi\""));
    assertEquals("\"two\nlines\"", Export.cell("two\nlines"));
    assertEquals("", Export.cell(null));
    assertEquals("3", Export.cell(3.0));
    assertEquals("0.25", Export.cell(0.25));
    assertEquals("1795995474.225", Export.cell(1795995474.225));
  }
}
