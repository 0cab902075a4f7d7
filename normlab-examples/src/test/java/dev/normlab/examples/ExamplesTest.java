package dev.normlab.examples;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.normlab.tensor.Tensor;
import dev.normlab.track.store.RunQuery;
import dev.normlab.track.store.RunStore;
import dev.normlab.train.TrainResult;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ExamplesTest {
  @Test
  void groupNormWithCGroupsIsInstanceNormAndWithOneGroupIsLayerNorm() {
    GroupNormEnds.Result r = GroupNormEnds.run();
    assertTrue(r.groupsEqualChannelsVsInstance() < 1e-5, "G=C vs IN: " + r);
    assertTrue(r.oneGroupVsLayer() < 1e-5, "G=1 vs LN: " + r);
  }

  @Test
  void runningStatisticsAndBatchDependence() {
    RunningStats.Result r = RunningStats.run();
    assertEquals(100, r.bnBatchesTracked());
    for (int c = 0; c < 3; c++) {
      assertEquals(3.0, r.bnRunningMean()[c], 0.1, "running mean of channel " + c);
      assertEquals(4.0, r.bnRunningVar()[c], 0.4, "running var of channel " + c);
    }
    assertTrue(r.bnTrainBatchEffect() > 0.1, "BN in train mode depends on the batch: " + r);
    assertEquals(0.0, r.bnEvalBatchEffect(), 1e-6, "BN in eval mode does not");
    assertEquals(0.0, r.inBatchEffect(), 1e-6, "IN never does");
    assertEquals(0.0, r.plainInEvalMean(), 1e-4, "plain IN re-centres in eval");
    // tracked IN: (13 - 3) / 2 ~ 5 with the running statistics
    assertEquals(5.0, r.trackedInEvalMean(), 0.6, "tracked IN uses the running statistics");
  }

  @Test
  void ownRunIsLoggedToTheStore(@TempDir Path dir) {
    Path file = dir.resolve("runs.db");
    String id = LogOwnRun.run(file, 30);
    try (RunStore store = RunStore.open(file)) {
      RunQuery q = store.query();
      RunQuery.RunInfo run = q.run(id).orElseThrow();
      assertEquals("finished", run.status());
      assertEquals("gn-net-stripes", run.name());
      assertEquals(30, q.history(id, "train/loss").size());
      assertEquals("0.05", q.config(id).get("optim.lr").json());
      var loss = q.summary(id).get("train/loss");
      assertEquals("min", loss.rule());
      double first = q.history(id, "train/loss").get(0).value();
      assertTrue(loss.value() < first, "the minimum loss is below the first: " + loss);
      // the table of eight images, each 12 x 12 with its label, answer and probabilities
      assertEquals(8, q.tableRows(id, "examples"));
      RunQuery.Table table = q.tables(id).get(0);
      assertEquals("examples", table.name());
      assertTrue(
          table
              .rows()
              .get(0)
              .matches(
                  "\\[\\{\"w\":12,\"h\":12,\"png\":\"[A-Za-z0-9+/=]+\"},[01],[01],\\[.*\\]\\]"),
          table.rows().get(0));
    }
  }

  @Test
  void rangeTestOnOwnModelFindsWhereItsLossIsLowest() {
    var r = FindLearningRate.find(60);
    assertTrue(r.points().size() >= 10 && r.points().size() <= 60, "" + r.points().size());
    assertTrue(r.minLossLr() > 1e-5 && r.minLossLr() < 10, "lowest loss at " + r.minLossLr());
    assertEquals(r.minLossLr() / 10, r.suggestedLr(), 0);
    double first = r.points().get(0).smoothedLoss();
    double lowest = r.points().stream().mapToDouble(p -> p.smoothedLoss()).min().orElseThrow();
    assertTrue(lowest < 0.9 * first, "the stripes are learned: " + first + " -> " + lowest);
  }

  @Test
  void ownRunIsWatchedEveryTenthStep(@TempDir Path dir) {
    Path file = dir.resolve("runs.db");
    String id = LogOwnRun.runWatched(file, 25);
    try (RunStore store = RunStore.open(file)) {
      RunQuery q = store.query();
      var keys = q.metricKeys(id);
      for (String key :
          List.of(
              "watch/act_std/features.1", // the first GroupNorm's output
              "watch/dead_relu/features.1", // a ReLU follows it
              "watch/act_std/classifier",
              "watch/grad_norm/features.0.weight",
              "watch/update_ratio/classifier.weight")) {
        assertTrue(keys.contains(key), key + " in " + keys);
        assertEquals(
            List.of(1L, 11L, 21L), q.history(id, key).stream().map(p -> p.step()).toList(), key);
      }
      // GroupNorm's output at initialization: mean 0, std 1
      assertEquals(1.0, q.history(id, "watch/act_std/features.1").get(0).value(), 1e-3);
    }
  }

  @Test
  void customGroupNormModelLearnsTheStripeTask() {
    CustomGroupNormModel.Result r = CustomGroupNormModel.run(40);
    assertTrue(r.lastLoss() < r.firstLoss() * 0.5, "loss should drop: " + r);
    assertTrue(r.accuracy() > 90, "accuracy " + r.accuracy());
    assertTrue(r.stateDictKeys().contains("features.1.weight"), r.stateDictKeys().toString());
    assertTrue(r.stateDictKeys().contains("classifier.bias"), r.stateDictKeys().toString());
  }

  @Test
  void adainGivesTheContentTheStylesChannelStatistics(@TempDir Path dir) throws Exception {
    AdaInRecolor.Result r = AdaInRecolor.run();
    int hw = AdaInRecolor.HEIGHT * AdaInRecolor.WIDTH;
    for (int c = 0; c < 3; c++) {
      double[] out = meanStd(r.recolored().data(), c * hw, hw);
      double[] style = meanStd(r.style().data(), c * hw, hw);
      double[] content = meanStd(r.content().data(), c * hw, hw);
      assertEquals(style[0], out[0], 1e-4, "mean of channel " + c);
      assertEquals(style[1], out[1], 1e-3, "std of channel " + c);
      double before = Math.abs(content[0] - style[0]) + Math.abs(content[1] - style[1]);
      assertTrue(before > 0.05, "content and style statistics differ before AdaIN");
    }
    Path png = dir.resolve("adain.png");
    AdaInRecolor.main(new String[] {png.toString()});
    BufferedImage img = ImageIO.read(png.toFile());
    assertEquals(3 * 2 * AdaInRecolor.WIDTH + 4 * 16, img.getWidth());
  }

  private static double[] meanStd(float[] d, int off, int n) {
    double s = 0, sq = 0;
    for (int i = 0; i < n; i++) {
      s += d[off + i];
      sq += (double) d[off + i] * d[off + i];
    }
    double m = s / n;
    return new double[] {m, Math.sqrt(sq / n - m * m)};
  }

  @Test
  void trainsTheReferenceCnnFromJavaCode(@TempDir Path dir) throws Exception {
    TrainReferenceCnn.Result r = TrainReferenceCnn.handWritten(Repo.datasets(), 512, 256);
    assertTrue(Double.isFinite(r.meanTrainLoss()), r.toString());
    assertTrue(r.testAccuracy() > 40, "8 steps of SGD should beat chance (10%): " + r);

    TrainResult t = TrainReferenceCnn.withTrainer(Repo.datasets(), 192, 128, dir.resolve("ckpt"));
    assertEquals(1, t.epochs().size());
    assertTrue(Files.exists(t.bestCheckpoint()), "best checkpoint written");
    assertTrue(t.last().testAccuracy() > 10, t.last().toString());

    var options = TrainReferenceCnn.withAdamWCosineAndCrops(t.config()).toMap();
    assertEquals("adamw", options.get("optimizer"));
    assertEquals(0.01, options.get("weight_decay"));
    assertEquals("cosine", options.get("scheduler"));
    assertEquals(1, options.get("t_max")); // the run's one epoch
    assertEquals(2, options.get("random_crop"));
  }

  @Test
  void instanceNormDoesNotSeeDarkerTestImagesAndAdaptedBatchNormNeither(@TempDir Path dir)
      throws Exception {
    var r = ShiftedTestImages.run(Repo.datasets(), 640, 500, dir);
    assertEquals(List.of("instance", "batch", "batch+adapted"), List.copyOf(r.keySet()));
    for (var results : r.values()) {
      assertEquals(
          List.of("clean", "brightness=0.2", "contrast=0.2", "invert"),
          results.stream().map(x -> x.shift().spec()).toList());
    }
    var in = r.get("instance");
    double clean = in.get(0).evaluation().accuracy();
    assertTrue(clean > 40, "ten steps of SGD beat chance: " + clean);
    // one image of 500 is 0.2 points
    assertEquals(clean, in.get(1).evaluation().accuracy(), 0.2 + 1e-9, "darker");
    assertEquals(clean, in.get(2).evaluation().accuracy(), 0.2 + 1e-9, "lower contrast");
    var adapted = r.get("batch+adapted");
    assertEquals(
        adapted.get(0).evaluation().accuracy(),
        adapted.get(1).evaluation().accuracy(),
        0.2 + 1e-9,
        "adapted Batch Norm: darker");
  }

  @Test
  void scopedTrainingStepsLearn() throws Exception {
    // 16 steps of SGD on real digits: the mean loss must fall below chance's ln(10) = 2.30
    double loss = ScopedTrainingSteps.run(Repo.datasets(), 1024);
    assertTrue(Double.isFinite(loss) && loss < 2.2, "mean loss " + loss);
  }

  @Test
  void quickStartIsWhatTheGuideShows() {
    Tensor y = QuickStart.run();
    assertArrayEquals(new int[] {8, 3, 32, 32}, y.shape());
  }
}
