package dev.normlab.kernels;

/**
 * 2-d max and average pooling over planes [planes, ih, iw] (1-d pooling is 2-d with ih = 1), with
 * PyTorch's semantics for stride, padding, dilation (max), ceil_mode and count_include_pad (avg).
 * Planes are split over threads.
 */
public final class Pool {
  private Pool() {}

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
  public static void maxForward(
      int planes,
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
      int dw,
      float[] x,
      float[] y,
      int[] argmax) {
    int inPlane = ih * iw, outPlane = oh * ow;
    if (kh == 2 && kw == 2 && sh == 2 && sw == 2 && ph == 0 && pw == 0 && dh == 1 && dw == 1) {
      max2x2(planes, ih, iw, oh, ow, x, y, argmax);
      return;
    }
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

  /** The common 2x2, stride-2 case without bounds checks (same results as the general loop). */
  private static void max2x2(
      int planes, int ih, int iw, int oh, int ow, float[] x, float[] y, int[] argmax) {
    int inPlane = ih * iw, outPlane = oh * ow;
    Parallel.forRange(
        planes,
        Math.max(1, 4096 / Math.max(1, outPlane)),
        (p0, p1) -> {
          for (int p = p0; p < p1; p++) {
            int xo = p * inPlane, yo = p * outPlane;
            for (int oy = 0; oy < oh; oy++) {
              int r0 = 2 * oy * iw, r1 = r0 + iw;
              for (int ox = 0; ox < ow; ox++) {
                int i0 = r0 + 2 * ox, i2 = r1 + 2 * ox;
                float v0 = x[xo + i0], v1 = x[xo + i0 + 1], v2 = x[xo + i2], v3 = x[xo + i2 + 1];
                // Selects instead of branches: which element wins is data-dependent, so branches
                // would mispredict about half the time. Strict > keeps the first maximum.
                float best = v0;
                int bi = i0;
                boolean t = v1 > best;
                best = t ? v1 : best;
                bi = t ? i0 + 1 : bi;
                t = v2 > best;
                best = t ? v2 : best;
                bi = t ? i2 : bi;
                t = v3 > best;
                best = t ? v3 : best;
                bi = t ? i2 + 1 : bi;
                if ((v0 != v0)
                    | (v1 != v1)
                    | (v2 != v2)
                    | (v3 != v3)) { // rare: the first NaN in scan order wins
                  bi =
                      Float.isNaN(v0)
                          ? i0
                          : Float.isNaN(v1) ? i0 + 1 : Float.isNaN(v2) ? i2 : i2 + 1;
                  best = Float.NaN;
                }
                y[yo + oy * ow + ox] = best;
                argmax[yo + oy * ow + ox] = bi;
              }
            }
          }
        });
  }

  /** gx (overwritten) from gy and the forward's argmax. */
  public static void maxBackward(
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

  /** The divisor of one average window, as PyTorch computes it. */
  private static int divisor(
      int oy,
      int ox,
      int ih,
      int iw,
      int kh,
      int kw,
      int sh,
      int sw,
      int ph,
      int pw,
      boolean countIncludePad) {
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

  public static void avgForward(
      int planes,
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
      boolean countIncludePad,
      float[] x,
      float[] y) {
    int inPlane = ih * iw, outPlane = oh * ow;
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
                int div = divisor(oy, ox, ih, iw, kh, kw, sh, sw, ph, pw, countIncludePad);
                y[yo + oy * ow + ox] = s / div;
              }
            }
          }
        });
  }

  public static void avgBackward(
      int planes,
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
      boolean countIncludePad,
      float[] gy,
      float[] gx) {
    int inPlane = ih * iw, outPlane = oh * ow;
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
                float g =
                    gy[yo + oy * ow + ox]
                        / divisor(oy, ox, ih, iw, kh, kw, sh, sw, ph, pw, countIncludePad);
                for (int iy = y0; iy < y1; iy++) {
                  for (int ix = x0; ix < x1; ix++) {
                    gx[xo + iy * iw + ix] += g;
                  }
                }
              }
            }
          }
        });
  }
}
