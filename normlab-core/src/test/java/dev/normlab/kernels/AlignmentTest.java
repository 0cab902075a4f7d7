package dev.normlab.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@link Alignment}: addresses are known in the test JVM (it runs with the export, as normlab's
 * launcher does), the offsets it gives agree with where back-to-back arrays must lie, and
 * Winograd's results do not depend on where its scratch rows start.
 */
class AlignmentTest {
  @AfterEach
  void realOffsets() {
    Alignment.forced = -1;
  }

  @Test
  void addressesAreKnownUnderTheExport() {
    assertTrue(Alignment.known(), "the suite runs with jdk.internal.misc exported");
  }

  /**
   * Two one-float arrays allocated back to back are 24 bytes apart (16 of header, 4 of data, 4 of
   * padding), six floats: so the second's offset is the first's minus six, modulo eight. A wrong
   * decoding of references (the compressed-oop shift) breaks this. Allocation can jump to a new
   * buffer between the two, so most pairs, not all, must agree.
   */
  @Test
  void offsetsAgreeWithBackToBackArrays() {
    int agree = 0;
    for (int i = 0; i < 20; i++) {
      float[] a = new float[1];
      float[] b = new float[1];
      int oa = Alignment.offset(a);
      int ob = Alignment.offset(b);
      assertTrue(oa >= 0 && oa < Alignment.SLACK && ob >= 0 && ob < Alignment.SLACK);
      if (ob == Math.floorMod(oa - 6, Alignment.SLACK)) {
        agree++;
      }
    }
    assertTrue(agree >= 15, agree + " of 20 pairs agree");
  }

  @Test
  void winogradResultsDoNotDependOnTheScratchOffsets() {
    ConvGeom g =
        new ConvGeom(
            3,
            9,
            new int[] {11, 10},
            10,
            new int[] {3, 3},
            new int[] {1, 1},
            new int[] {1, 1},
            new int[] {1, 1},
            1);
    assertTrue(Winograd.applies(g) && Winograd.backwardInputApplies(g));
    SplittableRandom r = new SplittableRandom(3);
    float[] x = rand(r, g.n() * g.cin() * g.inSize());
    float[] w = rand(r, g.cout() * g.cin() * 9);
    float[] bias = rand(r, g.cout());
    float[] gy = rand(r, g.n() * g.cout() * g.outSize());
    float[][] expected = run(g, x, w, bias, gy);
    for (int offset = 0; offset < Alignment.SLACK; offset++) {
      Alignment.forced = offset;
      float[][] got = run(g, x, w, bias, gy);
      for (int i = 0; i < got.length; i++) {
        assertArrayEquals(expected[i], got[i], "output " + i + " with offset " + offset);
      }
    }
  }

  /** y, gx and gw, each from arrays that start as NaN (a missed element shows). */
  private static float[][] run(ConvGeom g, float[] x, float[] w, float[] bias, float[] gy) {
    float[] y = nan(gy.length);
    float[] gx = nan(x.length);
    float[] gw = nan(w.length);
    Winograd.forward(g, x, w, bias, y);
    Winograd.backward(g, x, gy, w, gx, gw);
    return new float[][] {y, gx, gw};
  }

  private static float[] nan(int n) {
    float[] a = new float[n];
    java.util.Arrays.fill(a, Float.NaN);
    return a;
  }

  private static float[] rand(SplittableRandom r, int n) {
    float[] a = new float[n];
    for (int i = 0; i < n; i++) {
      a[i] = (float) (r.nextDouble() * 2 - 1);
    }
    return a;
  }
}
