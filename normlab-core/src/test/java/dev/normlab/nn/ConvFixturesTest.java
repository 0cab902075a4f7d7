package dev.normlab.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.normlab.nn.functional.ConvPool;
import dev.normlab.tensor.Tensor;
import dev.normlab.testing.KeyedFixtures;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * 1-d, 2-d and 3-d convolution against PyTorch 1.13 on random geometries (kernel, stride, padding,
 * dilation, groups, bias; odd sizes; the 3x3 stride-1 case normlab computes by Winograd): the
 * output and the gradients of input, weight and bias. Made by {@code
 * scripts/fixtures/make_conv_fixtures.py}.
 */
class ConvFixturesTest {
  private static final KeyedFixtures F = KeyedFixtures.load("/fixtures/conv/conv_fixtures.txt");

  @Test
  void convolutionMatchesPyTorch() {
    int cases = F.ints("cases")[0];
    assertTrue(cases >= 80, "the fixture holds " + cases + " cases");
    for (int c = 0; c < cases; c++) {
      String key = "c" + c;
      int[] spec = F.ints(key + ".spec");
      int nd = spec[0], groups = spec[1];
      boolean bias = spec[2] == 1;
      int at = 3;
      int[] xShape = Arrays.copyOfRange(spec, at, at + nd + 2);
      at += nd + 2;
      int[] wShape = Arrays.copyOfRange(spec, at, at + nd + 2);
      at += nd + 2;
      int[] stride = Arrays.copyOfRange(spec, at, at + nd);
      int[] padding = Arrays.copyOfRange(spec, at + nd, at + 2 * nd);
      int[] dilation = Arrays.copyOfRange(spec, at + 2 * nd, at + 3 * nd);
      String what = key + " " + Arrays.toString(spec);

      Tensor x = Tensor.of(F.floats(key + ".x"), xShape).requiresGrad(true);
      Tensor w = Tensor.of(F.floats(key + ".w"), wShape).requiresGrad(true);
      Tensor b = bias ? Tensor.of(F.floats(key + ".b"), wShape[0]).requiresGrad(true) : null;
      Tensor y = ConvPool.conv(nd, x, w, b, stride, padding, dilation, groups);
      assertArrayEquals(F.ints(key + ".yshape"), y.shape(), what + ": output shape");
      y.backward(Tensor.of(F.floats(key + ".dy"), y.shape()));
      close(F.floats(key + ".y"), y.data(), what + ": y");
      close(F.floats(key + ".dx"), x.grad().data(), what + ": dx");
      close(F.floats(key + ".dw"), w.grad().data(), what + ": dw");
      if (bias) {
        close(F.floats(key + ".db"), b.grad().data(), what + ": db");
      }
    }
  }

  /** Sums of a few dozen products in another order: float32 rounding apart. */
  private static void close(float[] want, float[] got, String what) {
    KeyedFixtures.assertClose(want, got, 2e-5f, 2e-5f, what);
  }
}
