package dev.normlab.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.normlab.nn.functional.ConvPool;
import dev.normlab.tensor.Tensor;
import dev.normlab.testing.KeyedFixtures;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * Max and average pooling, 1-d and 2-d, against PyTorch 1.13 on random geometries (kernel, stride,
 * padding, dilation, ceil_mode, count_include_pad; odd sizes; inputs with ties): outputs and input
 * gradients. Made by {@code scripts/fixtures/make_pool_fixtures.py}.
 */
class PoolFixturesTest {
  private static final KeyedFixtures F = KeyedFixtures.load("/fixtures/pool/pool_fixtures.txt");

  @Test
  void poolingMatchesPyTorch() {
    int cases = F.ints("cases")[0];
    assertTrue(cases >= 100, "the fixture holds " + cases + " cases");
    for (int c = 0; c < cases; c++) {
      String key = "c" + c;
      int[] spec = F.ints(key + ".spec");
      boolean max = spec[0] == 1;
      int nd = spec[1];
      int[] shape = Arrays.copyOfRange(spec, 2, 4 + nd);
      int at = 4 + nd;
      int[] k = Arrays.copyOfRange(spec, at, at + nd);
      int[] s = Arrays.copyOfRange(spec, at + nd, at + 2 * nd);
      int[] p = Arrays.copyOfRange(spec, at + 2 * nd, at + 3 * nd);
      int[] d = Arrays.copyOfRange(spec, at + 3 * nd, at + 4 * nd);
      boolean ceil = spec[at + 4 * nd] == 1, countIncludePad = spec[at + 4 * nd + 1] == 1;
      String what = key + " " + Arrays.toString(spec);

      Tensor x = Tensor.of(F.floats(key + ".x"), shape).requiresGrad(true);
      Tensor y;
      if (nd == 2) {
        y =
            max
                ? ConvPool.maxPool2d(x, k, s, p, d, ceil)
                : ConvPool.avgPool2d(x, k, s, p, ceil, countIncludePad);
      } else {
        y =
            max
                ? ConvPool.maxPool1d(x, k[0], s[0], p[0], d[0], ceil)
                : ConvPool.avgPool1d(x, k[0], s[0], p[0], ceil, countIncludePad);
      }
      assertArrayEquals(F.ints(key + ".yshape"), y.shape(), what + ": output shape");
      y.backward(Tensor.of(F.floats(key + ".dy"), y.shape()));
      // max pooling picks exact values; averages and summed gradients may round differently
      KeyedFixtures.assertClose(F.floats(key + ".y"), y.data(), 1e-5f, 1.3e-6f, what + ": y");
      KeyedFixtures.assertClose(
          F.floats(key + ".dx"), x.grad().data(), 1e-5f, 1.3e-6f, what + ": dx");
    }
  }
}
