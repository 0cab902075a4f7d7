package dev.normlab.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;
import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

/**
 * {@code Winograd.laneDots} against a scalar twin: every (row of a, row of b) pair, lane by lane,
 * with fused multiply-adds in t order from zero, the lanes folded in halves down to {@code
 * PARTIALS} (lane w + g/2 added to lane w) and added to acc — the arithmetic the kernel keeps
 * whatever block a pair falls in, its shuffles included — so the results must agree bit for bit.
 * Row counts cover the 4 x 2 and 4 x 4 blocks, the columns and rows they leave, and conv2's shape.
 */
class LaneDotsTest {
  private static final int L = FloatVector.SPECIES_PREFERRED.length();

  @Test
  void everyBlockShapeMatchesTheScalarTwinBitwise() {
    SplittableRandom r = new SplittableRandom(7);
    for (int m = 1; m <= 9; m++) {
      for (int n = 1; n <= 8; n++) {
        for (int vectors : new int[] {2, 4, 6}) { // k steps by pairs of vectors
          check(r, m, n, vectors * L);
        }
      }
    }
    check(r, 64, 32, 36 * L); // conv2's weight gradient: 64 x 32 per position
  }

  private static void check(SplittableRandom r, int m, int n, int k) {
    int ld = k + L + 3; // rows further apart than k, and not a whole number of vectors
    int aOff = 5, bOff = 2, p = 3;
    float[] a = rand(r, aOff + m * ld);
    float[] b = rand(r, bOff + n * ld);
    int q = Winograd.PARTIALS;
    float[] acc = rand(r, (p + m * n) * q + 4);
    float[] expected = acc.clone();
    float[] lanes = new float[L];
    for (int i = 0; i < m; i++) {
      for (int j = 0; j < n; j++) {
        for (int lane = 0; lane < L; lane++) {
          float s = 0f;
          for (int t = 0; t < k; t += L) {
            s = Math.fma(a[aOff + i * ld + t + lane], b[bOff + j * ld + t + lane], s);
          }
          lanes[lane] = s;
        }
        for (int g = L; g > q; g /= 2) {
          for (int w = 0; w < g / 2; w++) {
            lanes[w] += lanes[w + g / 2];
          }
        }
        for (int w = 0; w < q; w++) {
          expected[(p + i * n + j) * q + w] += lanes[w];
        }
      }
    }
    // a scratch holding NaNs from the start: the fold must read only what the blocks stored
    float[] sums = new float[Winograd.LANE_DOTS_SCRATCH];
    java.util.Arrays.fill(sums, Float.NaN);
    Winograd.laneDots(m, n, k, a, aOff, b, bOff, ld, acc, p, sums);
    for (int c = 0; c < acc.length; c++) {
      assertEquals(
          Float.floatToRawIntBits(expected[c]),
          Float.floatToRawIntBits(acc[c]),
          "m=" + m + " n=" + n + " k=" + k + " at " + c + ": " + expected[c] + " vs " + acc[c]);
    }
  }

  private static float[] rand(SplittableRandom r, int size) {
    float[] x = new float[size];
    for (int i = 0; i < size; i++) {
      x[i] = (float) (r.nextDouble() * 2 - 1);
    }
    return x;
  }
}
