package dev.normlab.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * 2-d max and average pooling over planes [planes, ih, iw] (1-d pooling is 2-d with ih = 1), with
 * PyTorch's semantics for stride, padding, dilation (max), ceil_mode and count_include_pad (avg).
 * Planes are split over threads.
 */
public final class Pool {
  /**
   * At most 256 bits: the CNN's pooled rows are 12 outputs long, and rows shorter than a vector
   * take the scalar rule, so with AVX-512's 16 lanes every window did (9% of a training step on
   * such a machine, measured with JFR).
   */
  private static final VectorSpecies<Float> FS =
      FloatVector.SPECIES_PREFERRED.vectorBitSize() > 256
          ? FloatVector.SPECIES_256
          : FloatVector.SPECIES_PREFERRED;

  private static final VectorShuffle<Float> EVEN = Interleave.even(FS);
  private static final VectorShuffle<Float> ODD = Interleave.odd(FS);
  private static final VectorShuffle<Float> ZIP_LO = Interleave.zipLo(FS);
  private static final VectorShuffle<Float> ZIP_HI = Interleave.zipHi(FS);
  private static final VectorSpecies<Integer> IS = VectorSpecies.of(int.class, FS.vectorShape());

  /** 0, 2, 4, ...: lane i's window starts 2i columns after the first. */
  private static final int[] EVEN_INDEX = new int[FS.length()];

  static {
    for (int i = 0; i < FS.length(); i++) {
      EVEN_INDEX[i] = 2 * i;
    }
  }

  private Pool() {}

  /**
   * One plane's pooling geometry, a 1-d pooling as a height of 1: input and output sizes, then the
   * window's kernel, stride, padding and dilation (height, width).
   */
  public record Window(
      int ih,
      int iw,
      int oh,
      int ow,
      int kh,
      int kw,
      int sh,
      int sw,
      int ph,
      int pw,
      int dh,
      int dw) {
    int inPlane() {
      return ih * iw;
    }

    int outPlane() {
      return oh * ow;
    }

    /**
     * Whether max pooling takes the 2x2, stride-2 fast path: no padding or dilation, and every
     * window inside the input (with ceil_mode and an odd size the last window hangs over the edge,
     * and the general loop skips its missing elements).
     */
    boolean isMax2x2() {
      return kh == 2
          && kw == 2
          && sh == 2
          && sw == 2
          && ph == 0
          && pw == 0
          && dh == 1
          && dw == 1
          && 2 * oh <= ih
          && 2 * ow <= iw;
    }

    /** The divisor of the average window at (oy, ox), as PyTorch computes it. */
    int divisor(int oy, int ox, boolean countIncludePad) {
      int y0 = oy * sh - ph, x0 = ox * sw - pw;
      int y1 = Math.min(y0 + kh, ih + ph), x1 = Math.min(x0 + kw, iw + pw);
      int poolSize = (y1 - y0) * (x1 - x0);
      if (countIncludePad) {
        return poolSize;
      }
      y0 = Math.max(y0, 0);
      x0 = Math.max(x0, 0);
      y1 = Math.min(y1, ih);
      x1 = Math.min(x1, iw);
      return Math.max(0, (y1 - y0) * (x1 - x0));
    }
  }

  /**
   * Output length of one pooled dim, as PyTorch's {@code pooling_output_shape}: with ceil_mode the
   * last window must start inside the input or the left padding.
   */
  public static int outSize(int in, int k, int s, int p, int d, boolean ceil) {
    int span = in + 2 * p - d * (k - 1) - 1;
    int out = (ceil ? Math.floorDiv(span + s - 1, s) : Math.floorDiv(span, s)) + 1;
    if (ceil && (out - 1) * s >= in + p) {
      out--;
    }
    return out;
  }

  /** Max pooling; {@code argmax[o]} receives the flat in-plane index of each output's maximum. */
  public static void maxForward(int planes, Window g, float[] x, float[] y, int[] argmax) {
    if (g.isMax2x2()) {
      max2x2(planes, g.ih(), g.iw(), g.oh(), g.ow(), x, y, argmax);
      return;
    }
    int ih = g.ih(), iw = g.iw(), oh = g.oh(), ow = g.ow(), kh = g.kh(), kw = g.kw();
    int sh = g.sh(), sw = g.sw(), ph = g.ph(), pw = g.pw(), dh = g.dh(), dw = g.dw();
    int inPlane = g.inPlane(), outPlane = g.outPlane();
    Parallel.forRange(
        planes,
        Math.max(1, 4096 / Math.max(1, outPlane)),
        (p0, p1) -> {
          for (int p = p0; p < p1; p++) {
            int xo = p * inPlane, yo = p * outPlane;
            for (int oy = 0; oy < oh; oy++) {
              for (int ox = 0; ox < ow; ox++) {
                float best = Float.NEGATIVE_INFINITY;
                int bi = -1;
                for (int ky = 0; ky < kh; ky++) {
                  int iy = oy * sh - ph + ky * dh;
                  if (iy < 0 || iy >= ih) {
                    continue;
                  }
                  for (int kx = 0; kx < kw; kx++) {
                    int ix = ox * sw - pw + kx * dw;
                    if (ix < 0 || ix >= iw) {
                      continue;
                    }
                    float v = x[xo + iy * iw + ix];
                    if (v > best || Float.isNaN(v) || bi < 0) {
                      best = v;
                      bi = iy * iw + ix;
                      if (Float.isNaN(v)) {
                        ky = kh;
                        break;
                      }
                    }
                  }
                }
                y[yo + oy * ow + ox] = best;
                argmax[yo + oy * ow + ox] = bi;
              }
            }
          }
        });
  }

  /**
   * The common 2x2, stride-2 case, as vectors along each output row: two loads per input row are
   * split into even and odd columns by two-vector shuffles (gathers are slow on AVX2, and C2 does
   * not always intrinsify them), the four corners compared with selects; the rare window holding a
   * NaN, and the row's tail, take the scalar rule.
   */
  private static void max2x2(
      int planes, int ih, int iw, int oh, int ow, float[] x, float[] y, int[] argmax) {
    int inPlane = ih * iw, outPlane = oh * ow;
    int l = FS.length();
    Parallel.forRange(
        planes,
        Math.max(1, 4096 / Math.max(1, outPlane)),
        (p0, p1) -> {
          IntVector twice = IntVector.fromArray(IS, EVEN_INDEX, 0);
          for (int p = p0; p < p1; p++) {
            int xo = p * inPlane, yo = p * outPlane;
            for (int oy = 0; oy < oh; oy++) {
              int row = 2 * oy * iw; // window starts, relative to the plane
              int out = yo + oy * ow;
              if (ow < l) {
                for (int ox = 0; ox < ow; ox++) {
                  max2x2One(x, xo, row + 2 * ox, iw, y, argmax, out + ox);
                }
                continue;
              }
              // vectors of l outputs; the last one is moved back to end at ow (it may redo a few
              // outputs, which gives the same values) so a row of 12 needs no scalar tail
              for (int ox = 0; ; ox = Math.min(ox + l, ow - l)) {
                int at = xo + row + 2 * ox;
                FloatVector a = FloatVector.fromArray(FS, x, at);
                FloatVector b = FloatVector.fromArray(FS, x, at + l);
                FloatVector v0 = a.rearrange(EVEN, b), v1 = a.rearrange(ODD, b);
                a = FloatVector.fromArray(FS, x, at + iw);
                b = FloatVector.fromArray(FS, x, at + iw + l);
                FloatVector v2 = a.rearrange(EVEN, b), v3 = a.rearrange(ODD, b);
                var nan =
                    v0.test(VectorOperators.IS_NAN)
                        .or(v1.test(VectorOperators.IS_NAN))
                        .or(v2.test(VectorOperators.IS_NAN))
                        .or(v3.test(VectorOperators.IS_NAN));
                if (nan.anyTrue()) {
                  for (int k = ox; k < ox + l; k++) {
                    max2x2One(x, xo, row + 2 * k, iw, y, argmax, out + k);
                  }
                } else {
                  // strict > keeps the first maximum in scan order, as the scalar loop
                  IntVector s = twice.add(row + 2 * ox);
                  FloatVector best = v0;
                  IntVector bi = s;
                  var t = v1.compare(VectorOperators.GT, best);
                  best = best.blend(v1, t);
                  bi = bi.blend(s.add(1), t.cast(IS));
                  t = v2.compare(VectorOperators.GT, best);
                  best = best.blend(v2, t);
                  bi = bi.blend(s.add(iw), t.cast(IS));
                  t = v3.compare(VectorOperators.GT, best);
                  best = best.blend(v3, t);
                  bi = bi.blend(s.add(iw + 1), t.cast(IS));
                  best.intoArray(y, out + ox);
                  bi.intoArray(argmax, out + ox);
                }
                if (ox + l >= ow) {
                  break;
                }
              }
            }
          }
        });
  }

  /** One 2x2 window at x[xo + i0]: the first maximum in scan order, or the first NaN. */
  private static void max2x2One(
      float[] x, int xo, int i0, int iw, float[] y, int[] argmax, int out) {
    float best = x[xo + i0];
    int bi = i0;
    if (!Float.isNaN(best)) {
      // the other three corners in scan order; a NaN wins at once, else strict > keeps the first
      for (int k = 1; k < 4; k++) {
        int at = i0 + (k >> 1) * iw + (k & 1);
        float v = x[xo + at];
        if (Float.isNaN(v) || v > best) {
          best = v;
          bi = at;
          if (Float.isNaN(v)) {
            break;
          }
        }
      }
    }
    y[out] = best;
    argmax[out] = bi;
  }

  /**
   * gx (overwritten) from gy and the argmax of {@link #maxForward} with the same geometry. Windows
   * that do not overlap (the 2x2, stride-2 case) are written once each: every element of gx is
   * either its window's gradient or zero, with no zeroing pass before and no scattered
   * read-modify-write; otherwise gradients are added where the windows put them.
   */
  public static void maxBackward(int planes, Window g, float[] gy, int[] argmax, float[] gx) {
    if (g.isMax2x2()) {
      max2x2Backward(planes, g.ih(), g.iw(), g.oh(), g.ow(), gy, argmax, gx);
    } else {
      maxBackward(planes, g.inPlane(), g.outPlane(), gy, argmax, gx);
    }
  }

  /**
   * {@link #maxBackward} for 2x2 windows with stride 2, as vectors along each output row: each
   * corner's lanes take the output's gradient where the argmax is that corner and 0 elsewhere, and
   * the even and odd columns are zipped back into the input's rows. A gradient lands as {@code 0 +
   * g}, the bits of the general rule (which adds it into zeros: -0 becomes +0).
   */
  private static void max2x2Backward(
      int planes, int ih, int iw, int oh, int ow, float[] gy, int[] argmax, float[] gx) {
    int inPlane = ih * iw, outPlane = oh * ow;
    int l = FS.length();
    Parallel.forRange(
        planes,
        Math.max(1, 4096 / Math.max(1, outPlane)),
        (p0, p1) -> {
          IntVector twice = IntVector.fromArray(IS, EVEN_INDEX, 0);
          FloatVector zero = FloatVector.zero(FS);
          for (int p = p0; p < p1; p++) {
            int xo = p * inPlane, yo = p * outPlane;
            for (int oy = 0; oy < oh; oy++) {
              int row = 2 * oy * iw;
              int out = yo + oy * ow;
              if (ow < l) {
                for (int ox = 0; ox < ow; ox++) {
                  int i0 = row + 2 * ox, a = argmax[out + ox];
                  float g = 0f + gy[out + ox];
                  gx[xo + i0] = a == i0 ? g : 0f;
                  gx[xo + i0 + 1] = a == i0 + 1 ? g : 0f;
                  gx[xo + i0 + iw] = a == i0 + iw ? g : 0f;
                  gx[xo + i0 + iw + 1] = a == i0 + iw + 1 ? g : 0f;
                }
              } else {
                // as the forward: the last vector ends at ow and rewrites a few outputs' windows
                // with the same values
                for (int ox = 0; ; ox = Math.min(ox + l, ow - l)) {
                  FloatVector g = FloatVector.fromArray(FS, gy, out + ox).add(zero);
                  IntVector a = IntVector.fromArray(IS, argmax, out + ox);
                  IntVector s = twice.add(row + 2 * ox);
                  FloatVector v0 = zero.blend(g, a.eq(s).cast(FS));
                  FloatVector v1 = zero.blend(g, a.eq(s.add(1)).cast(FS));
                  FloatVector v2 = zero.blend(g, a.eq(s.add(iw)).cast(FS));
                  FloatVector v3 = zero.blend(g, a.eq(s.add(iw + 1)).cast(FS));
                  int at = xo + row + 2 * ox;
                  v0.rearrange(ZIP_LO, v1).intoArray(gx, at);
                  v0.rearrange(ZIP_HI, v1).intoArray(gx, at + l);
                  v2.rearrange(ZIP_LO, v3).intoArray(gx, at + iw);
                  v2.rearrange(ZIP_HI, v3).intoArray(gx, at + iw + l);
                  if (ox + l >= ow) {
                    break;
                  }
                }
              }
              // an odd width leaves the last column outside every window
              for (int c = 2 * ow; c < iw; c++) {
                gx[xo + row + c] = 0f;
                gx[xo + row + iw + c] = 0f;
              }
            }
            // and an odd height the last row
            java.util.Arrays.fill(gx, xo + 2 * oh * iw, xo + inPlane, 0f);
          }
        });
  }

  /**
   * The general rule behind {@link #maxBackward(int, Window, float[], int[], float[])}: gx
   * (overwritten) from gy and the forward's argmax, each gradient added at its argmax (any
   * geometry; the 2x2 path's tests compare against it).
   */
  static void maxBackward(
      int planes, int inPlane, int outPlane, float[] gy, int[] argmax, float[] gx) {
    Parallel.forRange(
        planes,
        Math.max(1, 4096 / Math.max(1, outPlane)),
        (p0, p1) -> {
          java.util.Arrays.fill(gx, p0 * inPlane, p1 * inPlane, 0f);
          for (int p = p0; p < p1; p++) {
            int xo = p * inPlane, yo = p * outPlane;
            for (int o = 0; o < outPlane; o++) {
              int a = argmax[yo + o];
              if (a >= 0) {
                gx[xo + a] += gy[yo + o];
              }
            }
          }
        });
  }

  public static void avgForward(
      int planes, Window g, boolean countIncludePad, float[] x, float[] y) {
    int ih = g.ih(), iw = g.iw(), oh = g.oh(), ow = g.ow();
    int kh = g.kh(), kw = g.kw(), sh = g.sh(), sw = g.sw(), ph = g.ph(), pw = g.pw();
    int inPlane = g.inPlane(), outPlane = g.outPlane();
    Parallel.forRange(
        planes,
        Math.max(1, 4096 / Math.max(1, outPlane)),
        (p0, p1) -> {
          for (int p = p0; p < p1; p++) {
            int xo = p * inPlane, yo = p * outPlane;
            for (int oy = 0; oy < oh; oy++) {
              for (int ox = 0; ox < ow; ox++) {
                int y0 = Math.max(oy * sh - ph, 0), x0 = Math.max(ox * sw - pw, 0);
                int y1 = Math.min(oy * sh - ph + kh, ih), x1 = Math.min(ox * sw - pw + kw, iw);
                float s = 0;
                for (int iy = y0; iy < y1; iy++) {
                  for (int ix = x0; ix < x1; ix++) {
                    s += x[xo + iy * iw + ix];
                  }
                }
                int div = g.divisor(oy, ox, countIncludePad);
                y[yo + oy * ow + ox] = s / div;
              }
            }
          }
        });
  }

  public static void avgBackward(
      int planes, Window g, boolean countIncludePad, float[] gy, float[] gx) {
    int ih = g.ih(), iw = g.iw(), oh = g.oh(), ow = g.ow();
    int kh = g.kh(), kw = g.kw(), sh = g.sh(), sw = g.sw(), ph = g.ph(), pw = g.pw();
    int inPlane = g.inPlane(), outPlane = g.outPlane();
    Parallel.forRange(
        planes,
        Math.max(1, 4096 / Math.max(1, outPlane)),
        (p0, p1) -> {
          java.util.Arrays.fill(gx, p0 * inPlane, p1 * inPlane, 0f);
          for (int p = p0; p < p1; p++) {
            int xo = p * inPlane, yo = p * outPlane;
            for (int oy = 0; oy < oh; oy++) {
              for (int ox = 0; ox < ow; ox++) {
                int y0 = Math.max(oy * sh - ph, 0), x0 = Math.max(ox * sw - pw, 0);
                int y1 = Math.min(oy * sh - ph + kh, ih), x1 = Math.min(ox * sw - pw + kw, iw);
                float grad = gy[yo + oy * ow + ox] / g.divisor(oy, ox, countIncludePad);
                for (int iy = y0; iy < y1; iy++) {
                  for (int ix = x0; ix < x1; ix++) {
                    gx[xo + iy * iw + ix] += grad;
                  }
                }
              }
            }
          }
        });
  }
}
