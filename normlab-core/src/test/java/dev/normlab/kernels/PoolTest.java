package dev.normlab.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class PoolTest {
  /** Scalar twin: first maximum in scan order wins, a NaN wins at once (PyTorch's rule). */
  static void naiveMax(
      int planes, int ih, int iw, int k, int s, float[] x, float[] y, int[] argmax) {
    int oh = (ih - k) / s + 1, ow = (iw - k) / s + 1;
    for (int p = 0; p < planes; p++) {
      for (int oy = 0; oy < oh; oy++) {
        for (int ox = 0; ox < ow; ox++) {
          float best = 0;
          int bi = -1;
          scan:
          for (int ky = 0; ky < k; ky++) {
            for (int kx = 0; kx < k; kx++) {
              int i = (oy * s + ky) * iw + ox * s + kx;
              float v = x[p * ih * iw + i];
              if (bi < 0 || v > best || Float.isNaN(v)) {
                best = v;
                bi = i;
                if (Float.isNaN(v)) {
                  break scan;
                }
              }
            }
          }
          y[(p * oh + oy) * ow + ox] = best;
          argmax[(p * oh + oy) * ow + ox] = bi;
        }
      }
    }
  }

  @Test
  void maxPool2x2FastPathMatchesScalarTwinWithTiesNaNAndInfinities() {
    SplittableRandom r = new SplittableRandom(7);
    for (int[] shape :
        new int[][] {{3, 6, 6}, {5, 7, 9}, {64, 24, 24}, {2, 2, 2}, {3, 5, 37}, {2, 4, 66}}) {
      int planes = shape[0], ih = shape[1], iw = shape[2];
      float[] x = new float[planes * ih * iw];
      float[] special = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 0f, -0f, 1f};
      for (int i = 0; i < x.length; i++) {
        // small integers make ties common; a few specials exercise NaN and infinities
        x[i] = r.nextInt(20) == 0 ? special[r.nextInt(special.length)] : r.nextInt(4);
      }
      int oh = ih / 2, ow = iw / 2;
      float[] y = new float[planes * oh * ow], yRef = new float[y.length];
      int[] a = new int[y.length], aRef = new int[y.length];
      Pool.maxForward(planes, new Pool.Window(ih, iw, oh, ow, 2, 2, 2, 2, 0, 0, 1, 1), x, y, a);
      naiveMax(planes, ih, iw, 2, 2, x, yRef, aRef);
      assertArrayEquals(aRef, a, "argmax for shape " + java.util.Arrays.toString(shape));
      for (int i = 0; i < y.length; i++) {
        assertEquals(Float.floatToIntBits(yRef[i]), Float.floatToIntBits(y[i]), "y[" + i + "]");
      }
    }
  }

  /**
   * The 2x2 backward writes every element of gx once (the array starts as NaN) with the bits of the
   * general rule, which adds each gradient into zeros: -0 gradients, NaN windows, odd sizes, rows
   * shorter than a vector.
   */
  @Test
  void maxPool2x2BackwardIsBitwiseTheGeneralRule() {
    SplittableRandom r = new SplittableRandom(9);
    for (int[] shape :
        new int[][] {
          {3, 6, 6}, {5, 7, 9}, {64, 24, 24}, {2, 2, 2}, {3, 5, 37}, {2, 4, 66}, {4, 33, 35}
        }) {
      int planes = shape[0], ih = shape[1], iw = shape[2];
      float[] x = new float[planes * ih * iw];
      for (int i = 0; i < x.length; i++) {
        x[i] = r.nextInt(25) == 0 ? Float.NaN : r.nextInt(4);
      }
      int oh = ih / 2, ow = iw / 2;
      float[] y = new float[planes * oh * ow], gy = new float[y.length];
      int[] a = new int[y.length];
      Pool.maxForward(planes, new Pool.Window(ih, iw, oh, ow, 2, 2, 2, 2, 0, 0, 1, 1), x, y, a);
      float[] special = {-0f, 0f, Float.NaN, Float.NEGATIVE_INFINITY};
      for (int i = 0; i < gy.length; i++) {
        gy[i] = r.nextInt(8) == 0 ? special[r.nextInt(special.length)] : (float) r.nextGaussian();
      }
      float[] gx = new float[x.length], gxRef = new float[x.length];
      java.util.Arrays.fill(gx, Float.NaN);
      java.util.Arrays.fill(gxRef, Float.NaN);
      Pool.maxBackward(planes, new Pool.Window(ih, iw, oh, ow, 2, 2, 2, 2, 0, 0, 1, 1), gy, a, gx);
      Pool.maxBackward(planes, ih * iw, oh * ow, gy, a, gxRef);
      for (int i = 0; i < gx.length; i++) {
        assertEquals(
            Float.floatToRawIntBits(gxRef[i]),
            Float.floatToRawIntBits(gx[i]),
            "gx[" + i + "] for shape " + java.util.Arrays.toString(shape));
      }
    }
  }

  @Test
  void generalMaxPoolMatchesScalarTwin() {
    SplittableRandom r = new SplittableRandom(8);
    int planes = 4, ih = 11, iw = 10, k = 3, s = 2;
    float[] x = new float[planes * ih * iw];
    for (int i = 0; i < x.length; i++) {
      x[i] = r.nextInt(30) == 0 ? Float.NaN : r.nextInt(5);
    }
    int oh = (ih - k) / s + 1, ow = (iw - k) / s + 1;
    float[] y = new float[planes * oh * ow], yRef = new float[y.length];
    int[] a = new int[y.length], aRef = new int[y.length];
    Pool.maxForward(planes, new Pool.Window(ih, iw, oh, ow, k, k, s, s, 0, 0, 1, 1), x, y, a);
    naiveMax(planes, ih, iw, k, s, x, yRef, aRef);
    assertArrayEquals(aRef, a);
    for (int i = 0; i < y.length; i++) {
      assertEquals(Float.floatToIntBits(yRef[i]), Float.floatToIntBits(y[i]), "y[" + i + "]");
    }
  }
}
