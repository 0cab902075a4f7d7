package dev.normlab.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.normlab.io.Json;
import dev.normlab.track.store.RunQuery;
import dev.normlab.track.store.RunStore;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code normlab train} records its run; {@code runs} and {@code export} read it back. */
class TrackingCliTest {
  @TempDir Path dir;

  /** What a CLI call printed, and its exit code. */
  record Result(int code, String out, String err) {}

  static Result cli(String... args) {
    PrintStream oldOut = System.out;
    PrintStream oldErr = System.err;
    var out = new ByteArrayOutputStream();
    var err = new ByteArrayOutputStream();
    try {
      System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
      System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
      int code = Main.run(args);
      return new Result(
          code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    } finally {
      System.setOut(oldOut);
      System.setErr(oldErr);
    }
  }

  /**
   * {@code ../shared/datasets} beside the repository when there is one; otherwise the CLI finds (or
   * downloads) the data itself.
   */
  static List<String> dataDirArgs() {
    for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
      if (Files.exists(d.resolve("mvnw")) && d.getParent() != null) {
        Path p = d.getParent().resolve("shared").resolve("datasets");
        if (Files.isDirectory(p.resolve("mnist"))) {
          return List.of("--data-dir", p.toString());
        }
      }
    }
    return List.of();
  }

  private static String[] concat(List<String> a, List<String> b) {
    List<String> all = new ArrayList<>(a);
    all.addAll(b);
    return all.toArray(String[]::new);
  }

  /** A tiny training run; {@code extra} options replace the defaults of the same name. */
  private Result train(String... extra) {
    List<String> args = new ArrayList<>(List.of("train"));
    args.addAll(List.of(extra));
    String[][] defaults = {
      {"--norm", "instance"},
      {"--limit-train", "256"},
      {"--limit-test", "128"},
      {"--epochs", "1"},
      {"--threads", "1"},
      {"--out", dir.resolve("out").toString()}
    };
    for (String[] d : defaults) {
      if (!args.contains(d[0])) {
        args.addAll(List.of(d));
      }
    }
    args.addAll(dataDirArgs());
    return cli(args.toArray(String[]::new));
  }

  @Test
  void trainRecordsItsRunAndRunsAndExportReadItBack() throws Exception {
    Result r = train();
    assertEquals(0, r.code(), r.err());
    Path db = dir.resolve("out").resolve("runs.db");
    assertTrue(r.out().contains("runs:        " + db.toAbsolutePath()), r.out());
    // the report of what just ran, with the store it went to; the checkpoints' line stays last
    assertTrue(
        r.out()
            .contains("report:      ./normlab report --group train --store " + db.toAbsolutePath()),
        r.out());
    assertTrue(
        r.out().strip().lines().reduce((a, b) -> b).orElseThrow().startsWith("checkpoints:"));
    String id;
    try (RunStore s = RunStore.openExisting(db)) {
      RunQuery q = s.query();
      var runs = q.runs(RunQuery.Filter.all());
      assertEquals(1, runs.size());
      var run = runs.get(0);
      id = run.id();
      assertEquals("mnist-instance-s0", run.name());
      assertEquals("train", run.group());
      assertEquals("finished", run.status());
      assertEquals(4, q.history(id, "train/loss").size()); // 256 images / batch 64
      assertEquals(4, q.history(id, "train/lr").size());
      assertEquals(1, q.history(id, "test/accuracy").size());
      double trainAcc = q.history(id, "train/accuracy").get(0).value();
      assertEquals(Math.rint(trainAcc * 2.56), trainAcc * 2.56, 1e-9, "of 256 images");
      assertTrue(r.out().contains(String.format("train acc %.2f%%", trainAcc)), r.out());
      assertEquals(4L, q.history(id, "test/accuracy").get(0).step());
      assertEquals(
          10, q.metricKeys(id).stream().filter(k -> k.startsWith("test/accuracy_class_")).count());
      var acc = q.summary(id).get("test/accuracy");
      assertEquals("best_max", acc.rule());
      assertTrue(acc.value() >= 0 && acc.value() <= 100);
      assertEquals("best_min", q.summary(id).get("test/loss").rule());
      assertEquals("last", q.summary(id).get("train/loss").rule());
      assertEquals("\"instance\"", q.config(id).get("norm").json());
      assertEquals(256.0, q.config(id).get("limit_train").number());
      // where it ran and the command that ran it; the process's resources from the first step on
      String command = q.config(id).get("env.command").json();
      assertTrue(command.startsWith("\"normlab train --norm instance --limit-train 256"), command);
      assertEquals(1L, q.history(id, "system/rss_mib").get(0).step());
      double peak = q.summary(id).get("system/peak_rss_mib").value();
      assertTrue(
          r.out()
              .matches(
                  "(?s).*\npeak memory: \\d+ MiB resident \\(this process, all its runs\\)\n.*"),
          r.out());
      assertTrue(peak > 1, "MiB: " + peak);
      var preds = q.predictions(id, true);
      assertEquals(128, preds.size());
      assertEquals(0, preds.get(0).exampleId());
      assertEquals(7, preds.get(0).label()); // MNIST's first test digit
      assertNotNull(preds.get(0).png());
      assertEquals(128, q.tableRows(id, "predictions"));
      assertEquals("ok", s.integrityCheck());
    }

    // the run's checkpoints, found through the store
    Result ev =
        cli(
            concat(
                List.of(
                    "eval",
                    "--run",
                    id.substring(0, 5),
                    "--store",
                    db.toString(),
                    "--limit-test",
                    "128"),
                dataDirArgs()));
    assertEquals(0, ev.code(), ev.err());
    assertTrue(ev.out().contains("best.safetensors (norm instance, epoch 1): test acc "), ev.out());
    Path best = dir.resolve("out/checkpoints/mnist-instance-s0/best.safetensors");
    Files.delete(best);
    Result missing = cli("eval", "--run", id, "--store", db.toString());
    assertEquals(1, missing.code(), missing.out());
    assertTrue(
        missing
                .err()
                .contains(
                    "run "
                        + id
                        + " has no best checkpoint: "
                        + best.toAbsolutePath()
                        + " is missing")
            || missing
                .err()
                .contains("run " + id + " has no best checkpoint: " + best + " is missing"),
        missing.err());
    Result last =
        cli(
            concat(
                List.of(
                    "eval",
                    "--run",
                    id,
                    "--which",
                    "last",
                    "--store",
                    db.toString(),
                    "--limit-test",
                    "16"),
                dataDirArgs()));
    assertEquals(0, last.code(), last.err());
    assertTrue(last.out().contains("last.safetensors"), last.out());
    Result gone = cli("eval", "--run", "ffff", "--store", db.toString());
    assertTrue(gone.err().contains("no run with id or prefix ffff"), gone.err());

    Result runs = cli("runs", "--store", db.toString());
    assertEquals(0, runs.code(), runs.err());
    assertTrue(runs.out().contains(id), runs.out());
    assertTrue(runs.out().contains("mnist-instance-s0"), runs.out());
    assertTrue(runs.out().contains("finished"), runs.out());
    // each run's runtime, to its end, last
    assertTrue(
        runs.out().lines().findFirst().orElseThrow().endsWith("started              runtime"),
        runs.out());
    assertTrue(
        runs.out()
            .lines()
            .anyMatch(
                l ->
                    l.startsWith(id)
                        && l.matches(".* finished +[0-9.]+ +[0-9-]+ [0-9:]+ +[0-9]+:[0-9]{2}")),
        runs.out());
    Result none = cli("runs", "--store", db.toString(), "--status", "killed");
    assertTrue(none.out().startsWith("no runs match"), none.out());

    Path json = dir.resolve("export").resolve("run.json");
    Result ej =
        cli(
            "export",
            "--store",
            db.toString(),
            "--run",
            id,
            "--format",
            "json",
            "--out",
            json.toString());
    assertEquals(0, ej.code(), ej.err());
    Map<?, ?> doc = (Map<?, ?>) Json.parse(Files.readString(json));
    Map<?, ?> run = (Map<?, ?>) ((List<?>) doc.get("runs")).get(0);
    assertEquals(id, run.get("id"));
    assertEquals(128, ((List<?>) run.get("predictions")).size());

    Path csv = dir.resolve("export").resolve("csv");
    Result ec =
        cli(
            "export",
            "--store",
            db.toString(),
            "--group",
            "train",
            "--format",
            "csv",
            "--out",
            csv.toString());
    assertEquals(0, ec.code(), ec.err());
    assertEquals(1 + 128, Files.readAllLines(csv.resolve("predictions.csv")).size());
    assertEquals(2, Files.readAllLines(csv.resolve("runs.csv")).size());
  }

  @Test
  void aStoreThatIsNotOneFailsBeforeTraining() throws Exception {
    Path bad = dir.resolve("notes.txt");
    Files.writeString(bad, "not a database\n");
    Result r = train("--store", bad.toString());
    assertEquals(1, r.code());
    assertTrue(r.err().contains(bad.toAbsolutePath().toString()), r.err());
    assertTrue(r.err().contains("not a normlab run store"), r.err());
    assertFalse(r.err().contains("\tat "), r.err()); // no stack trace
    assertFalse(Files.exists(dir.resolve("out").resolve("checkpoints")), "trained anyway");
  }

  @Test
  void aWriteErrorMidRunStopsTrainingWithOneMessageAndAFailedRun() throws Exception {
    Path db = dir.resolve("out").resolve("runs.db");
    try (RunStore s = RunStore.open(db);
        var c = java.sql.DriverManager.getConnection("jdbc:sqlite:" + s.file());
        var st = c.createStatement()) {
      // the store refuses the first epoch's test loss, as a full disk would
      st.execute(
          "CREATE TRIGGER refuse BEFORE INSERT ON metrics WHEN NEW.key = 'test/loss'"
              + " BEGIN SELECT RAISE(ABORT, 'simulated write failure'); END");
    }
    Result r = train("--epochs", "2", "--limit-train", "128", "--limit-test", "32");
    assertEquals(1, r.code(), r.out());
    List<String> errors =
        r.err().lines().filter(l -> l.startsWith("normlab train: error:")).toList();
    assertEquals(1, errors.size(), r.err());
    assertTrue(errors.get(0).contains(db.toAbsolutePath().toString()), r.err());
    assertTrue(errors.get(0).contains("simulated write failure"), r.err());
    assertFalse(r.err().contains("\tat "), r.err());
    assertFalse(r.out().contains("epoch 2:"), "training went on: " + r.out());
    try (RunStore s = RunStore.openExisting(db)) {
      var run = s.query().runs(RunQuery.Filter.all()).get(0);
      assertEquals("failed", run.status());
      assertTrue(run.error().contains("simulated write failure"), run.error());
      // what was committed before the failure stays: a prefix of the steps (how long a prefix
      // depends on when the failing batch was flushed)
      var loss = s.query().history(run.id(), "train/loss");
      assertTrue(loss.size() <= 2, loss.toString());
      for (int i = 0; i < loss.size(); i++) {
        assertEquals(i + 1, loss.get(i).step());
      }
    }
  }

  @Test
  void optimizerAndScheduleOptionsReachTheRunAndItsRecord() throws Exception {
    Result r =
        train(
            "--epochs",
            "2",
            "--optimizer",
            "adamw",
            "--scheduler",
            "step",
            "--step-size",
            "1",
            "--gamma",
            "0.5",
            "--random-crop",
            "2");
    assertEquals(0, r.code(), r.err());
    assertTrue(
        r.out()
            .contains("adamw lr 0.001, betas 0.9/0.999, weight decay 0.01, lr x0.5 every 1 epoch"),
        r.out());
    assertTrue(
        r.out().matches("(?s).*epoch 1: .* lr 0\\.001\n.*epoch 2: .* lr 0\\.0005\n.*"), r.out());
    try (RunStore s = RunStore.openExisting(dir.resolve("out").resolve("runs.db"))) {
      RunQuery q = s.query();
      String id = q.runs(RunQuery.Filter.all()).get(0).id();
      var config = q.config(id);
      assertEquals("\"adamw\"", config.get("optimizer").json());
      assertEquals(0.001, config.get("lr").number()); // Adam's default lr
      assertEquals(0.01, config.get("weight_decay").number()); // AdamW's default decay
      assertEquals(0.999, config.get("beta2").number());
      assertEquals("\"step\"", config.get("scheduler").json());
      assertEquals(0.5, config.get("gamma").number());
      assertNull(config.get("momentum"));
      assertEquals(2.0, config.get("random_crop").number());
      var lrs = q.history(id, "train/lr").stream().map(p -> p.value()).toList();
      assertEquals(List.of(0.001, 0.001, 0.001, 0.001, 0.0005, 0.0005, 0.0005, 0.0005), lrs);
    }
  }

  @Test
  void watchRecordsLayerStatisticsAtTheWatchedStepsAlsoAcrossAResume() throws Exception {
    Result r = train("--watch", "2", "--norm", "group");
    assertEquals(0, r.code(), r.err());
    Result more = train("--watch", "2", "--norm", "group", "--resume", "--epochs", "2");
    assertEquals(0, more.code(), more.err());
    // train ends with the last watched step too
    assertTrue(more.out().matches("(?s).*inside the network.*\ngroup +8 +[0-9.]+ .*"), more.out());
    try (RunStore s = RunStore.openExisting(dir.resolve("out").resolve("runs.db"))) {
      RunQuery q = s.query();
      var runs = q.runs(RunQuery.Filter.all());
      assertEquals(1, runs.size(), "the resume continues the run");
      String id = runs.get(0).id();
      for (String key :
          List.of(
              "watch/act_std/conv2",
              "watch/dead_relu/fc1",
              "watch/grad_norm/total",
              "watch/update_ratio/norm2.weight")) {
        var steps = q.history(id, key).stream().map(p -> p.step()).toList();
        assertEquals(List.of(1L, 2L, 4L, 6L, 8L), steps, key); // 4 steps per epoch
      }
      long keys = q.metricKeys(id).stream().filter(k -> k.startsWith("watch/")).count();
      // 12 parameters x 3 norms and the total; 6 activations x (mean, std, 5 percentiles) and 3
      // dead fractions
      assertEquals(12 * 3 + 1 + 6 * 7 + 3, keys, q.metricKeys(id).toString());
      double dead = q.summary(id).get("watch/dead_relu/fc1").value();
      assertTrue(dead >= 0 && dead <= 1, "a fraction: " + dead);
    }
    Result unwatched = train("--norm", "layer");
    try (RunStore s = RunStore.openExisting(dir.resolve("out").resolve("runs.db"))) {
      var run =
          s.query().runs(RunQuery.Filter.all()).stream()
              .filter(x -> x.name().contains("layer"))
              .findFirst()
              .orElseThrow();
      assertTrue(
          s.query().metricKeys(run.id()).stream().noneMatch(k -> k.startsWith("watch/")),
          unwatched.out());
    }
  }

  @Test
  void watchWithoutAStoreOrWithANegativeIntervalIsAUsageError() {
    Result r = train("--watch", "--no-track");
    assertEquals(2, r.code(), r.out() + r.err());
    assertTrue(r.err().contains("--watch records into the run store"), r.err());
    Result negative = train("--watch", "-3");
    assertEquals(2, negative.code(), negative.out() + negative.err());
    assertTrue(negative.err().contains("--watch N must be >= 1"), negative.err());
  }

  @Test
  void resumeSaysWhereItContinuesFrom() {
    Result fresh = train("--no-track", "--resume");
    assertEquals(0, fresh.code(), fresh.err());
    assertTrue(
        fresh.out().contains("no checkpoint to resume from; starting from scratch"), fresh.out());
    Result more = train("--no-track", "--resume", "--epochs", "2");
    assertEquals(0, more.code(), more.err());
    assertTrue(more.out().contains("[instance] resuming from "), more.out());
    assertTrue(more.out().contains("(1 of 2 epochs done, step 4)"), more.out());
    assertFalse(more.out().contains("starting from scratch"), more.out());
  }

  @Test
  void noTrackWritesNoStoreAndReadersSayThereIsNone() {
    Result r = train("--no-track", "--limit-train", "64", "--limit-test", "32");
    assertEquals(0, r.code(), r.err());
    Path db = dir.resolve("out").resolve("runs.db");
    assertFalse(Files.exists(db));
    Result runs = cli("runs", "--store", db.toString());
    assertEquals(1, runs.code());
    assertTrue(runs.err().contains("no such file"), runs.err());
    assertFalse(
        runs.err().contains("internal error"), "a missing store is not a bug: " + runs.err());
    Result exp = cli("export", "--store", db.toString(), "--run", "abc", "--out", "x");
    assertEquals(1, exp.code());
    assertTrue(exp.err().contains("no such file"), exp.err());
    assertFalse(exp.err().contains("internal error"), exp.err());
    Result both = cli("export", "--run", "a", "--group", "b", "--out", "x");
    assertEquals(2, both.code()); // picocli usage error: mutually exclusive
  }
}
