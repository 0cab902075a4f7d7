package dev.normlab.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.normlab.track.store.RunQuery;
import dev.normlab.track.store.RunStore;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `normlab lr-find` on real MNIST batches: a table per norm and a run each in the store. */
class LrFindCliTest {
  @TempDir Path dir;

  private Cli.Result lrFind(String... extra) {
    List<String> args =
        new ArrayList<>(
            List.of("lr-find", "--limit-train", "320", "--threads", "2", "--out", dir.toString()));
    args.addAll(List.of(extra));
    args.addAll(TrackingCliTest.dataDirArgs());
    return Cli.inProcess(args.toArray(String[]::new)).assertNoStackTrace();
  }

  @Test
  void eachNormsTestIsPrintedAndRecorded() {
    Cli.Result r = lrFind("--norms", "none,group", "--steps", "30", "--end-lr", "1000");
    assertEquals(0, r.exit(), r.all());
    String table = r.out().substring(r.out().indexOf("norm "));
    assertTrue(
        table.matches(
            "(?s)norm +lowest loss at +suggested \\(/10\\) +steepest at"
                + " +diverged at +last loss\nnone .*\ngroup .*"),
        table);
    assertTrue(
        r.out().contains("#runs?metrics=lr_find/smoothed_loss,train/loss&x=lr&log=1"), r.out());
    try (RunStore s = RunStore.openExisting(dir.resolve("runs.db"))) {
      RunQuery q = s.query();
      var runs = q.runs(RunQuery.Filter.all());
      assertEquals(2, runs.size());
      for (var run : runs) {
        String id = run.id();
        assertEquals("finished", run.status());
        var lrs = q.history(id, "train/lr");
        assertEquals(1e-6, lrs.get(0).value(), 1e-18);
        for (int i = 1; i < lrs.size(); i++) {
          assertTrue(lrs.get(i).value() > lrs.get(i - 1).value(), "the lr grows each step");
        }
        assertEquals(lrs.size(), q.history(id, "lr_find/smoothed_loss").size());
        var cfg = q.config(id);
        assertEquals(30.0, cfg.get("lr_find.steps").number());
        assertFalse(cfg.containsKey("lr"), "a range test has no lr of its own");
        assertFalse(cfg.containsKey("epochs"));
        double suggested = q.summary(id).get("lr_find/suggested_lr").value();
        double lowest = q.summary(id).get("lr_find/min_loss_lr").value();
        assertEquals(lowest / 10, suggested, 1e-15);
        // its row in the table
        String norm = cfg.get("norm").json().replace("\"", "");
        assertTrue(
            table.contains(
                String.format(
                    "%-10s %16s %16s",
                    norm, LrFindCommand.lr(lowest), LrFindCommand.lr(suggested))),
            table);
      }
    }
  }

  @Test
  void lrFindOnTrainChoosesTheRunsLrByTheRangeTest() {
    List<String> args =
        new ArrayList<>(
            List.of(
                "train",
                "--norm",
                "group",
                "--lr-find",
                "--limit-train",
                "256",
                "--limit-test",
                "64",
                "--epochs",
                "1",
                "--threads",
                "2",
                "--out",
                dir.toString()));
    args.addAll(TrackingCliTest.dataDirArgs());
    Cli.Result r = Cli.inProcess(args.toArray(String[]::new)).assertNoStackTrace();
    assertEquals(0, r.exit(), r.all());
    var m =
        java.util.regex.Pattern.compile(
                "\\[group\\] lr range test: lowest smoothed loss at lr (\\S+), training at lr (\\S+) \\(")
            .matcher(r.out());
    assertTrue(m.find(), r.out());
    double lowest = Double.parseDouble(m.group(1));
    double lr = Double.parseDouble(m.group(2));
    assertEquals(lowest / 10, lr, lowest * 1e-2, "a tenth, to three digits");
    assertTrue(r.out().contains("sgd lr " + m.group(2) + ","), "it trains at that lr: " + r.out());
    try (RunStore s = RunStore.openExisting(dir.resolve("runs.db"))) {
      RunQuery q = s.query();
      String id = q.runs(RunQuery.Filter.all()).get(0).id();
      assertEquals(lr, q.config(id).get("lr").number());
      assertEquals(lowest, q.config(id).get("lr_find.min_loss_lr").number(), lowest * 5e-3);
      assertEquals(lr, q.history(id, "train/lr").get(0).value());
    }
    Cli.Result both =
        Cli.inProcess("train", "--lr", "0.1", "--lr-find", "--no-track").assertNoStackTrace();
    assertEquals(2, both.exit());
    assertTrue(both.err().contains("--lr and --lr-find both set the lr; give one"), both.err());
  }

  @Test
  void optionsThatMeanNothingToARangeTestAreUsageErrors() {
    Cli.Result lr = lrFind("--lr", "0.1");
    assertEquals(2, lr.exit());
    assertTrue(
        lr.err()
            .contains("--lr does not apply to lr-find (it sweeps the lr: --start-lr, --end-lr)"),
        lr.err());
    assertEquals(2, lrFind("--epochs", "3").exit());
    assertEquals(2, lrFind("--watch").exit());
    Cli.Result range = lrFind("--start-lr", "1", "--end-lr", "0.1");
    assertEquals(2, range.exit());
    assertTrue(
        range.err().contains("the lr range must be 0 < start < end, got 1.0 to 0.1"), range.err());
    assertEquals(2, lrFind("--steps", "5").exit());
    assertEquals(2, lrFind("--norms", "batch,batch").exit());
    assertEquals(2, lrFind("--lr-find").exit());
  }
}
