package dev.normlab.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The Vector API elementwise kernels against their scalar definitions, on odd lengths and tails.
 */
class ElementwiseTest {
  private static final int[] LENGTHS = {0, 1, 7, 15, 16, 17, 33, 100, 1023, 1025, 5000};

  private static float[] rand(SplittableRandom r, int n) {
    float[] a = new float[n + 3];
    for (int i = 0; i < a.length; i++) {
      a[i] = r.nextInt(50) == 0 ? Float.NaN : (float) (r.nextGaussian() * 3);
    }
    return a;
  }

  private static void assertBits(float expected, float actual, String what) {
    assertEquals(Float.floatToIntBits(expected), Float.floatToIntBits(actual), what);
  }

  @Test
  void binaryMatchesScalarForAllOpsAndBroadcasts() {
    SplittableRandom r = new SplittableRandom(1);
    for (Elementwise.Op op : Elementwise.Op.values()) {
      for (int n : LENGTHS) {
        float[] a = rand(r, n), b = rand(r, n);
        for (int[] st : new int[][] {{1, 1}, {1, 0}, {0, 1}, {2, 1}}) {
          int as = st[0], bs = st[1];
          float[] aa = as == 2 ? rand(r, 2 * n) : a;
          float[] out = new float[n + 2];
          Elementwise.binary(op, aa, 1, as, b, 2, bs, out, 1, n);
          for (int i = 0; i < n; i++) {
            float want = Elementwise.scalar(op, aa[1 + i * as], b[2 + i * bs]);
            assertBits(want, out[1 + i], op + " n=" + n + " strides=" + as + "," + bs + " i=" + i);
          }
        }
      }
    }
  }

  @Test
  void reluAndItsBackwardMatchScalar() {
    SplittableRandom r = new SplittableRandom(2);
    for (int n : LENGTHS) {
      float[] x = rand(r, n), g = rand(r, n), out = new float[x.length], gx = new float[x.length];
      if (n > 0) {
        x[1 + n] = Float.NaN; // the last element: in the scalar tail when n is not a whole vector
      }
      Elementwise.relu(x, out, 2, 2 + n);
      Elementwise.reluBackward(g, x, 0.01f, gx, 2, 2 + n);
      for (int i = 2; i < 2 + n; i++) {
        float want = Float.isNaN(x[i]) ? Float.NaN : Math.max(x[i], 0f);
        assertBits(want, out[i], "relu n=" + n + " i=" + i);
        assertBits(x[i] > 0 ? g[i] : g[i] * 0.01f, gx[i], "reluBackward n=" + n + " i=" + i);
      }
    }
  }

  @Test
  void axpyScaleShiftAndSumMatchScalar() {
    SplittableRandom r = new SplittableRandom(3);
    for (int n : LENGTHS) {
      float[] x = new float[n + 1], y = new float[n + 1];
      for (int i = 0; i <= n; i++) {
        x[i] = (float) r.nextGaussian();
        y[i] = (float) r.nextGaussian();
      }
      float[] y0 = y.clone(), ss = new float[n + 1];
      Elementwise.axpy(n, 1.5f, x, 1, y, 0);
      Elementwise.scaleShift(n, x, 1, 0.5f, -2f, ss, 1);
      double ref = 0;
      for (int i = 0; i < n; i++) {
        assertEquals(y0[i] + 1.5 * x[1 + i], y[i], 1e-5, "axpy n=" + n + " i=" + i);
        assertEquals(x[1 + i] * 0.5 - 2, ss[1 + i], 1e-5, "scaleShift n=" + n + " i=" + i);
        ref += x[1 + i];
      }
      assertEquals(ref, Elementwise.sum(x, 1, n), 1e-4 * Math.max(1, Math.sqrt(n)), "sum n=" + n);
    }
  }

  @Test
  void mulMatchesScalar() {
    SplittableRandom r = new SplittableRandom(5);
    for (int n : LENGTHS) {
      float[] a = rand(r, n), b = rand(r, n), out = new float[n + 3];
      Elementwise.mul(a, b, out, 1, n);
      for (int i = 1; i < n; i++) {
        assertBits(a[i] * b[i], out[i], "mul n=" + n + " i=" + i);
      }
    }
  }
}
