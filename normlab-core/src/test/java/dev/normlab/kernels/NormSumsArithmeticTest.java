package dev.normlab.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

/**
 * The norms' reductions against a scalar model of their exact arithmetic, bit for bit: lanes
 * accumulated in float over blocks of {@link NormLoops#FLUSH} vectors (two interleaved chains),
 * each block's lanes added into double in lane order, blocks in order, a scalar tail. Training
 * results depend on these sums to the last bit (same seed and threads give the same run, and the
 * README's accuracy tables hold across builds only while they do), so a faster kernel must keep
 * this order; lengths cover partial blocks, an odd vector count and tails, and rows long enough for
 * many blocks.
 */
class NormSumsArithmeticTest {
  private static final int L = FloatVector.SPECIES_PREFERRED.length();
  private static final int[] LENGTHS = {
    1,
    7,
    L,
    2 * L + 3,
    129,
    33 * L,
    65 * L + 2,
    576,
    676,
    1031,
    2704,
    4608,
    9000,
    // around where sums' first loop takes blocks in pairs (blocks of 16 vectors): two whole blocks
    // and no more, one more vector (the odd one, folded into the second block), two more
    32 * L,
    34 * L,
    34 * L + 1,
    35 * L,
    67 * L,
    68 * L + 5
  };

  @Test
  void sumsMatchTheirScalarModelBitwise() {
    SplittableRandom r = new SplittableRandom(3);
    // a large common offset, as in the precision tests, and a small one: on 1e4 the differences
    // are coarse and their float sums exact whatever the order, so only the second catches a
    // block boundary moved
    for (float offset : new float[] {1e4f, 0.5f}) {
      for (int len : LENGTHS) {
        float[] x = rand(r, len + 9, offset);
        assertSumsAreTheirModel(x, len, x[4], "offset " + offset + ", len " + len);
      }
    }
  }

  /**
   * Rows too long for cache (2^18 values and more, as Layer Norm's over a 64×128×128 map): the same
   * model, bit for bit, where every order is exact (a large offset), where the blocks' lanes
   * straddle zero (x about its first value), where their magnitudes lie 40 binades apart, so that
   * only the in-order sum is right, and with a NaN or an infinity in the row.
   */
  @Test
  void longRowsSumsMatchTheirScalarModelBitwise() {
    SplittableRandom r = new SplittableRandom(7);
    int min = 1 << 18;
    int[] lengths = {min, min + 1, min + L, min + 2 * L + 3, min + 33 * L + 5};
    for (int kind = 0; kind < 5; kind++) {
      for (int len : lengths) {
        float[] x = rand(r, len + 9, kind == 0 ? 1e4f : 0.5f);
        if (kind == 2) {
          for (int i = 0; i < x.length; i++) {
            float v = (float) Math.scalb(1 + r.nextDouble(), -r.nextInt(41));
            x[i] = 0.5f + (r.nextBoolean() ? v : -v);
          }
        } else if (kind == 3) {
          x[4 + r.nextInt(len)] = Float.NaN;
        } else if (kind == 4) {
          x[4 + r.nextInt(len)] = Float.POSITIVE_INFINITY;
        }
        assertSumsAreTheirModel(x, len, kind == 2 ? 0.5f : x[4], "kind " + kind + ", len " + len);
      }
    }
  }

  /**
   * {@code sums} of {@code x[4, 4 + len)} about hi (lo 1e-4) into an accumulator already holding
   * values, against the model bit for bit.
   */
  private static void assertSumsAreTheirModel(float[] x, int len, float hi, String what) {
    float lo = 1e-4f;
    double[] acc = {0.5, -0.25};
    NormLoops.sums(x, 4, len, hi, lo, acc, staleScratch(len));
    double[] model = sumsModel(x, 4, len, hi, lo);
    assertEquals(
        Double.doubleToRawLongBits(0.5 + model[0]),
        Double.doubleToRawLongBits(acc[0]),
        "sum, " + what);
    assertEquals(
        Double.doubleToRawLongBits(-0.25 + model[1]),
        Double.doubleToRawLongBits(acc[1]),
        "sum of squares, " + what);
  }

  /**
   * The exactness test at its bound, on a long row: lanes 16 binades apart (the largest 1.9 * 2^16,
   * the smallest 1 + 2^-23, in the second block of the first pair), 16,384 of them a sum, so one
   * binade past what every order can take. The lanes rise to 2^30 in order, where the smallest
   * one's last bit is lost, and fall back; summed lane by lane the bit stays. The sum must be the
   * in-order one: a test counting half the lanes, or missing the second block of a pair, takes the
   * other (both checked on a version that tested the blocks as it made them, 2026-12-04).
   */
  @Test
  void longRowsSumsKeepTheInOrderBitsJustPastTheBound() {
    int blockLen = NormLoops.FLUSH * L;
    int len = 1 << 18;
    int blocks = len / blockLen;
    float big = 1.9f * 65536f;
    float tiny = 1f + 0x1p-23f;
    float[] x = new float[len];
    int rising = 9008 / L; // 9,008 lanes: past 2^30 in order
    for (int b = 0; b < blocks; b++) {
      for (int l = 0; l < L; l++) {
        x[b * blockLen + l] = b < rising ? big : -big; // one value a lane: the lane is that value
      }
    }
    x[blockLen + 3] = tiny;
    double[] acc = {0, 0};
    NormLoops.sums(x, 0, len, 0f, 0f, acc, staleScratch(len));
    double[] model = sumsModel(x, 0, len, 0f, 0f);
    // lane by lane, then the lanes: another order, which here gives other bits
    double[] lanes = new double[L];
    for (int b = 0; b < blocks; b++) {
      for (int l = 0; l < L; l++) {
        lanes[l] += x[b * blockLen + l];
      }
    }
    double byLane = 0;
    for (double v : lanes) {
      byLane += v;
    }
    assertTrue(byLane != model[0], "the case must depend on the order");
    assertEquals(Double.doubleToRawLongBits(model[0]), Double.doubleToRawLongBits(acc[0]));
    assertEquals(Double.doubleToRawLongBits(model[1]), Double.doubleToRawLongBits(acc[1]));
  }

  @Test
  void gradSumsMatchTheirScalarModelBitwise() {
    SplittableRandom r = new SplittableRandom(4);
    for (int len : LENGTHS) {
      float[] x = rand(r, len + 9, 3f);
      float[] dy = rand(r, len + 9, 0f);
      float hi = x[2];
      float lo = -2e-5f;
      double[] acc = {0, 0};
      NormLoops.gradSums(dy, x, 2, len, hi, lo, acc, staleScratch(len));
      double[] model = gradSumsModel(dy, x, 2, len, hi, lo);
      assertEquals(
          Double.doubleToRawLongBits(model[0]),
          Double.doubleToRawLongBits(acc[0]),
          "sum of dy, len " + len);
      assertEquals(
          Double.doubleToRawLongBits(model[1]),
          Double.doubleToRawLongBits(acc[1]),
          "sum of dy*d, len " + len);
    }
  }

  /**
   * Group Norm's row of channels at once ({@link NormLoops#channelGradSums}, one exactness test for
   * the row's lanes) against each channel's {@link NormLoops#gradSums} and its scalar model, bit
   * for bit: channels alike in scale (the row's test passes), channels 2^30 apart in scale (it
   * fails, each channel's own passes), all-zero channels, a channel of -0.0, and a NaN or an
   * infinity.
   */
  @Test
  void channelGradSumsAreEachChannelsGradSumsBitwise() {
    SplittableRandom r = new SplittableRandom(6);
    for (int inner : new int[] {1, 7, L, 2 * L + 3, 129, 576, 676, 1031}) {
      for (int channels : new int[] {2, 4, 8}) {
        for (String kind : new String[] {"alike", "scales", "zeros", "negzero", "nan", "inf"}) {
          int len = channels * inner;
          float[] x = rand(r, len + 5, 3f);
          float[] dy = rand(r, len + 5, 0f);
          int off = 3;
          for (int j = 0; j < channels; j++) {
            for (int i = 0; i < inner; i++) {
              int at = off + j * inner + i;
              switch (kind) {
                case "scales" -> dy[at] *= (j % 2 == 0) ? 0x1p-15f : 0x1p15f;
                case "zeros" -> dy[at] = j == 1 ? 0f : dy[at];
                case "negzero" -> dy[at] = j == 0 ? -0f : dy[at];
                default -> {}
              }
            }
          }
          if (kind.equals("nan")) {
            dy[off + inner + inner / 2] = Float.NaN;
          } else if (kind.equals("inf")) {
            dy[off + inner / 2] = Float.POSITIVE_INFINITY;
          }
          float hi = x[1];
          float lo = 3e-6f;
          double[] s1 = new double[channels + 2];
          double[] s2 = new double[channels + 2];
          float[] part = NormLoops.channelPartials(channels, inner);
          java.util.Arrays.fill(part, Float.NaN);
          NormLoops.channelGradSums(dy, x, off, channels, inner, hi, lo, part, s1, s2, 1);
          for (int j = 0; j < channels; j++) {
            String what = kind + ", " + channels + " channels of " + inner + ", channel " + j;
            double[] acc = {0, 0};
            NormLoops.gradSums(dy, x, off + j * inner, inner, hi, lo, acc, staleScratch(inner));
            double[] model = gradSumsModel(dy, x, off + j * inner, inner, hi, lo);
            assertEquals(
                Double.doubleToRawLongBits(acc[0]), Double.doubleToRawLongBits(s1[1 + j]), what);
            assertEquals(
                Double.doubleToRawLongBits(acc[1]), Double.doubleToRawLongBits(s2[1 + j]), what);
            assertEquals(
                Double.doubleToRawLongBits(model[0]), Double.doubleToRawLongBits(s1[1 + j]), what);
            assertEquals(
                Double.doubleToRawLongBits(model[1]), Double.doubleToRawLongBits(s2[1 + j]), what);
          }
        }
      }
    }
  }

  /**
   * The forward's fused pass (this row's y, the next row's sums) against the sums' model and each
   * element's y of the separate pass, bit for bit; channel lengths put boundaries at, inside and
   * across vector pairs, and blocks end in odd vectors and tails.
   */
  @Test
  void fusedForwardPassesMatchTheSeparatePassesBitwise() {
    SplittableRandom r = new SplittableRandom(5);
    for (int inner : new int[] {2 * L, 2 * L + 1, 3 * L - 1, 5 * L + 7, 576, 676}) {
      for (int cpg : new int[] {1, 3, 4}) {
        int len = cpg * inner;
        float[] x = rand(r, 2 * len + 5, 0.5f);
        float hi = x[3] + 1e-3f;
        float k = x[3 + len];
        float[] scale = new float[cpg];
        float[] shift = new float[cpg];
        for (int j = 0; j < cpg; j++) {
          scale[j] = 0.5f + j;
          shift[j] = 0.25f - j;
        }
        float[] y = new float[x.length];
        double[] acc = {0, 0};
        NormLoops.affineNextSums(x, y, 3, len, inner, hi, scale, shift, k, acc, staleScratch(len));
        assertSumsAreTheModels(acc, x, 3 + len, len, k, "inner " + inner + ", cpg " + cpg);
        for (int i = 0; i < len; i++) {
          int j = i / inner;
          assertEquals(
              Math.fma(x[3 + i] - hi, scale[j], shift[j]),
              y[3 + i],
              "y[" + i + "], inner " + inner + ", cpg " + cpg);
        }
      }
    }
    for (int len : LENGTHS) {
      float[] x = rand(r, 2 * len + 5, 0.5f);
      float[] w = rand(r, len + 2, 1f);
      float[] b = rand(r, len + 2, 0f);
      float hi = x[3] + 1e-3f;
      float lo = 2e-5f;
      float rs = 1.7f;
      float k = x[3 + len];
      float[] fused = new float[x.length];
      float[] separate = new float[x.length];
      double[] acc = {0, 0};
      NormLoops.elemAffineNextSums(
          x, fused, 3, len, hi, lo, rs, w, b, 2, k, acc, staleScratch(len));
      NormLoops.elemAffine(x, separate, 3, len, hi, lo, rs, w, b, 2);
      assertSumsAreTheModels(acc, x, 3 + len, len, k, "per-element affine, len " + len);
      assertEquals(
          java.util.Arrays.toString(separate), java.util.Arrays.toString(fused), "len " + len);
    }
  }

  /**
   * The blocks' lanes added as vectors of doubles where the magnitudes say every order is exact, in
   * order elsewhere: either way the in-order sum's bits. Lanes with exponents spread from 0 to 40
   * (past the bound, where the order does change a sum), random signs, zeros of both signs,
   * subnormals, infinities and NaN, over 1 to 20 blocks, at both offsets.
   */
  @Test
  void sumBlocksIsTheInOrderSumBitwise() {
    SplittableRandom r = new SplittableRandom(5);
    int differing = 0;
    for (int trial = 0; trial < 20_000; trial++) {
      int blocks = 1 + r.nextInt(20);
      int spread = r.nextInt(41);
      float[] part = new float[2 * L * blocks];
      for (int i = 0; i < part.length; i++) {
        float v = (float) Math.scalb(1 + r.nextDouble(), -r.nextInt(spread + 1));
        part[i] = r.nextBoolean() ? v : -v;
        int special = r.nextInt(400);
        if (special == 0) {
          part[i] = r.nextBoolean() ? 0f : -0f;
        } else if (special == 1) {
          part[i] = Float.MIN_VALUE * (1 + r.nextInt(1000));
        } else if (special == 2 && trial % 7 == 0) {
          part[i] = r.nextBoolean() ? Float.POSITIVE_INFINITY : Float.NaN;
        }
      }
      int at = r.nextBoolean() ? 0 : L;
      double inOrder = NormLoops.sumBlocksInOrder(part, part.length, at);
      assertEquals(
          Double.doubleToRawLongBits(inOrder),
          Double.doubleToRawLongBits(NormLoops.sumBlocks(part, part.length, at)),
          "trial " + trial + ", spread " + spread + ", blocks " + blocks);
      double reversed = 0;
      for (int i = part.length - 2 * L + at; i >= 0; i -= 2 * L) {
        for (int l = L - 1; l >= 0; l--) {
          reversed += part[i + l];
        }
      }
      if (Double.doubleToRawLongBits(reversed) != Double.doubleToRawLongBits(inOrder)) {
        differing++;
      }
    }
    // the trials reach sums whose order matters, so the bound is tested, not just the easy case
    assertTrue(differing > 1000, "sums where the order matters: " + differing);
    float[] zeros = new float[4 * L];
    zeros[3] = -0f;
    assertEquals(
        Double.doubleToRawLongBits(NormLoops.sumBlocksInOrder(zeros, zeros.length, 0)),
        Double.doubleToRawLongBits(NormLoops.sumBlocks(zeros, zeros.length, 0)));
  }

  /** The bound at its edge: 48 lanes (log2 rounds up to 6) take exponents 23 apart, not 24. */
  @Test
  void exactInAnyOrderHoldsUpToItsBound() {
    int one = Float.floatToRawIntBits(1f);
    assertTrue(NormLoops.exactInAnyOrder(one, Float.floatToRawIntBits(0x1p-23f), 48));
    assertFalse(NormLoops.exactInAnyOrder(one, Float.floatToRawIntBits(0x1p-24f), 48));
    assertTrue(NormLoops.exactInAnyOrder(one, Float.floatToRawIntBits(0x1p-25f), 16));
    assertFalse(NormLoops.exactInAnyOrder(one, Float.floatToRawIntBits(0x1p-26f), 16));
    // subnormals share the unit 2^-149 of the smallest normal exponent
    int minNormal = Float.floatToRawIntBits(Float.MIN_NORMAL);
    assertTrue(NormLoops.exactInAnyOrder(minNormal, Float.floatToRawIntBits(Float.MIN_VALUE), 64));
  }

  private static void assertSumsAreTheModels(
      double[] acc, float[] x, int off, int len, float k, String what) {
    double[] model = sumsModel(x, off, len, k, 0f);
    assertEquals(
        Double.doubleToRawLongBits(model[0]), Double.doubleToRawLongBits(acc[0]), "sum, " + what);
    assertEquals(
        Double.doubleToRawLongBits(model[1]),
        Double.doubleToRawLongBits(acc[1]),
        "sum of squares, " + what);
  }

  /** The element terms of a reduction: sum1 adds first(i), sum2 adds left(i) * right(i). */
  private interface Terms {
    float first(int i);

    float left(int i);

    float right(int i);
  }

  /**
   * The kernels' scratch at its smallest size for {@code len} (too small throws) and full of NaN,
   * as another row's leftovers: a kernel that read a slot it did not write would give NaN.
   */
  private static float[] staleScratch(int len) {
    float[] part = NormLoops.partials(len);
    java.util.Arrays.fill(part, Float.NaN);
    return part;
  }

  /** {@code NormLoops.sums} one lane at a time. */
  private static double[] sumsModel(float[] x, int off, int len, float hi, float lo) {
    Terms d =
        new Terms() {
          public float first(int i) {
            return x[off + i] - hi;
          }

          public float left(int i) {
            return x[off + i] - hi;
          }

          public float right(int i) {
            return x[off + i] - hi;
          }
        };
    double[] s = model(len, d);
    return new double[] {s[0] - len * (double) lo, s[1] - 2.0 * lo * s[0] + len * (double) lo * lo};
  }

  /** {@code NormLoops.gradSums} one lane at a time. */
  private static double[] gradSumsModel(
      float[] dy, float[] x, int off, int len, float hi, float lo) {
    Terms g =
        new Terms() {
          public float first(int i) {
            return dy[off + i];
          }

          public float left(int i) {
            return dy[off + i];
          }

          public float right(int i) {
            return x[off + i] - hi;
          }
        };
    double[] s = model(len, g);
    return new double[] {s[0], s[1] - lo * s[0]};
  }

  /**
   * The kernels' shared order: blocks of FLUSH vectors in two interleaved chains (a second chain
   * from the odd vectors, a lone last vector into the first), lanes in float, each block's lanes
   * added into double in lane order, then the scalar tail in double.
   */
  private static double[] model(int len, Terms t) {
    int up2 = len - 2 * L + 1;
    int up = len - len % L;
    double s1 = 0;
    double s2 = 0;
    int i = 0;
    while (i < up) {
      int end2 = Math.min(up2, i + NormLoops.FLUSH * L);
      float[] a1 = new float[L], a2 = new float[L], b1 = new float[L], b2 = new float[L];
      for (; i < end2; i += 2 * L) {
        for (int l = 0; l < L; l++) {
          a1[l] += t.first(i + l);
          a2[l] = Math.fma(t.left(i + l), t.right(i + l), a2[l]);
          b1[l] += t.first(i + L + l);
          b2[l] = Math.fma(t.left(i + L + l), t.right(i + L + l), b2[l]);
        }
      }
      if (i < up && i >= up2) {
        for (int l = 0; l < L; l++) {
          a1[l] += t.first(i + l);
          a2[l] = Math.fma(t.left(i + l), t.right(i + l), a2[l]);
        }
        i += L;
      }
      s1 += laneSum(a1, b1);
      s2 += laneSum(a2, b2);
    }
    for (; i < len; i++) {
      s1 += t.first(i);
      s2 += (double) t.left(i) * t.right(i);
    }
    return new double[] {s1, s2};
  }

  /** (a + b) lane by lane in float, then the lanes added in order in double. */
  private static double laneSum(float[] a, float[] b) {
    double s = 0;
    for (int l = 0; l < L; l++) {
      s += a[l] + b[l];
    }
    return s;
  }

  private static float[] rand(SplittableRandom r, int n, float offset) {
    float[] a = new float[n];
    for (int i = 0; i < n; i++) {
      a[i] = offset + (float) (r.nextDouble() * 2 - 1);
    }
    return a;
  }
}
