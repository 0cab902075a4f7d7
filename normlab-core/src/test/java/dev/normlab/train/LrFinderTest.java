package dev.normlab.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.normlab.data.DataLoader;
import dev.normlab.data.Datasets;
import dev.normlab.models.ReferenceCnn;
import dev.normlab.nn.functional.F;
import dev.normlab.optim.SGD;
import dev.normlab.tensor.Rng;
import dev.normlab.tensor.Tensor;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LrFinderTest {
  @TempDir Path tmp;

  @Test
  void theLrGrowsExponentiallyFromStartToEnd() {
    var o = new LrFinder.Options(1e-5, 1, 11, 4);
    assertEquals(1e-5, o.lr(0), 1e-20);
    assertEquals(1e-4, o.lr(2), 1e-16); // five decades over ten intervals
    assertEquals(1, o.lr(10), 1e-12);
    assertThrows(IllegalArgumentException.class, () -> new LrFinder.Options(0, 1, 100, 4));
    assertThrows(IllegalArgumentException.class, () -> new LrFinder.Options(1, 1, 100, 4));
    assertThrows(IllegalArgumentException.class, () -> new LrFinder.Options(1e-6, 1, 9, 4));
    assertThrows(IllegalArgumentException.class, () -> new LrFinder.Options(1e-6, 1, 100, 1));
  }

  @Test
  void analysisFindsTheLowestPointAndTheSteepestFallBeforeIt() {
    // 100 points, lr 1e-6..1e2; the loss falls fastest at lr 1e-2 (a logistic step in log lr),
    // is lowest at lr 1 and rises after it
    List<LrFinder.Point> points = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      double lg = -6 + 8.0 * i / 99, lr = Math.pow(10, lg);
      double loss = 2 - 1.5 / (1 + Math.exp(-4 * (lg + 2))) + (lg > 0 ? lg * lg : 0);
      points.add(new LrFinder.Point(i + 1, lr, loss, loss));
    }
    var r = LrFinder.analyse(points, Double.NaN);
    assertEquals(0, Math.log10(r.minLossLr()), 0.1);
    assertEquals(-2, Math.log10(r.steepestLr()), 0.1);
    assertEquals(r.minLossLr() / 10, r.suggestedLr(), 0);
    assertTrue(Double.isNaN(r.divergedLr()));
    // a curve that never falls has no steepest point
    List<LrFinder.Point> rising = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      rising.add(new LrFinder.Point(i + 1, Math.pow(10, i - 10), i, i));
    }
    assertTrue(Double.isNaN(LrFinder.analyse(rising, 1).steepestLr()));
  }

  /** Every step's lr and loss, the smoothed losses and the result metrics, as the tracker hears. */
  private static final class Recorder implements TrainingListener {
    final List<double[]> steps = new ArrayList<>(); // {step, lr, loss}
    final List<Double> smoothed = new ArrayList<>();
    Map<String, Double> result;
    boolean finished;

    @Override
    public void onStep(long step, int epoch, double loss, double lr, double ips) {
      steps.add(new double[] {step, lr, loss});
    }

    @Override
    public void onMetrics(long step, Map<String, Double> m) {
      if (m.containsKey("lr_find/smoothed_loss")) {
        smoothed.add(m.get("lr_find/smoothed_loss"));
      } else {
        result = m;
      }
    }

    @Override
    public void onFinish(TrainResult r) {
      finished = true;
    }
  }

  @Test
  void aRangeTestTrainsWithEachStepsLrAndRepeats() throws Exception {
    Datasets data = SyntheticMnist.write(tmp.resolve("data"), 64, 16); // 4 batches of 16
    TrainConfig c = SyntheticMnist.config("group", 1, tmp.resolve("ck"));
    var o = new LrFinder.Options(1e-4, 1e-1, 12, 100); // three epochs' batches, no divergence
    Recorder a = new Recorder();
    LrFinder.Result r = new LrFinder(c, o, a, data).run();
    assertEquals(12, a.steps.size());
    for (int i = 0; i < 12; i++) {
      assertEquals(i + 1, a.steps.get(i)[0]);
      assertEquals(o.lr(i), a.steps.get(i)[1], 0, "step " + (i + 1) + " trains with the test's lr");
      assertEquals(a.steps.get(i)[2], r.points().get(i).loss());
      assertEquals(a.smoothed.get(i), r.points().get(i).smoothedLoss());
    }
    // the moving average, debiased: its first value is the first loss
    assertEquals(a.steps.get(0)[2], a.smoothed.get(0), 1e-12);
    double avg = 0.98 * (1 - 0.98) * a.steps.get(0)[2] + (1 - 0.98) * a.steps.get(1)[2];
    assertEquals(avg / (1 - 0.98 * 0.98), a.smoothed.get(1), 1e-12);
    assertTrue(a.steps.get(1)[2] != a.steps.get(0)[2], "the model trains");
    assertEquals(r.metrics(), a.result);
    assertTrue(a.finished);
    assertFalse(tmp.resolve("ck").toFile().exists(), "a range test writes no checkpoints");
    // same seed, same test
    LrFinder.Result again = new LrFinder(c, o, new Recorder(), data).run();
    assertEquals(r.points(), again.points());
  }

  @Test
  void searchOnAModelOfOnesOwnLeavesModelAndOptimizerAsTheyWere() {
    Rng rng = new Rng(3);
    ReferenceCnn model = new ReferenceCnn(ReferenceCnn.Norm.BATCH, rng); // weights and buffers
    SGD opt = new SGD(model.parameters(), 0.01, 0.9);
    List<DataLoader.Batch> batches = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      batches.add(
          new DataLoader.Batch(
              Tensor.randn(rng, 8, 1, 28, 28), Tensor.randint(rng, 0, 10, 8), null));
    }
    // one real step first: the optimizer has momentum buffers, the norm running statistics
    opt.zeroGrad();
    F.crossEntropy(model.forward(batches.get(0).images()), batches.get(0).labels()).backward();
    opt.step();
    model.eval();
    Map<String, float[]> before = new java.util.LinkedHashMap<>();
    model.stateDict().forEach((k, t) -> before.put(k, t.toArray()));
    Map<String, float[]> stateBefore = new java.util.LinkedHashMap<>();
    opt.state().forEach((k, t) -> stateBefore.put(k, t.toArray()));
    List<Long> seen = new ArrayList<>();
    var r =
        LrFinder.search(
            model,
            opt,
            batches,
            F::crossEntropy,
            new LrFinder.Options(1e-4, 1, 10, 100),
            new TrainingListener() {
              @Override
              public void onStep(long step, int epoch, double loss, double lr, double ips) {
                seen.add((long) epoch); // three batches a pass: passes 1, 1, 1, 2, ...
              }
            });
    assertEquals(10, r.points().size());
    assertEquals(List.of(1L, 1L, 1L, 2L, 2L, 2L, 3L, 3L, 3L, 4L), seen);
    model.stateDict().forEach((k, t) -> assertArrayEquals(before.get(k), t.toArray(), k));
    opt.state().forEach((k, t) -> assertArrayEquals(stateBefore.get(k), t.toArray(), k));
    assertEquals(0.01, opt.paramGroups().get(0).lr());
    assertFalse(model.isTraining(), "eval mode, as before");
    var empty =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                LrFinder.search(
                    model, opt, List.of(), F::crossEntropy, LrFinder.Options.defaults(), null));
    assertEquals("the range test's batches are empty", empty.getMessage());
  }

  @Test
  void aBlowUpStopsTheTestAndNamesItsLr() throws Exception {
    Datasets data = SyntheticMnist.write(tmp.resolve("data"), 64, 16);
    TrainConfig c = SyntheticMnist.config("none", 1, tmp.resolve("ck"));
    var o = new LrFinder.Options(1e-3, 1e4, 40, 4);
    Recorder rec = new Recorder();
    LrFinder.Result r = new LrFinder(c, o, rec, data).run();
    assertTrue(r.points().size() < 40, "stopped early: " + r.points().size());
    double last = r.points().get(r.points().size() - 1).smoothedLoss();
    double lowest =
        r.points().stream()
            .mapToDouble(LrFinder.Point::smoothedLoss)
            .filter(Double::isFinite)
            .min()
            .orElseThrow();
    assertTrue(!Double.isFinite(last) || last > 4 * lowest, last + " vs lowest " + lowest);
    assertEquals(r.points().get(r.points().size() - 1).lr(), r.divergedLr());
    assertEquals(r.divergedLr(), rec.result.get("lr_find/diverged_lr"));
  }
}
