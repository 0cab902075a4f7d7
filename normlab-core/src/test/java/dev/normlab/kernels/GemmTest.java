package dev.normlab.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class GemmTest {
  private static float[] rand(SplittableRandom r, int n) {
    float[] a = new float[n];
    for (int i = 0; i < n; i++) {
      a[i] = (float) (r.nextDouble() * 2 - 1);
    }
    return a;
  }

  private static void compare(
      boolean ta, boolean tb, int m, int n, int k, float alpha, float beta, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    int lda = (ta ? m : k) + 3, ldb = (tb ? k : n) + 1, ldc = n + 2;
    float[] a = rand(r, (ta ? k : m) * lda + 5);
    float[] b = rand(r, (tb ? n : k) * ldb + 5);
    float[] c0 = rand(r, m * ldc + 7);
    if (beta == 0) {
      c0[2] = Float.NaN; // beta == 0 must ignore what C held
    }
    float[] c1 = c0.clone();
    Gemm.sgemm(ta, tb, m, n, k, alpha, a, 2, lda, b, 1, ldb, beta, c0, 3, ldc);
    GemmReference.sgemm(ta, tb, m, n, k, alpha, a, 2, lda, b, 1, ldb, beta, c1, 3, ldc);
    for (int i = 0; i < c0.length; i++) {
      float tol = 1e-5f * (k + 1);
      if (!(Math.abs(c0[i] - c1[i]) <= tol) && !(Float.isNaN(c1[i]) && Float.isNaN(c0[i]))) {
        fail(
            "m=" + m + " n=" + n + " k=" + k + " ta=" + ta + " tb=" + tb + " at " + i + ": " + c0[i]
                + " vs " + c1[i]);
      }
    }
  }

  @Test
  void matchesScalarTwinOnOddShapesAndAllTransposes() {
    int[][] shapes = {
      {1, 1, 1},
      {6, 32, 5},
      {7, 33, 3},
      {13, 17, 300},
      {64, 676, 9},
      {64, 576, 288},
      {5, 1, 513},
      {150, 70, 260},
      {2, 1100, 7},
      {128, 64, 1}
    };
    long seed = 1;
    for (int[] s : shapes) {
      for (boolean ta : new boolean[] {false, true}) {
        for (boolean tb : new boolean[] {false, true}) {
          compare(ta, tb, s[0], s[1], s[2], 1f, 0f, seed++);
          compare(ta, tb, s[0], s[1], s[2], 0.5f, 1.5f, seed++);
        }
      }
    }
  }

  @Test
  void randomShapes() {
    SplittableRandom r = new SplittableRandom(99);
    for (int t = 0; t < 40; t++) {
      compare(
          r.nextBoolean(),
          r.nextBoolean(),
          1 + r.nextInt(200),
          1 + r.nextInt(200),
          1 + r.nextInt(600),
          1f,
          r.nextBoolean() ? 0f : 1f,
          t);
    }
  }

  @Test
  void largeProductIsSplitAcrossThreadsDeterministically() {
    int m = 200, n = 700, k = 300;
    SplittableRandom r = new SplittableRandom(5);
    float[] a = rand(r, m * k), b = rand(r, k * n);
    float[] c1 = new float[m * n], c2 = new float[m * n];
    Gemm.sgemm(false, false, m, n, k, 1f, a, 0, k, b, 0, n, 0f, c1, 0, n);
    Gemm.sgemm(false, false, m, n, k, 1f, a, 0, k, b, 0, n, 0f, c2, 0, n);
    assertArrayEquals(c1, c2, 0f);
    float[] ref = new float[m * n];
    GemmReference.sgemm(false, false, m, n, k, 1f, a, 0, k, b, 0, n, 0f, ref, 0, n);
    assertArrayEquals(ref, c1, 1e-3f);
  }

  /**
   * A product with few column panels and many rows (a linear layer: batch x 9216 times 9216 x 128,
   * and the transposes) splits its rows between the threads: the bits are a single thread's.
   */
  @Test
  void fewPanelsSplitByRowsGiveOneThreadsBits() {
    int before = Parallel.threads();
    SplittableRandom r = new SplittableRandom(6);
    try {
      for (int[] mnk : new int[][] {{64, 128, 9216}, {61, 100, 3000}, {200, 40, 500}}) {
        int m = mnk[0], n = mnk[1], k = mnk[2];
        for (boolean ta : new boolean[] {false, true}) {
          for (boolean tb : new boolean[] {false, true}) {
            float[] a = rand(r, m * k), b = rand(r, k * n), c0 = rand(r, m * n);
            int lda = ta ? m : k, ldb = tb ? k : n;
            float[][] out = new float[3][];
            int[] threads = {1, 2, 3};
            for (int t = 0; t < 3; t++) {
              Parallel.setThreads(threads[t]);
              out[t] = c0.clone();
              Gemm.sgemm(ta, tb, m, n, k, 0.5f, a, 0, lda, b, 0, ldb, 1f, out[t], 0, n);
            }
            String what = m + "x" + n + "x" + k + " ta=" + ta + " tb=" + tb;
            assertArrayEquals(out[0], out[1], 0f, what + ": 2 threads");
            assertArrayEquals(out[0], out[2], 0f, what + ": 3 threads");
            float[] ref = c0.clone();
            GemmReference.sgemm(ta, tb, m, n, k, 0.5f, a, 0, lda, b, 0, ldb, 1f, ref, 0, n);
            assertArrayEquals(ref, out[1], 2e-3f * (float) Math.sqrt(k), what);
          }
        }
      }
    } finally {
      Parallel.setThreads(before);
    }
  }

  @Test
  void packedAProductMatchesScalarTwin() {
    SplittableRandom r = new SplittableRandom(11);
    for (int m : new int[] {1, 6, 7, 13, 64}) {
      for (int n : new int[] {1, 5, 16, 17, 288}) {
        for (int k : new int[] {2, 32, 64, 256}) {
          int lda = k + 1, ldb = (n + Gemm.NR - 1) / Gemm.NR * Gemm.NR + 3, ldc = n + 2;
          float[] a = rand(r, m * lda);
          float[] b = rand(r, k * ldb);
          for (int i = 0; i < k; i++) {
            b[i * ldb + n] = Float.NaN; // past column n: reaches only columns that are not stored
          }
          float[] pa = new float[Gemm.packedASize(m, k) + 4];
          Gemm.packA(m, k, a, 0, lda, pa, 4);
          float[] c = rand(r, m * ldc);
          float[] ref = c.clone();
          Gemm.sgemmPackedA(m, n, k, pa, 4, b, 0, ldb, c, 0, ldc);
          GemmReference.sgemm(false, false, m, n, k, 1f, a, 0, lda, b, 0, ldb, 0f, ref, 0, ldc);
          assertArrayEquals(ref, c, 1e-5f * (k + 1), "m=" + m + " n=" + n + " k=" + k);
        }
      }
    }
  }

  @Test
  void packedAProductRejectsOddKAndShortRows() {
    float[] pa = new float[Gemm.packedASize(6, 4)];
    float[] c = new float[6 * 5];
    assertThrows(
        IllegalArgumentException.class, () -> Gemm.packA(6, 3, new float[18], 0, 3, pa, 0));
    assertThrows(
        IllegalArgumentException.class,
        () -> Gemm.sgemmPackedA(6, 5, 4, pa, 0, new float[4 * 5], 0, 5, c, 0, 5));
  }

  @Test
  void zeroKScalesByBeta() {
    float[] c = {1, 2, 3, 4};
    Gemm.sgemm(false, false, 2, 2, 0, 1f, new float[1], 0, 1, new float[2], 0, 2, 0.5f, c, 0, 2);
    assertArrayEquals(new float[] {0.5f, 1, 1.5f, 2}, c);
  }
}
