package dev.normlab.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.normlab.track.store.RunQuery;
import dev.normlab.track.store.RunStore;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code sweep}: every combination of the --param values, each norm, in one group. */
class SweepTest {
  @TempDir Path tmp;

  private Cli.Result run(String command, String out, String... extra) {
    return runNorms(command, "batch,group", out, extra);
  }

  private Cli.Result runNorms(String command, String norms, String out, String... extra) {
    List<String> args = new ArrayList<>(List.of("--epochs", "1"));
    args.addAll(List.of(extra));
    return Cli.smallSeries(command, norms, tmp.resolve(out), args.toArray(String[]::new));
  }

  /** The table's row for {@code norm} whose swept columns read {@code values}, split at spaces. */
  private static String[] row(String out, String norm, String... values) {
    return out.lines()
        .map(l -> l.trim().split("\\s+"))
        .filter(f -> f[0].equals(norm) && f.length > values.length + 2)
        .filter(f -> List.of(f).subList(1, 1 + values.length).equals(List.of(values)))
        .findFirst()
        .orElseThrow(
            () -> new AssertionError("no row " + norm + " " + List.of(values) + ":\n" + out));
  }

  @Test
  void eachPointIsTheRunItsOptionsGiveAloneAndTheStoreHoldsItsValues() throws Exception {
    Cli.Result sweep = run("sweep", "s", "--param", "lr=0.005,0.03", "--param", "momentum=0.5,0.9");
    assertEquals(0, sweep.exit(), sweep.all());
    assertTrue(sweep.err().contains("sweep: 4 points x 2 norms x 1 seed = 8 runs"), sweep.err());
    // The first parameter varies slowest, the norms fastest.
    List<String> order =
        sweep.out().lines().filter(l -> l.matches("\\[\\S+\\] epoch 1:.*")).toList();
    assertEquals(8, order.size(), sweep.out());
    assertTrue(order.get(0).startsWith("[batch-lr=0.005-momentum=0.5]"), order.get(0));
    assertTrue(order.get(1).startsWith("[group-lr=0.005-momentum=0.5]"), order.get(1));
    assertTrue(order.get(2).startsWith("[batch-lr=0.005-momentum=0.9]"), order.get(2));
    assertTrue(order.get(7).startsWith("[group-lr=0.03-momentum=0.9]"), order.get(7));

    double sum = 0;
    double best = 0;
    double batchSum = 0;
    for (String lr : List.of("0.005", "0.03")) {
      for (String m : List.of("0.5", "0.9")) {
        String[] swept = row(sweep.out(), "batch", lr, m);
        Cli.Result alone = run("compare", "a" + lr + m, "--lr", lr, "--momentum", m, "--no-track");
        assertEquals(0, alone.exit(), alone.all());
        String[] single = row(alone.out(), "batch");
        assertEquals(single[1], swept[3], "acc at lr " + lr + " momentum " + m);
        assertEquals(single[2], swept[4], "loss at lr " + lr + " momentum " + m);
        if (lr.equals("0.03")) {
          sum +=
              Double.parseDouble(swept[3])
                  + Double.parseDouble(row(sweep.out(), "group", lr, m)[3]);
        }
        batchSum += Double.parseDouble(swept[3]);
        best = Math.max(best, Double.parseDouble(swept[3]));
        best = Math.max(best, Double.parseDouble(row(sweep.out(), "group", lr, m)[3]));
      }
    }
    // The per-value table: lr 0.03's mean over its 4 runs, and the best run overall.
    String[] byValue =
        sweep
            .out()
            .lines()
            .map(l -> l.trim().split("\\s+"))
            .filter(f -> f.length == 6 && f[0].equals("lr") && f[1].equals("0.03"))
            .findFirst()
            .orElseThrow();
    assertEquals("4", byValue[2]);
    assertEquals("0", byValue[3]); // none diverged
    assertEquals(sum / 4, Double.parseDouble(byValue[4]), 0.006);
    assertTrue(sweep.out().contains("best run: "), sweep.out());
    assertTrue(sweep.out().contains(String.format("%.2f %%", best)), sweep.out());
    // Parameter importance: a line per option that varies (the seed does not), the shares adding
    // to 1, the norm's words with the mean accuracy of their 4 runs.
    List<String[]> importance =
        sweep
            .out()
            .lines()
            .dropWhile(
                l -> !l.startsWith("parameter importance for test accuracy (random forest over 8"))
            .skip(1)
            .takeWhile(l -> l.startsWith("  "))
            .map(l -> l.trim().split("\\s+"))
            .toList();
    assertEquals(
        List.of("lr", "momentum", "norm"),
        importance.stream().map(f -> f[0]).sorted().toList(),
        sweep.out());
    assertEquals(1.0, importance.stream().mapToDouble(f -> Double.parseDouble(f[1])).sum(), 0.0151);
    String[] norm = importance.stream().filter(f -> f[0].equals("norm")).findFirst().orElseThrow();
    String batchMean = String.format(java.util.Locale.ROOT, "%.2f", batchSum / 4);
    assertTrue(
        String.join(" ", norm).matches(".*mean acc \\(%\\) .*batch " + batchMean + ".*"),
        String.join(" ", norm) + " vs batch mean " + batchMean);

    try (RunStore s = RunStore.openExisting(tmp.resolve("s/runs.db"))) {
      RunQuery q = s.query();
      List<RunQuery.RunInfo> runs = q.runs(RunQuery.Filter.all());
      assertEquals(8, runs.size());
      Map<String, String> seen = new LinkedHashMap<>();
      for (RunQuery.RunInfo r : runs) {
        assertTrue(r.group().startsWith("sweep-mnist-"), r.group());
        assertEquals("finished", r.status(), r.name());
        var c = q.config(r.id());
        seen.put(
            r.name().substring(r.group().length() + 1),
            c.get("norm").json() + " " + c.get("lr").number() + " " + c.get("momentum").number());
      }
      assertEquals("\"group\" 0.03 0.5", seen.get("group-lr=0.03-momentum=0.5"), seen.toString());
      assertEquals("\"batch\" 0.005 0.9", seen.get("batch-lr=0.005-momentum=0.9"), seen.toString());
    }
  }

  @Test
  void lrForBatchScalesEachBatchSizesLrLinearlyAndRecordsTheLrAsGiven() throws Exception {
    Cli.Result sweep =
        runNorms(
            "sweep",
            "batch",
            "lfb",
            "--param",
            "lr=0.02,0.04",
            "--param",
            "batch-size=16,32",
            "--lr-for-batch",
            "64");
    assertEquals(0, sweep.exit(), sweep.all());
    assertTrue(
        sweep
            .out()
            .contains(
                "lr by the linear scaling rule (0.0200 for a batch of 64): batch 16 0.00500 batch"
                    + " 32 0.0100\nlr by the linear scaling rule (0.0400 for a batch of 64):"
                    + " batch 16 0.0100 batch 32 0.0200\n"),
        sweep.out());
    // A batch size's run is the run its scaled lr gives without the rule.
    Cli.Result alone =
        run("compare", "lfb-alone", "--batch-size", "16", "--lr", "0.005", "--no-track");
    assertEquals(0, alone.exit(), alone.all());
    String[] single = row(alone.out(), "batch");
    String[] swept = row(sweep.out(), "batch", "0.02", "16");
    assertEquals(single[1] + " " + single[2], swept[3] + " " + swept[4], sweep.out());
    try (RunStore s = RunStore.openExisting(tmp.resolve("lfb/runs.db"))) {
      RunQuery q = s.query();
      Map<String, String> seen = new LinkedHashMap<>();
      for (RunQuery.RunInfo r : q.runs(RunQuery.Filter.all())) {
        var c = q.config(r.id());
        seen.put(
            r.name().substring(r.group().length() + 1),
            c.get("lr").number()
                + " "
                + c.get("lr_scaling.base_lr").number()
                + " "
                + c.get("lr_scaling.base_batch").number());
      }
      assertEquals(
          Map.of(
              "batch-lr=0.02-batch_size=16", "0.005 0.02 64.0",
              "batch-lr=0.02-batch_size=32", "0.01 0.02 64.0",
              "batch-lr=0.04-batch_size=16", "0.01 0.04 64.0",
              "batch-lr=0.04-batch_size=32", "0.02 0.04 64.0"),
          seen);
    }
  }

  @Test
  void seedsMultiplyThePointsAndEachSettingGetsItsSpread() {
    Cli.Result r = runNorms("sweep", "batch", "s", "--param", "batch_size=16,32", "--seeds", "1,2");
    assertEquals(0, r.exit(), r.all());
    assertTrue(r.err().contains("2 points x 1 norm x 2 seeds = 4 runs"), r.err());
    assertTrue(r.out().contains("[batch-batch_size=32-s2] epoch 1:"), r.out());
    // The seed summary has one line per norm and point, over its two seeds.
    String summary =
        r.out().lines().filter(l -> l.startsWith("batch-batch_size=16 ")).findFirst().orElseThrow();
    assertEquals("2", summary.trim().split("\\s+")[1], summary);
  }

  @Test
  void aDivergingRunIsARowOfTheSeriesNotItsEnd() throws Exception {
    Cli.Result r = run("sweep", "d", "--param", "lr=1e30,0.01");
    assertEquals(0, r.exit(), r.all());
    assertTrue(
        r.err().contains("[batch-lr=1e30] diverged: step 2 (epoch 1): loss became NaN"), r.err());
    assertEquals(
        "diverged step 2", String.join(" ", List.of(row(r.out(), "group", "1e30")).subList(2, 5)));
    row(r.out(), "group", "0.01"); // the runs after it still trained
    assertTrue(r.out().contains("2 of 4 runs diverged"), r.out());
    String[] byValue =
        r.out()
            .lines()
            .map(l -> l.trim().split("\\s+"))
            .filter(f -> f[0].equals("lr") && f[1].equals("1e30"))
            .findFirst()
            .orElseThrow();
    assertEquals(List.of("lr", "1e30", "2", "2", "-", "-"), List.of(byValue));
    try (RunStore s = RunStore.openExisting(tmp.resolve("d/runs.db"))) {
      Map<String, String> status = new LinkedHashMap<>();
      for (RunQuery.RunInfo info : s.query().runs(RunQuery.Filter.all())) {
        status.put(info.name().substring(info.group().length() + 1), info.status());
      }
      assertEquals(
          Map.of(
              "batch-lr=1e30", "failed",
              "group-lr=1e30", "failed",
              "batch-lr=0.01", "finished",
              "group-lr=0.01", "finished"),
          status);
    }
    // compare goes on past a diverged norm too, but ends with exit code 1.
    Cli.Result c = runNorms("compare", "batch", "c", "--lr", "1e30", "--no-track");
    assertEquals(1, c.exit(), c.all());
    assertTrue(c.out().contains("1 of 1 runs diverged"), c.out());
  }

  @Test
  void aFinishedSweepResumedEndsWithTheSameTableAndRuns() throws Exception {
    String[] args = {"--param", "lr=0.01,0.03", "--group", "g"};
    Cli.Result first = run("sweep", "r", args);
    assertEquals(0, first.exit(), first.all());
    List<String> resumeArgs = new ArrayList<>(List.of(args));
    resumeArgs.add("--resume");
    Cli.Result again = run("sweep", "r", resumeArgs.toArray(String[]::new));
    assertEquals(0, again.exit(), again.all());
    assertTrue(again.out().contains("(1 of 1 epochs done"), again.out());
    for (String norm : List.of("batch", "group")) {
      for (String lr : List.of("0.01", "0.03")) {
        assertEquals(
            List.of(row(first.out(), norm, lr)).subList(0, 4),
            List.of(row(again.out(), norm, lr)).subList(0, 4));
      }
    }
    try (RunStore s = RunStore.openExisting(tmp.resolve("r/runs.db"))) {
      RunQuery q = s.query();
      List<RunQuery.RunInfo> runs = q.runs(RunQuery.Filter.all());
      assertEquals(4, runs.size(), "resumed in place, no new runs");
      for (RunQuery.RunInfo r : runs) {
        assertEquals("finished", r.status(), r.name());
      }
    }
  }

  @Test
  void stopEarlyEndsARunBelowTheMedianAndAResumeKeepsItStopped() throws Exception {
    String[] args = {
      "--epochs", "2", "--param", "lr=0.01,0.02,0.03,0.00001", "--stop-early", "--group", "g"
    };
    Path out = tmp.resolve("e");
    Cli.Result r = Cli.smallSeries("sweep", "batch", out, args);
    assertEquals(0, r.exit(), r.all());
    assertTrue(
        r.err().contains("[batch-lr=0.00001] stopped early after epoch 1: test accuracy"), r.err());
    assertTrue(r.err().contains("below the median"), r.err());
    assertTrue(
        r.out().contains("[batch-lr=0.03] epoch 2:"), r.out()); // three earlier runs: no pool
    assertFalse(r.out().contains("[batch-lr=0.00001] epoch 2:"), r.out());
    String row =
        r.out()
            .lines()
            .filter(l -> l.startsWith("batch ") && l.contains(" 0.00001 "))
            .findFirst()
            .orElseThrow();
    assertTrue(row.endsWith("stopped after epoch 1 of 2"), row);

    List<String> again = new ArrayList<>(List.of(args));
    again.add("--resume");
    Cli.Result resumed = Cli.smallSeries("sweep", "batch", out, again.toArray(String[]::new));
    assertEquals(0, resumed.exit(), resumed.all());
    assertFalse(resumed.out().contains("epoch 2:"), resumed.out()); // nothing trains again
    assertTrue(resumed.out().contains(row), resumed.out());

    try (RunStore s = RunStore.openExisting(out.resolve("runs.db"))) {
      RunQuery q = s.query();
      for (RunQuery.RunInfo info : q.runs(RunQuery.Filter.all())) {
        assertEquals("finished", info.status(), info.name());
        int epochs = info.name().endsWith("lr=0.00001") ? 1 : 2;
        assertEquals(epochs == 1, info.tags().contains("stopped-early"), info.name() + info.tags());
        assertEquals(epochs, q.history(info.id(), "test/accuracy").size(), info.name());
        assertEquals(64, q.predictions(info.id(), false).size(), info.name());
      }
    }
  }

  /** Each argument list is a usage error (exit 2) whose message holds its text; none trains. */
  private void assertUsageErrors(Map<List<String>, String> cases) {
    for (Map.Entry<List<String>, String> c : cases.entrySet()) {
      Cli.Result r = run("sweep", "x", c.getKey().toArray(String[]::new));
      assertEquals(2, r.exit(), c.getKey() + ": " + r.all());
      assertTrue(r.err().contains(c.getValue()), c.getKey() + ": " + r.err());
      assertFalse(r.out().contains("epoch 1:"), c.getKey() + ": trained\n" + r.out());
    }
  }

  @Test
  void badParamsAreUsageErrorsBeforeAnyTraining() {
    Map<List<String>, String> cases = new LinkedHashMap<>();
    cases.put(List.of("--param", "threads=1,2"), "--param threads: not an option a sweep can vary");
    cases.put(List.of("--param", "seed=1,2"), "sweep seeds with --seeds");
    cases.put(List.of("--param", "norm=batch"), "sweep norms with --norms");
    cases.put(List.of("--param", "lr"), "--param takes NAME=V1,V2,...");
    cases.put(List.of("--param", "lr=0.1,x"), "--param lr: 'x' is not a number");
    cases.put(
        List.of("--param", "batch-size=32,6.4"), "--param batch-size: '6.4' is not an integer");
    cases.put(List.of("--param", "nesterov=yes"), "--param nesterov: 'yes' is not true or false");
    cases.put(List.of("--param", "lr=0.1,,0.2"), "--param lr: empty or bad value");
    cases.put(List.of("--param", "lr=0.1,0.1"), "--param lr repeats a value: [0.1, 0.1]");
    cases.put(List.of("--param", "lr=0.1", "--param", "lr=0.2"), "--param lr is given twice");
    cases.put(
        List.of("--lr", "0.1", "--param", "lr=0.2,0.3"),
        "--lr is swept by --param lr; give its values there only");
    cases.put(
        List.of("--param", "optimizer=sgd,adam", "--momentum", "0.5"),
        "at optimizer=adam: --momentum does not apply to --optimizer adam");
    cases.put(
        List.of("--param", "nesterov=true,false", "--param", "momentum=0,0.9"),
        "at nesterov=true, momentum=0: nesterov needs a momentum > 0");
    cases.put(List.of("--param", "lr=0.01,-1"), "lr must be > 0, got -1.0");
    cases.put(
        List.of("--param", "groups=8,3"),
        "at groups=3: Group Norm's groups must divide both convolutions' channel counts (32 and"
            + " 64): 1, 2, 4, 8, 16 or 32, got 3");
    cases.put(
        List.of("--param", "lr=0.01", "--lr-for-batch", "0"), "--lr-for-batch must be >= 1, got 0");
    cases.put(
        List.of("--param", "momentum=0.5", "--lr-for-batch", "64", "--lr-find"),
        "--lr-for-batch scales --lr, and --lr-find chooses the lr");
    cases.put(List.of(), "Missing required option: '--param=NAME=V1,V2,...'");
    cases.put(List.of("--param", "lr=0.1", "--norms", "batch"), "--norms repeats a norm");
    cases.put(List.of("--param", "lr=0.1", "--resume"), "--resume continues a series by its group");
    cases.put(
        List.of("--param", "lr=0.1", "--stop-early"), "--stop-early stops runs between epochs");
    cases.put(
        List.of("--param", "lr=0.1", "--stop-early-from", "2"),
        "--stop-early-from needs --stop-early");
    assertUsageErrors(cases);
  }

  @Test
  void pointsAreTheProductFirstParameterSlowest() {
    Map<String, SweepCommand.Param> grid = new LinkedHashMap<>();
    grid.put("lr", new SweepCommand.Param("lr", List.of("0.1", "0.2"), 0, 0, false));
    grid.put(
        "batch-size", new SweepCommand.Param("batch-size", List.of("8", "16", "32"), 0, 0, false));
    List<RunSeries.Point> points = SweepCommand.points(grid);
    assertEquals(6, points.size());
    assertEquals("-lr=0.1-batch_size=8", points.get(0).suffix());
    assertEquals("-lr=0.1-batch_size=32", points.get(2).suffix());
    assertEquals("-lr=0.2-batch_size=8", points.get(3).suffix());
    assertEquals(
        List.of(Map.of()),
        SweepCommand.points(Map.of()).stream().map(RunSeries.Point::values).toList());
  }

  /** The lr of each run line's label, e.g. {@code [batch-lr=0.00412-momentum=0.9] epoch 1:}. */
  private static List<String> drawn(String out, String key) {
    return out.lines()
        .filter(l -> l.matches("\\[\\S+\\] epoch 1:.*"))
        .map(l -> l.replaceAll(".*-" + key + "=([^-\\]]+).*", "$1"))
        .toList();
  }

  @Test
  void randomSearchDrawsFromRangesAndListsReproducibly() throws Exception {
    String[] args = {
      "--random", "3", "--param", "lr=0.001..0.1:log", "--param", "momentum=0.5,0.9"
    };
    Cli.Result a = runNorms("sweep", "batch", "a", args);
    assertEquals(0, a.exit(), a.all());
    assertTrue(a.err().contains("sweep: 3 random points x 1 norm x 1 seed = 3 runs"), a.err());
    List<String> lrs = drawn(a.out(), "lr");
    assertEquals(3, lrs.size(), a.out());
    for (String lr : lrs) {
      double v = Double.parseDouble(lr);
      assertTrue(v >= 0.001 && v <= 0.1, lr);
      assertTrue(new java.math.BigDecimal(lr).precision() <= 3, lr); // 3 significant digits
    }
    for (String m : drawn(a.out(), "momentum")) {
      assertTrue(m.equals("0.5") || m.equals("0.9"), m);
    }
    // the drawn lr's rank correlation with accuracy, beside its importance
    assertTrue(
        a.out().lines().anyMatch(l -> l.matches("  lr +[01]\\.\\d\\d   Spearman -?[01]\\.\\d\\d")),
        a.out());
    // The store holds the drawn value the run trained with.
    try (RunStore s = RunStore.openExisting(tmp.resolve("a/runs.db"))) {
      RunQuery q = s.query();
      for (RunQuery.RunInfo r : q.runs(RunQuery.Filter.all())) {
        String lr = r.name().replaceAll(".*-lr=([^-]+)-.*", "$1");
        assertEquals(Double.parseDouble(lr), q.config(r.id()).get("lr").number(), r.name());
      }
    }
    // The same --sweep-seed draws the same points; another draws others.
    Cli.Result again = runNorms("sweep", "batch", "b", args);
    assertEquals(lrs, drawn(again.out(), "lr"));
    List<String> withSeed = new ArrayList<>(List.of(args));
    withSeed.addAll(List.of("--sweep-seed", "7"));
    Cli.Result other = runNorms("sweep", "batch", "c", withSeed.toArray(String[]::new));
    assertEquals(0, other.exit(), other.all());
    assertFalse(lrs.equals(drawn(other.out(), "lr")), lrs + " twice");
  }

  @Test
  void rangeAndRandomMistakesAreUsageErrors() {
    Map<List<String>, String> cases = new LinkedHashMap<>();
    cases.put(
        List.of("--param", "lr=0.001..0.1"),
        "--param lr=0.001..0.1 is a range: give --random N (a grid takes a list)");
    cases.put(List.of("--random", "2", "--param", "lr=0.1..0.01"), "a range needs MIN < MAX");
    cases.put(List.of("--random", "2", "--param", "lr=0..0.1:log"), "a log range needs MIN > 0");
    cases.put(
        List.of("--random", "2", "--param", "optimizer=sgd..adam"),
        "--param optimizer: a range needs a numeric option");
    cases.put(
        List.of("--random", "5", "--param", "momentum=0.5,0.9"),
        "--random 5: only 2 distinct points could be drawn");
    cases.put(List.of("--random", "0", "--param", "lr=0.1"), "--random must be >= 1, got 0");
    cases.put(
        List.of("--sweep-seed", "3", "--param", "lr=0.1"), "--sweep-seed seeds --random's draws");
    assertUsageErrors(cases);
  }

  @Test
  void rounding() {
    assertEquals("0.00412", SweepCommand.fmt(0.0041234));
    assertEquals("0.1", SweepCommand.fmt(0.1000001));
    assertEquals("25", SweepCommand.fmt(25.04));
  }
}
