package dev.normlab.track.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.normlab.train.EpochResult;
import dev.normlab.train.TrainConfig;
import dev.normlab.train.TrainResult;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The listener driven with the events a Trainer sends. */
class TrackingListenerTest {
  @TempDir Path dir;

  private static TrainConfig config(boolean resume) {
    return new TrainConfig(
        "mnist",
        "instance",
        8,
        2,
        0.01,
        0.9,
        0,
        64,
        3,
        1,
        Path.of("/data"),
        256,
        128,
        Path.of("ck/run"),
        resume);
  }

  private static EpochResult epoch(int e, long step, double acc) {
    return new EpochResult(
        e, step, 0.5 / e, 0.4 / e, acc, new double[] {acc - 1, acc + 1}, 900, 2.5, Double.NaN);
  }

  @Test
  void recordsStepsEpochsPredictionsConfigAndFinish() {
    try (RunStore s = RunStore.open(dir.resolve("runs.db"))) {
      TrainConfig c = config(false);
      var l =
          new TrackingListener(s, "mnist-instance", "g1", List.of("demo"), c)
              .systemMetricsEvery(Duration.ofHours(1)); // only the first step and epoch ends
      l.onStart(c, 8);
      for (long step = 1; step <= 4; step++) {
        l.onStep(step, 1, 1.0 / step, 0.01, 100 * step);
      }
      l.onEpoch(epoch(1, 4, 90));
      for (long step = 5; step <= 8; step++) {
        l.onStep(step, 2, 1.0 / step, 0.01, 100 * step);
      }
      l.onEpoch(epoch(2, 8, 89));
      l.onPredictions(RunWriterTest.predictions(3));
      l.onFinish(new TrainResult(c, List.of(), 5, null, null));
      String id = l.runId();
      var q = s.query();
      var run = q.run(id).orElseThrow();
      assertEquals("finished", run.status());
      assertEquals("g1", run.group());
      assertEquals(List.of("demo", "instance", "mnist"), run.tags());
      assertEquals(
          List.of(
              "epoch",
              "system/cpu_percent",
              "system/gc_percent",
              "system/heap_used_mib",
              "system/peak_rss_mib",
              "system/rss_mib",
              "test/accuracy",
              "test/accuracy_class_0",
              "test/accuracy_class_1",
              "test/loss",
              "train/epoch_loss",
              "train/epoch_seconds",
              "train/images_per_sec",
              "train/loss",
              "train/lr"),
          q.metricKeys(id));
      assertEquals(8, q.history(id, "train/loss").size());
      assertEquals(List.of(4L, 8L), q.history(id, "epoch").stream().map(p -> p.step()).toList());
      assertEquals(List.of(1L, 4L, 8L), steps(q, id, "system/rss_mib"));
      assertTrue(q.history(id, "system/rss_mib").get(0).value() > 1, "MiB of this JVM");
      var sum = q.summary(id);
      assertEquals(new RunQuery.SummaryValue("best_max", 90.0, 4L), sum.get("test/accuracy"));
      assertEquals(new RunQuery.SummaryValue("best_min", 0.2, 8L), sum.get("test/loss"));
      assertEquals(new RunQuery.SummaryValue("last", 0.125, 8L), sum.get("train/loss"));
      var cfg = q.config(id);
      for (String k :
          List.of(
              "dataset",
              "norm",
              "groups",
              "epochs",
              "optimizer",
              "lr",
              "momentum",
              "weight_decay",
              "batch_size",
              "seed",
              "threads",
              "limit_train",
              "limit_test",
              "data_dir",
              "checkpoint_dir",
              "resume")) {
        assertNotNull(cfg.get(k), k);
      }
      assertEquals("\"instance\"", cfg.get("norm").json());
      assertEquals(3.0, cfg.get("seed").number());
      // where it ran, beside what it trained
      assertEquals(
          (double) Runtime.getRuntime().availableProcessors(), cfg.get("env.cores").number());
      assertNotNull(cfg.get("env.java"));
      assertNotNull(cfg.get("env.vector_bits").number());
      assertEquals("max", sum.get("system/peak_rss_mib").rule());
      assertEquals(3, q.predictions(id, false).size());
    }
  }

  private static List<Long> steps(RunQuery q, String id, String key) {
    return q.history(id, key).stream().map(p -> p.step()).toList();
  }

  @Test
  void systemMetricsAtEveryStepWithAZeroInterval() {
    try (RunStore s = RunStore.open(dir.resolve("runs.db"))) {
      TrainConfig c = config(false);
      var l = new TrackingListener(s, "x", "g", List.of(), c).systemMetricsEvery(Duration.ZERO);
      l.onStart(c, 4);
      for (long step = 1; step <= 4; step++) {
        l.onStep(step, 1, 1.0 / step, 0.01, 10);
      }
      l.onEpoch(epoch(1, 4, 90)); // step 4 has its sample: none twice
      l.onFinish(new TrainResult(c, List.of(), 5, null, null));
      assertEquals(List.of(1L, 2L, 3L, 4L), steps(s.query(), l.runId(), "system/cpu_percent"));
      assertThrows(
          IllegalArgumentException.class, () -> l.systemMetricsEvery(Duration.ofMillis(-1)));
    }
  }

  @Test
  void failureMarksTheRunFailedWithTheMessage() {
    try (RunStore s = RunStore.open(dir.resolve("runs.db"))) {
      TrainConfig c = config(false);
      var l = new TrackingListener(s, "x", "g", List.of(), c);
      l.onStart(c, 8);
      l.onStep(1, 1, 0.5, 0.01, 10);
      l.onFailure(new ArithmeticException("loss became NaN at step 2 (epoch 1)"));
      var run = s.query().run(l.runId()).orElseThrow();
      assertEquals("failed", run.status());
      assertEquals("loss became NaN at step 2 (epoch 1)", run.error());
      assertEquals(1, s.query().history(run.id(), "train/loss").size());
      // a failure before the start (e.g. no dataset) is recorded too, with the planned config
      var early = new TrackingListener(s, "y", "g", List.of(), c);
      early.onFailure(new IllegalStateException("no mnist dataset found"));
      var e = s.query().run(early.runId()).orElseThrow();
      assertEquals("failed", e.status());
      assertEquals("\"instance\"", s.query().config(e.id()).get("norm").json());
    }
  }

  @Test
  void resumeContinuesTheLatestRunOfTheSameNameAfterItsCheckpoint() {
    try (RunStore s = RunStore.open(dir.resolve("runs.db"))) {
      TrainConfig c = config(false);
      var first =
          new TrackingListener(s, "r", "g", List.of(), c).systemMetricsEvery(Duration.ofHours(1));
      first.onStart(c, 8);
      for (long step = 1; step <= 6; step++) { // epoch 1 checkpointed at step 4, then killed
        first.onStep(step, step <= 4 ? 1 : 2, 1.0 / step, 0.01, 10);
        if (step == 4) {
          first.onEpoch(epoch(1, 4, 90));
        }
      }
      first.close(); // the process died: killed
      String id = first.runId();
      assertEquals("killed", s.query().run(id).orElseThrow().status());

      TrainConfig rc = config(true);
      var second =
          new TrackingListener(s, "r", "g", List.of(), rc).systemMetricsEvery(Duration.ofHours(1));
      second.onStart(rc, 8);
      assertEquals(id, second.runId());
      for (long step = 5; step <= 8; step++) { // steps 5 and 6 again: no duplicate error
        second.onStep(step, 2, 0.9 / step, 0.01, 10);
      }
      second.onEpoch(epoch(2, 8, 95));
      second.onFinish(new TrainResult(rc, List.of(), 5, null, null));
      var q = s.query();
      assertEquals("finished", q.run(id).orElseThrow().status());
      var loss = q.history(id, "train/loss");
      assertEquals(8, loss.size());
      assertEquals(0.9 / 5, loss.get(4).value(), 1e-12); // the redone step
      // the dead process's samples up to its checkpoint, then the new one's from its first step
      assertEquals(List.of(1L, 4L, 5L, 8L), steps(q, id, "system/rss_mib"));
      assertEquals(95.0, q.summary(id).get("test/accuracy").value());
      assertTrue(q.runs(RunQuery.Filter.all()).size() == 1);
    }
  }
}
