package dev.normlab.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.normlab.nn.functional.F;
import dev.normlab.tensor.Tensor;
import dev.normlab.testing.KeyedFixtures;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * Cross entropy (label smoothing, ignore_index, the three reductions, unbatched and spatial
 * shapes), NLL, log-softmax, softmax and MSE against PyTorch 1.13: outputs and input gradients.
 * Made by {@code scripts/fixtures/make_loss_fixtures.py}.
 */
class LossFixturesTest {
  private static final KeyedFixtures FX = KeyedFixtures.load("/fixtures/loss/loss_fixtures.txt");
  private static final F.Reduction[] REDUCTIONS = {
    F.Reduction.NONE, F.Reduction.SUM, F.Reduction.MEAN
  };

  @Test
  void lossesAndSoftmaxesMatchPyTorch() {
    int cases = FX.ints("cases")[0];
    assertTrue(cases >= 90, "the fixture holds " + cases + " cases");
    java.util.Set<String> kinds = new java.util.TreeSet<>();
    for (int c = 0; c < cases; c++) {
      String key = "c" + c;
      String kind = FX.words(key + ".kind")[0];
      kinds.add(kind);
      double[] spec = FX.doubles(key + ".spec");
      String what = key + " " + kind + " " + Arrays.toString(spec);
      Tensor x = Tensor.of(FX.floats(key + ".x"), FX.ints(key + ".xshape")).requiresGrad(true);
      Tensor y =
          switch (kind) {
            case "cross_entropy" ->
                F.crossEntropy(
                    x, target(key, x), REDUCTIONS[(int) spec[0]], spec[2], (int) spec[1]);
            case "nll_loss" ->
                F.nllLoss(x, target(key, x), REDUCTIONS[(int) spec[0]], (int) spec[1]);
            case "log_softmax" -> F.logSoftmax(x, (int) spec[0]);
            case "softmax" -> F.softmax(x, (int) spec[0]);
            case "mse_loss" ->
                F.mseLoss(
                    x, Tensor.of(FX.floats(key + ".target"), x.shape()), REDUCTIONS[(int) spec[0]]);
            default -> throw new IllegalStateException("unknown kind " + kind);
          };
      String[] ys = FX.words(key + ".yshape");
      int[] yShape =
          ys[0].equals("scalar")
              ? new int[0]
              : Arrays.stream(ys).mapToInt(Integer::parseInt).toArray();
      assertArrayEquals(yShape, y.shape(), what + ": output shape");
      y.backward(Tensor.of(FX.floats(key + ".dy"), yShape));
      close(FX.floats(key + ".y"), y.data(), what + ": y");
      close(FX.floats(key + ".dx"), x.grad().data(), what + ": dx");
    }
    assertEquals(
        java.util.Set.of("cross_entropy", "nll_loss", "log_softmax", "softmax", "mse_loss"), kinds);
  }

  /** Class indices as PyTorch's target: x's shape without the class dim. */
  private static Tensor target(String key, Tensor x) {
    int[] xs = x.shape();
    int[] ts = new int[Math.max(0, xs.length - 1)];
    if (xs.length > 1) {
      ts[0] = xs[0];
      System.arraycopy(xs, 2, ts, 1, xs.length - 2);
    }
    return Tensor.of(dev.normlab.tensor.DType.INT64, FX.floats(key + ".target"), ts);
  }

  private static void close(float[] want, float[] got, String what) {
    KeyedFixtures.assertClose(want, got, 1e-5f, 2e-6f, what);
  }
}
