package dev.normlab.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.normlab.data.Datasets;
import dev.normlab.io.Checkpoint;
import dev.normlab.nn.Activation;
import dev.normlab.nn.Linear;
import dev.normlab.nn.Sequential;
import dev.normlab.nn.functional.F;
import dev.normlab.nn.norm.BatchNorm1d;
import dev.normlab.optim.SGD;
import dev.normlab.tensor.Rng;
import dev.normlab.tensor.Tensor;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link Watch}'s numbers against the same quantities computed in double from the tensors, and a
 * watched training run against an unwatched one.
 */
class WatchTest {
  @TempDir Path tmp;

  /** Linear(3, 4) -> ReLU -> Linear(4, 2) with a nested Sequential(Linear(2, 2)) at the end. */
  private static Sequential smallNet(Rng rng) {
    Linear fc = new Linear(3, 4, true, rng);
    float[] b = fc.bias().data();
    b[0] = -100; // unit 0 is below zero for any input in [0, 1): dead
    for (int j = 1; j < 4; j++) {
      b[j] = 100; // the others above: alive
    }
    return new Sequential(
        fc,
        Activation.relu(),
        new Linear(4, 2, true, rng),
        new Sequential(new Linear(2, 2, true, rng)));
  }

  @Test
  void activationStatisticsAreTheBatchsMeanStdAndDeadUnits() {
    Rng rng = new Rng(3);
    Sequential net = smallNet(rng);
    Tensor x = Tensor.rand(rng, 5, 3);
    Watch watch = new Watch(net);
    Tensor out = net.forward(x, watch);
    Map<String, Double> s = watch.afterStep();

    // layer 0's output recomputed in double: x W^T + b
    Linear fc = (Linear) net.get(0);
    double[] h = new double[5 * 4];
    for (int n = 0; n < 5; n++) {
      for (int j = 0; j < 4; j++) {
        double v = fc.bias().data()[j];
        for (int i = 0; i < 3; i++) {
          v += (double) x.data()[n * 3 + i] * fc.weight().data()[j * 3 + i];
        }
        h[n * 4 + j] = v;
      }
    }
    double mean = 0;
    for (double v : h) mean += v / h.length;
    double var = 0;
    for (double v : h) var += (v - mean) * (v - mean) / h.length;
    assertEquals(mean, s.get("watch/act_mean/0"), 1e-4);
    assertEquals(Math.sqrt(var), s.get("watch/act_std/0"), 1e-4);
    assertEquals(0.25, s.get("watch/dead_relu/0"), "one unit of four is <= 0 for the whole batch");
    assertFalse(s.containsKey("watch/dead_relu/1"), "no ReLU after the ReLU");
    assertTrue(s.containsKey("watch/act_std/3.0"), "a nested Sequential's child: " + s.keySet());
    // the last output is the model's output
    double outMean = 0;
    for (float v : out.data()) outMean += (double) v / out.numel();
    assertEquals(outMean, s.get("watch/act_mean/3"), 1e-6);
    assertFalse(s.keySet().stream().anyMatch(k -> k.contains("grad_norm")), "no backward yet");
  }

  @Test
  void percentilesAreThoseOfTheSortedValuesToABinOfTheRange() {
    Rng rng = new Rng(11);
    Tensor t = Tensor.randn(rng, 40, 3, 7, 11); // 9,240 values
    float[] a = t.data();
    for (int i = 0; i < a.length; i++) {
      a[i] = 1e4f + a[i] * (i % 5 == 0 ? 3 : 1); // a large common offset, a wider fifth
    }
    Watch watch = new Watch(new Sequential());
    watch.observe("x", t, false);
    Map<String, Double> s = watch.afterStep();
    float[] sorted = a.clone();
    java.util.Arrays.sort(sorted);
    double width = ((double) sorted[sorted.length - 1] - sorted[0]) / Watch.BINS;
    for (int q : new int[] {5, 25, 50, 75, 95}) {
      double rank = q / 100.0 * (sorted.length - 1);
      int lo = (int) Math.floor(rank);
      double exact = sorted[lo] + (rank - lo) * ((double) sorted[lo + 1] - sorted[lo]);
      assertEquals(exact, s.get(String.format("watch/act_p%02d/x", q)), width, "p" + q);
    }
    assertTrue(s.get("watch/act_p05/x") < s.get("watch/act_p25/x"));
    // a constant: every percentile is the constant
    watch.observe("c", Tensor.full(-2.5f, 4, 4), true);
    Map<String, Double> c = watch.afterStep();
    assertEquals(-2.5, c.get("watch/act_p50/c"));
    assertEquals(-2.5, c.get("watch/act_p95/c"));
    assertEquals(1.0, c.get("watch/dead_relu/c"));
  }

  @Test
  void batchNormsRunningStatisticsAreComparedWithTheBatchItNormalizes() {
    Rng rng = new Rng(2);
    Linear fc = new Linear(3, 2, true, rng);
    BatchNorm1d bn = new BatchNorm1d(2);
    Sequential net = new Sequential(fc, bn, Activation.relu());
    float[] rm = {0.5f, -1f}, rv = {4f, 0.25f};
    System.arraycopy(rm, 0, bn.runningMean().data(), 0, 2);
    System.arraycopy(rv, 0, bn.runningVar().data(), 0, 2);
    Tensor x = Tensor.rand(rng, 6, 3);
    Watch watch = new Watch(net);
    net.forward(x, watch);
    Map<String, Double> s = watch.afterStep();
    // the batch BN normalized: fc's output, per feature (biased variance)
    Tensor h = fc.forward(x);
    double gaps = 0, ratios = 0;
    for (int f = 0; f < 2; f++) {
      double mean = 0, var = 0;
      for (int n = 0; n < 6; n++) mean += h.data()[n * 2 + f] / 6.0;
      for (int n = 0; n < 6; n++) var += Math.pow(h.data()[n * 2 + f] - mean, 2) / 6;
      gaps += (mean - rm[f]) * (mean - rm[f]) / (rv[f] + 1e-5);
      ratios += Math.sqrt((var + 1e-5) / (rv[f] + 1e-5));
    }
    // against the running statistics before the forward updated them
    assertEquals(Math.sqrt(gaps / 2), s.get("watch/running_mean_gap/1"), 1e-5);
    assertEquals(ratios / 2, s.get("watch/running_std_ratio/1"), 1e-5);
    assertTrue(bn.runningMean().data()[0] != rm[0], "the forward did update them");
    assertFalse(s.containsKey("watch/running_mean_gap/0"), "only norms with running statistics");
  }

  @Test
  void deadFractionCountsUnitsAlongDimensionOne() {
    // [2, 3, 2]: unit 0 all <= 0, unit 1 positive in one place of one example, unit 2 all 0
    float[] a = {-1, -2, 0, 5, 0, 0, /* example 2 */ 0, -3, -1, -1, 0, -4};
    assertEquals(2.0 / 3, Watch.deadFraction(a, new int[] {2, 3, 2}));
    assertEquals(0.0, Watch.deadFraction(new float[] {1, 2, 3}, new int[] {1, 3}));
  }

  @Test
  void gradientWeightAndUpdateNormsAreThoseOfTheStep() {
    Rng rng = new Rng(5);
    Sequential net = smallNet(rng);
    Linear last = (Linear) ((Sequential) net.get(3)).get(0);
    last.bias().data()[0] = 0;
    last.bias().data()[1] = 0; // an all-zero weight has no update ratio
    double lr = 0.1;
    SGD sgd = new SGD(net.parameters(), lr);
    Watch watch = new Watch(net);
    Tensor loss =
        F.crossEntropy(
            net.forward(Tensor.rand(rng, 6, 3), watch),
            Tensor.ofInts(new int[] {0, 1, 0, 1, 1, 0}, 6));
    loss.backward();
    Map<String, double[]> before = new LinkedHashMap<>();
    Map<String, double[]> grads = new LinkedHashMap<>();
    for (var e : net.namedParameters().entrySet()) {
      before.put(e.getKey(), doubles(e.getValue().data()));
      grads.put(e.getKey(), doubles(e.getValue().grad().data()));
    }
    watch.afterBackward();
    sgd.step();
    Map<String, Double> s = watch.afterStep();

    double total = 0;
    for (var e : net.namedParameters().entrySet()) {
      String name = e.getKey();
      double g = norm(grads.get(name));
      total += g * g;
      assertEquals(g, s.get("watch/grad_norm/" + name), 1e-12 * Math.max(1, g), name);
      double[] now = doubles(e.getValue().data());
      assertEquals(norm(now), s.get("watch/param_norm/" + name), 1e-9, name);
      double w0 = norm(before.get(name));
      if (w0 == 0) {
        assertFalse(s.containsKey("watch/update_ratio/" + name), name);
      } else {
        // plain SGD moves a weight by lr * grad (up to the float rounding of the new weights)
        assertEquals(
            lr * g / w0, s.get("watch/update_ratio/" + name), 1e-5 * lr * g / w0 + 1e-7, name);
      }
    }
    assertEquals(Math.sqrt(total), s.get("watch/grad_norm/total"), 1e-12);
    assertFalse(s.containsKey("watch/update_ratio/3.0.bias"));
    assertTrue(watch.afterStep().isEmpty(), "each step's statistics are returned once");
  }

  private static double[] doubles(float[] a) {
    double[] d = new double[a.length];
    for (int i = 0; i < a.length; i++) d[i] = a[i];
    return d;
  }

  private static double norm(double[] a) {
    double s = 0;
    for (double v : a) s += v * v;
    return Math.sqrt(s);
  }

  /** Records every step's loss and the watched steps' statistics. */
  private static final class Recorder implements TrainingListener {
    final List<Double> losses = new ArrayList<>();
    final Map<Long, Map<String, Double>> watched = new LinkedHashMap<>();

    @Override
    public void onStep(long step, int epoch, double loss, double lr, double ips) {
      losses.add(loss);
    }

    @Override
    public void onWatch(long step, Map<String, Double> stats) {
      watched.put(step, stats);
    }
  }

  @Test
  void aWatchedRunTrainsBitForBitAsAnUnwatchedOne() throws Exception {
    Datasets data = SyntheticMnist.write(tmp.resolve("data"), 64, 32); // 4 steps per epoch
    for (String norm : List.of("none", "group")) {
      TrainConfig plain = SyntheticMnist.config(norm, 2, tmp.resolve(norm + "-plain"));
      Recorder a = new Recorder(), b = new Recorder();
      TrainResult ra = new Trainer(plain, a, data).run();
      TrainResult rb =
          new Trainer(
                  plain.withWatchEvery(3).withCheckpointDir(tmp.resolve(norm + "-watched")),
                  b,
                  data)
              .run();
      assertEquals(a.losses, b.losses, norm);
      assertEquals(metrics(ra), metrics(rb), norm);
      var wa = Checkpoint.load(ra.checkpointDir().resolve("last.safetensors")).modelState();
      var wb = Checkpoint.load(rb.checkpointDir().resolve("last.safetensors")).modelState();
      for (String k : wa.keySet()) {
        assertArrayEquals(wa.get(k).data(), wb.get(k).data(), k);
      }
      assertTrue(a.watched.isEmpty());
      assertEquals(List.of(1L, 3L, 6L), List.copyOf(b.watched.keySet()), "step 1 and every 3rd");
      for (Map<String, Double> s : b.watched.values()) {
        for (String point : List.of("conv1", "norm1", "conv2", "norm2", "fc1", "fc2")) {
          assertTrue(s.containsKey("watch/act_std/" + point), point + " in " + s.keySet());
        }
        for (String point : List.of("norm1", "norm2", "fc1")) {
          assertTrue(s.containsKey("watch/dead_relu/" + point), point);
        }
        assertFalse(s.containsKey("watch/dead_relu/conv1"), "a norm comes next, not a ReLU");
        assertTrue(s.containsKey("watch/update_ratio/fc1.weight"));
        assertTrue(s.containsKey("watch/grad_norm/total"));
        assertTrue(s.values().stream().allMatch(Double::isFinite), s.toString());
        assertTrue(s.keySet().stream().allMatch(k -> k.startsWith(Watch.PREFIX)));
      }
      Map<String, Double> first = b.watched.get(1L);
      if (norm.equals("none")) {
        // without a norm the norm's output is the convolution's
        assertEquals(first.get("watch/act_std/conv2"), first.get("watch/act_std/norm2"));
      } else {
        // Group Norm's output at initialization (weight 1, bias 0) has mean 0 and std about 1
        assertEquals(0, first.get("watch/act_mean/norm2"), 1e-4);
        assertEquals(1, first.get("watch/act_std/norm2"), 1e-2);
        assertTrue(s(first, "norm1.weight"), "the norm's affine parameters are watched too");
      }
    }
  }

  private static List<Double> metrics(TrainResult r) {
    List<Double> m = new ArrayList<>();
    for (EpochResult e : r.epochs()) {
      m.addAll(List.of(e.trainLoss(), e.testLoss(), e.testAccuracy()));
    }
    return m;
  }

  private static boolean s(Map<String, Double> stats, String param) {
    return stats.containsKey("watch/grad_norm/" + param)
        && stats.containsKey("watch/param_norm/" + param);
  }
}
