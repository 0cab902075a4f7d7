package dev.normlab.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * N-d convolution (1-d, 2-d, 3-d) by im2col + {@link Gemm}, with stride, padding, dilation and
 * groups. 3x3 stride-1 2-d convolutions with enough channels go to {@link Winograd} for all three
 * passes: the forward, and both gradients in one pass that transforms the output gradient once (the
 * input gradient by the adjoint of the input transform; alone, as a forward convolution of the
 * output gradient with the turned filters); other 2-d weight gradients pack the unfolded input
 * straight from a channels-last copy. A one-channel input's forward runs directly. Layouts as
 * PyTorch: input [n, cin, *in], weight [cout, cin/groups, *kernel], output [n, cout, *out]. Work is
 * split over images; each chunk has its own unfold buffer and, for the weight gradient, its own
 * partial sum, added in chunk order so that results are reproducible. {@link ConvReference} is the
 * scalar twin.
 */
public final class Conv {
  private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
  private static final int L = S.length();

  /** Below this many unfolded rows the weight gradient uses {@link #rowDots} instead of GEMM. */
  static final int SMALL_ROWS = 16;

  /**
   * {@code -Dnormlab.winograd.inputGrad=false} keeps the input gradient on im2col (comparisons).
   */
  private static final boolean WINOGRAD_INPUT_GRAD =
      !"false".equals(System.getProperty("normlab.winograd.inputGrad", "true"));

  /**
   * {@code -Dnormlab.winograd.weightGrad=false} keeps the weight gradient on the channels-last GEMM
   * (comparisons).
   */
  private static final boolean WINOGRAD_WEIGHT_GRAD =
      !"false".equals(System.getProperty("normlab.winograd.weightGrad", "true"));

  /**
   * {@code -Dnormlab.winograd.adjoint=false} computes Winograd's input gradient as a forward
   * convolution of the output gradient instead of by the adjoint transforms (comparisons).
   */
  private static final boolean WINOGRAD_ADJOINT =
      !"false".equals(System.getProperty("normlab.winograd.adjoint", "true"));

  private static final ThreadLocal<float[][]> COL = ThreadLocal.withInitial(() -> new float[1][0]);

  private Conv() {}

  /** The geometry as 3-d (D, H, W), padding missing leading dims with size 1. */
  record G3(int[] in, int[] k, int[] s, int[] p, int[] d, int[] out) {
    static G3 of(ConvGeom g) {
      int nd = g.nd();
      int[] in = {1, 1, 1},
          k = {1, 1, 1},
          s = {1, 1, 1},
          p = {0, 0, 0},
          d = {1, 1, 1},
          out = {1, 1, 1};
      int[] o = g.outSpatial();
      for (int i = 0; i < nd; i++) {
        int j = 3 - nd + i;
        in[j] = g.in()[i];
        k[j] = g.kernel()[i];
        s[j] = g.stride()[i];
        p[j] = g.padding()[i];
        d[j] = g.dilation()[i];
        out[j] = o[i];
      }
      return new G3(in, k, s, p, d, out);
    }
  }

  private static float[] col(int size) {
    return scratch(COL, size);
  }

  /** This thread's scratch array from {@code local}, grown to at least {@code size}. */
  private static float[] scratch(ThreadLocal<float[][]> local, int size) {
    float[][] holder = local.get();
    if (holder[0].length < size) {
      holder[0] = new float[size];
    }
    return holder[0];
  }

  /** y = conv(x, w) + bias; y is overwritten. */
  public static void forward(ConvGeom g, float[] x, float[] w, float[] bias, float[] y) {
    if (Winograd.applies(g)) {
      Winograd.forward(g, x, w, bias, y);
    } else if (directSingleChannel(g)) {
      forwardSingleChannel(g, x, w, bias, y);
    } else {
      forwardIm2col(g, x, w, bias, y);
    }
  }

  /**
   * Whether the forward pass of a one-channel input (the first layer of an image network) runs
   * directly instead of by im2col + GEMM: 2-d, stride 1, dilation 1, no padding, output rows at
   * least a vector wide. With one input channel the GEMM's depth is just the kernel's taps (9), so
   * every micro-kernel call stores and reloads its tile after a few multiply-adds.
   */
  static boolean directSingleChannel(ConvGeom g) {
    if (g.nd() != 2 || g.groups() != 1 || g.cin() != 1 || g.outSpatial()[1] < L) {
      return false;
    }
    for (int i = 0; i < 2; i++) {
      if (g.stride()[i] != 1 || g.dilation()[i] != 1 || g.padding()[i] != 0) {
        return false;
      }
    }
    return true;
  }

  /**
   * The one-channel forward, a vector of output pixels at a time (a row's last vector overlaps the
   * one before it). A 3x3 kernel takes two output channels at a time with their weights in
   * registers ({@link #forwardTwoChannels3x3}); other kernels four channels at once, four
   * independent multiply-add chains sharing each load of the input (one chain alone waits on the
   * latency of its dependent FMAs). Same products in the same order as the GEMM path (taps in
   * im2col's order, a fused multiply-add chain from zero, then bias + sum), so the result is
   * bitwise the same.
   */
  private static void forwardSingleChannel(
      ConvGeom g, float[] x, float[] w, float[] bias, float[] y) {
    int ih = g.in()[0], iw = g.in()[1], kh = g.kernel()[0], kw = g.kernel()[1];
    int oh = g.outSpatial()[0], ow = g.outSpatial()[1];
    int taps = kh * kw, cout = g.cout(), plane = oh * ow;
    Parallel.forRange(
        g.n(),
        1,
        (n0, n1) -> {
          for (int n = n0; n < n1; n++) {
            int xo = n * ih * iw;
            int oc = 0;
            for (; kh == 3 && kw == 3 && oc + 2 <= cout; oc += 2) {
              forwardTwoChannels3x3(x, xo, iw, w, oc, bias, y, (n * cout + oc) * plane, oh, ow);
            }
            for (; oc + 4 <= cout; oc += 4) {
              int yo = (n * cout + oc) * plane;
              int wo = oc * taps;
              for (int oy = 0; oy < oh; oy++) {
                for (int ox = 0; ; ox += L) {
                  ox = Math.min(ox, ow - L);
                  FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0;
                  for (int i = 0; i < kh; i++) {
                    int xr = xo + (oy + i) * iw + ox;
                    int wr = wo + i * kw;
                    for (int j = 0; j < kw; j++) {
                      FloatVector xv = FloatVector.fromArray(S, x, xr + j);
                      a0 = xv.fma(FloatVector.broadcast(S, w[wr + j]), a0);
                      a1 = xv.fma(FloatVector.broadcast(S, w[wr + taps + j]), a1);
                      a2 = xv.fma(FloatVector.broadcast(S, w[wr + 2 * taps + j]), a2);
                      a3 = xv.fma(FloatVector.broadcast(S, w[wr + 3 * taps + j]), a3);
                    }
                  }
                  int yp = yo + oy * ow + ox;
                  if (bias != null) {
                    a0 = FloatVector.broadcast(S, bias[oc]).add(a0);
                    a1 = FloatVector.broadcast(S, bias[oc + 1]).add(a1);
                    a2 = FloatVector.broadcast(S, bias[oc + 2]).add(a2);
                    a3 = FloatVector.broadcast(S, bias[oc + 3]).add(a3);
                  }
                  a0.intoArray(y, yp);
                  a1.intoArray(y, yp + plane);
                  a2.intoArray(y, yp + 2 * plane);
                  a3.intoArray(y, yp + 3 * plane);
                  if (ox == ow - L) {
                    break;
                  }
                }
              }
            }
            for (; oc < cout; oc++) {
              forwardOneChannel(
                  x, xo, iw, kh, kw, w, oc, bias, y, (n * cout + oc) * plane, 0, oh, ow);
            }
          }
        });
  }

  /**
   * Output channel oc of one image for {@link #forwardSingleChannel}, rows [oyFrom, oh): one
   * multiply-add chain per vector of outputs, the taps in im2col's order, then bias + sum.
   */
  private static void forwardOneChannel(
      float[] x,
      int xo,
      int iw,
      int kh,
      int kw,
      float[] w,
      int oc,
      float[] bias,
      float[] y,
      int yo,
      int oyFrom,
      int oh,
      int ow) {
    int wo = oc * kh * kw;
    for (int oy = oyFrom; oy < oh; oy++) {
      for (int ox = 0; ; ox += L) {
        ox = Math.min(ox, ow - L);
        FloatVector acc = FloatVector.zero(S);
        for (int i = 0; i < kh; i++) {
          int xr = xo + (oy + i) * iw + ox;
          for (int j = 0; j < kw; j++) {
            FloatVector wv = FloatVector.broadcast(S, w[wo + i * kw + j]);
            acc = FloatVector.fromArray(S, x, xr + j).fma(wv, acc);
          }
        }
        if (bias != null) {
          acc = FloatVector.broadcast(S, bias[oc]).add(acc);
        }
        acc.intoArray(y, yo + oy * ow + ox);
        if (ox == ow - L) {
          break;
        }
      }
    }
  }

  /**
   * Output channels oc and oc + 1 of one image for {@link #forwardSingleChannel} with a 3x3 kernel:
   * their eighteen weights broadcast once into registers for the whole image (reloading them for
   * every vector of output had made the loop wait on loads: this way the one-channel forward took
   * half the time, 2026-12-04), output rows two at a time so that each input row's vectors serve
   * both (four rows loaded for two, four multiply-add chains), the last row of an odd count by
   * {@link #forwardOneChannel}. Each output's chain takes the taps in im2col's order from zero,
   * then bias + sum: the bits of the GEMM path.
   */
  private static void forwardTwoChannels3x3(
      float[] x,
      int xo,
      int iw,
      float[] w,
      int oc,
      float[] bias,
      float[] y,
      int yo,
      int oh,
      int ow) {
    final int plane = oh * ow;
    final int wo = oc * 9;
    final boolean biased = bias != null;
    // p0..p8: channel oc's taps in im2col's order (row by row of the kernel), q0..q8: oc + 1's
    FloatVector p0 = FloatVector.broadcast(S, w[wo + 0]);
    FloatVector p1 = FloatVector.broadcast(S, w[wo + 1]);
    FloatVector p2 = FloatVector.broadcast(S, w[wo + 2]);
    FloatVector p3 = FloatVector.broadcast(S, w[wo + 3]);
    FloatVector p4 = FloatVector.broadcast(S, w[wo + 4]);
    FloatVector p5 = FloatVector.broadcast(S, w[wo + 5]);
    FloatVector p6 = FloatVector.broadcast(S, w[wo + 6]);
    FloatVector p7 = FloatVector.broadcast(S, w[wo + 7]);
    FloatVector p8 = FloatVector.broadcast(S, w[wo + 8]);
    FloatVector q0 = FloatVector.broadcast(S, w[wo + 9]);
    FloatVector q1 = FloatVector.broadcast(S, w[wo + 10]);
    FloatVector q2 = FloatVector.broadcast(S, w[wo + 11]);
    FloatVector q3 = FloatVector.broadcast(S, w[wo + 12]);
    FloatVector q4 = FloatVector.broadcast(S, w[wo + 13]);
    FloatVector q5 = FloatVector.broadcast(S, w[wo + 14]);
    FloatVector q6 = FloatVector.broadcast(S, w[wo + 15]);
    FloatVector q7 = FloatVector.broadcast(S, w[wo + 16]);
    FloatVector q8 = FloatVector.broadcast(S, w[wo + 17]);
    FloatVector bp = FloatVector.broadcast(S, biased ? bias[oc] : 0f);
    FloatVector bq = FloatVector.broadcast(S, biased ? bias[oc + 1] : 0f);
    int oy = 0;
    for (; oy + 2 <= oh; oy += 2) {
      for (int ox = 0; ; ox += L) {
        ox = Math.min(ox, ow - L);
        int xr = xo + oy * iw + ox;
        // a: row oy, c: row oy + 1; 0: channel oc, 1: channel oc + 1
        FloatVector a0 = FloatVector.zero(S), a1 = a0, c0 = a0, c1 = a0;
        FloatVector v0 = FloatVector.fromArray(S, x, xr);
        FloatVector v1 = FloatVector.fromArray(S, x, xr + 1);
        FloatVector v2 = FloatVector.fromArray(S, x, xr + 2);
        a0 = v0.fma(p0, a0);
        a1 = v0.fma(q0, a1);
        a0 = v1.fma(p1, a0);
        a1 = v1.fma(q1, a1);
        a0 = v2.fma(p2, a0);
        a1 = v2.fma(q2, a1);
        v0 = FloatVector.fromArray(S, x, xr + 1 * iw);
        v1 = FloatVector.fromArray(S, x, xr + 1 * iw + 1);
        v2 = FloatVector.fromArray(S, x, xr + 1 * iw + 2);
        a0 = v0.fma(p3, a0);
        a1 = v0.fma(q3, a1);
        c0 = v0.fma(p0, c0);
        c1 = v0.fma(q0, c1);
        a0 = v1.fma(p4, a0);
        a1 = v1.fma(q4, a1);
        c0 = v1.fma(p1, c0);
        c1 = v1.fma(q1, c1);
        a0 = v2.fma(p5, a0);
        a1 = v2.fma(q5, a1);
        c0 = v2.fma(p2, c0);
        c1 = v2.fma(q2, c1);
        v0 = FloatVector.fromArray(S, x, xr + 2 * iw);
        v1 = FloatVector.fromArray(S, x, xr + 2 * iw + 1);
        v2 = FloatVector.fromArray(S, x, xr + 2 * iw + 2);
        a0 = v0.fma(p6, a0);
        a1 = v0.fma(q6, a1);
        c0 = v0.fma(p3, c0);
        c1 = v0.fma(q3, c1);
        a0 = v1.fma(p7, a0);
        a1 = v1.fma(q7, a1);
        c0 = v1.fma(p4, c0);
        c1 = v1.fma(q4, c1);
        a0 = v2.fma(p8, a0);
        a1 = v2.fma(q8, a1);
        c0 = v2.fma(p5, c0);
        c1 = v2.fma(q5, c1);
        v0 = FloatVector.fromArray(S, x, xr + 3 * iw);
        v1 = FloatVector.fromArray(S, x, xr + 3 * iw + 1);
        v2 = FloatVector.fromArray(S, x, xr + 3 * iw + 2);
        c0 = v0.fma(p6, c0);
        c1 = v0.fma(q6, c1);
        c0 = v1.fma(p7, c0);
        c1 = v1.fma(q7, c1);
        c0 = v2.fma(p8, c0);
        c1 = v2.fma(q8, c1);
        if (biased) {
          a0 = bp.add(a0);
          a1 = bq.add(a1);
          c0 = bp.add(c0);
          c1 = bq.add(c1);
        }
        int yp = yo + oy * ow + ox;
        a0.intoArray(y, yp);
        a1.intoArray(y, yp + plane);
        c0.intoArray(y, yp + ow);
        c1.intoArray(y, yp + ow + plane);
        if (ox == ow - L) {
          break;
        }
      }
    }
    if (oy < oh) { // the last row of an odd count, each channel alone
      forwardOneChannel(x, xo, iw, 3, 3, w, oc, bias, y, yo, oy, oh, ow);
      forwardOneChannel(x, xo, iw, 3, 3, w, oc + 1, bias, y, yo + plane, oy, oh, ow);
    }
  }

  /** y = conv(x, w) + bias by im2col + GEMM, for any geometry. */
  static void forwardIm2col(ConvGeom g, float[] x, float[] w, float[] bias, float[] y) {
    G3 t = G3.of(g);
    int cinG = g.cin() / g.groups(), coutG = g.cout() / g.groups();
    int inSize = g.inSize(), outSize = g.outSize(), rows = g.colRows();
    boolean pointwise = g.isPointwise();
    Parallel.forRange(
        g.n(),
        1,
        (n0, n1) -> {
          float[] col = pointwise ? null : col(rows * outSize);
          for (int n = n0; n < n1; n++) {
            for (int gr = 0; gr < g.groups(); gr++) {
              int xo = (n * g.cin() + gr * cinG) * inSize;
              int yo = (n * g.cout() + gr * coutG) * outSize;
              float[] src = x;
              int so = xo;
              if (!pointwise) {
                im2col(t, x, xo, cinG, col);
                src = col;
                so = 0;
              }
              float beta = 0f;
              if (bias != null) {
                for (int oc = 0; oc < coutG; oc++) {
                  java.util.Arrays.fill(
                      y, yo + oc * outSize, yo + (oc + 1) * outSize, bias[gr * coutG + oc]);
                }
                beta = 1f;
              }
              Gemm.sgemm(
                  false,
                  false,
                  coutG,
                  outSize,
                  rows,
                  1f,
                  w,
                  gr * coutG * rows,
                  rows,
                  src,
                  so,
                  outSize,
                  beta,
                  y,
                  yo,
                  outSize);
            }
          }
        });
  }

  /**
   * The gradients gx = dL/dx, gw = dL/dw and gbias = dL/dbias given gy = dL/dy, each overwritten
   * and each skipped when null (gbias is only computed with gw). Winograd's convolutions take both
   * gradients in one pass that transforms gy once.
   */
  public static void backward(
      ConvGeom g, float[] x, float[] gy, float[] w, float[] gx, float[] gw, float[] gbias) {
    if (gx != null
        && gw != null
        && WINOGRAD_ADJOINT
        && WINOGRAD_WEIGHT_GRAD
        && Winograd.backwardInputApplies(g)) {
      Winograd.backward(g, x, gy, w, gx, gw);
      if (gbias != null) {
        biasGradient(g, gy, gbias);
      }
      return;
    }
    if (gx != null) {
      backwardInput(g, gy, w, gx);
    }
    if (gw != null) {
      backwardWeight(g, x, gy, gw, gbias);
    }
  }

  /** gx = dL/dx given gy = dL/dy; gx is overwritten. */
  public static void backwardInput(ConvGeom g, float[] gy, float[] w, float[] gx) {
    if (WINOGRAD_INPUT_GRAD && Winograd.applies(g)) {
      // gx is the full correlation of gy with the filters turned by 180 degrees and their channel
      // axes swapped: a forward convolution with padding 2 - p
      int cin = g.cin(), cout = g.cout();
      float[] wt = new float[w.length];
      for (int o = 0; o < cout; o++) {
        for (int i = 0; i < cin; i++) {
          for (int k = 0; k < 9; k++) {
            wt[(i * cout + o) * 9 + 8 - k] = w[(o * cin + i) * 9 + k];
          }
        }
      }
      int q = 2 - g.padding()[0];
      ConvGeom t =
          new ConvGeom(
              g.n(),
              cout,
              g.outSpatial(),
              cin,
              new int[] {3, 3},
              new int[] {1, 1},
              new int[] {q, q},
              new int[] {1, 1},
              1);
      Winograd.forward(t, gy, wt, null, gx);
      return;
    }
    G3 t = G3.of(g);
    int cinG = g.cin() / g.groups(), coutG = g.cout() / g.groups();
    int inSize = g.inSize(), outSize = g.outSize(), rows = g.colRows();
    boolean pointwise = g.isPointwise();
    Parallel.forRange(
        g.n(),
        1,
        (n0, n1) -> {
          float[] col = pointwise ? null : col(rows * outSize);
          for (int n = n0; n < n1; n++) {
            for (int gr = 0; gr < g.groups(); gr++) {
              int xo = (n * g.cin() + gr * cinG) * inSize;
              int yo = (n * g.cout() + gr * coutG) * outSize;
              if (pointwise) {
                Gemm.sgemm(
                    true,
                    false,
                    rows,
                    outSize,
                    coutG,
                    1f,
                    w,
                    gr * coutG * rows,
                    rows,
                    gy,
                    yo,
                    outSize,
                    0f,
                    gx,
                    xo,
                    outSize);
              } else {
                Gemm.sgemm(
                    true,
                    false,
                    rows,
                    outSize,
                    coutG,
                    1f,
                    w,
                    gr * coutG * rows,
                    rows,
                    gy,
                    yo,
                    outSize,
                    0f,
                    col,
                    0,
                    outSize);
                java.util.Arrays.fill(gx, xo, xo + cinG * inSize, 0f);
                col2im(t, col, cinG, gx, xo);
              }
            }
          }
        });
  }

  /**
   * gw = dL/dw and (if non-null) gbias = dL/dbias; both overwritten. Per image, gw^T [rows, coutG]
   * += col [rows, out] * gy^T [out, coutG]: with the unfolded input as the untransposed operand the
   * GEMM packs only the small gy transposed. Each chunk of images sums into its own buffer; chunks
   * are added in order.
   */
  public static void backwardWeight(ConvGeom g, float[] x, float[] gy, float[] gw, float[] gbias) {
    if (WINOGRAD_WEIGHT_GRAD && Winograd.applies(g)) {
      Winograd.backwardWeight(g, x, gy, gw);
    } else if (unfoldsChannelsLast(g)) {
      backwardWeightChannelsLast(g, G3.of(g), x, gy, gw);
    } else {
      backwardWeightIm2col(g, G3.of(g), x, gy, gw);
    }
    if (gbias != null) {
      biasGradient(g, gy, gbias);
    }
  }

  /** gbias [cout] = the sums of gy over images and output positions, overwritten. */
  private static void biasGradient(ConvGeom g, float[] gy, float[] gbias) {
    int outSize = g.outSize(), cout = g.cout(), n = g.n();
    Parallel.forRange(
        cout,
        1,
        (o0, o1) -> {
          for (int oc = o0; oc < o1; oc++) {
            double s = 0;
            for (int i = 0; i < n; i++) {
              s += Elementwise.sum(gy, (i * cout + oc) * outSize, outSize);
            }
            gbias[oc] = (float) s;
          }
        });
  }

  /**
   * Whether the weight gradient takes its unfolded input straight from a channels-last copy of each
   * image: 2-d, one group, a kernel larger than 1x1, and input channels a multiple of the GEMM's
   * panel width (so that a panel's columns are one tap's consecutive channels).
   */
  static boolean unfoldsChannelsLast(ConvGeom g) {
    return g.nd() == 2
        && g.groups() == 1
        && !g.isPointwise()
        && g.cin() % Gemm.NR == 0
        && g.colRows() >= SMALL_ROWS;
  }

  private static final ThreadLocal<float[][]> CHANNELS_LAST =
      ThreadLocal.withInitial(() -> new float[1][0]);

  /**
   * gw [cout, cin*K] for the geometries of {@link #unfoldsChannelsLast}: per image, acc [cout,
   * K*cin] += gy [cout, out] * unfolded^T, where the unfolded input's GEMM panels are copied vector
   * by vector from a channels-last copy of the image (a panel row is NR consecutive channels at one
   * input pixel) instead of an im2col buffer that the GEMM would pack again with scalar stores.
   * Columns are tap-major (tap * cin + c) and reordered into PyTorch's layout at the end. Same
   * products, same summation order as {@link #backwardWeightIm2col}: bitwise the same result.
   */
  static void backwardWeightChannelsLast(ConvGeom g, G3 t, float[] x, float[] gy, float[] gw) {
    int cin = g.cin(), cout = g.cout(), inSize = g.inSize(), outSize = g.outSize();
    int taps = t.k[1] * t.k[2], rows = cin * taps;
    int chunks = Math.max(1, Parallel.chunks(g.n(), 1));
    float[][] partial = new float[chunks][];
    Parallel.forChunks(
        g.n(),
        1,
        (chunk, n0, n1) -> {
          float[] acc = new float[cout * rows];
          partial[chunk] = acc;
          float[] xh = scratch(CHANNELS_LAST, inSize * cin);
          for (int n = n0; n < n1; n++) {
            toChannelsLast(x, n * cin * inSize, cin, inSize, xh);
            Gemm.sgemmPackedB(
                cout,
                rows,
                outSize,
                gy,
                n * cout * outSize,
                outSize,
                (pc, kc, kp, jc, nc, pb) -> packUnfolded(t, xh, cin, pc, kc, kp, jc, nc, pb),
                1f,
                acc,
                0,
                rows);
          }
        });
    java.util.Arrays.fill(gw, 0f);
    for (float[] acc : partial) {
      if (acc == null) {
        continue;
      }
      for (int oc = 0; oc < cout; oc++) {
        for (int tap = 0; tap < taps; tap++) {
          int src = oc * rows + tap * cin;
          int dst = oc * rows + tap;
          for (int c = 0; c < cin; c++) {
            gw[dst + c * taps] += acc[src + c];
          }
        }
      }
    }
  }

  /** xh [inSize, cin] = the image x [cin, inSize] at xo, transposed. */
  static void toChannelsLast(float[] x, int xo, int cin, int inSize, float[] xh) {
    for (int c = 0; c < cin; c++) {
      int src = xo + c * inSize;
      for (int s = 0, dst = c; s < inSize; s++, dst += cin) {
        xh[dst] = x[src + s];
      }
    }
  }

  /**
   * GEMM panels of the unfolded input, B[o, tap * cin + c] = x[c, input pixel of output o under
   * tap] (0 in the padding), for o in [pc, pc + kc) and columns [jc, jc + nc), read from the
   * channels-last image xh: each panel row is NR consecutive channels of one pixel.
   */
  static void packUnfolded(
      G3 t, float[] xh, int cin, int pc, int kc, int kp, int jc, int nc, float[] pb) {
    int IH = t.in[1], IW = t.in[2], OW = t.out[2], KW = t.k[2];
    for (int jr = 0; jr < nc; jr += Gemm.NR) {
      int col = jc + jr;
      int tap = col / cin, c0 = col % cin;
      int kh = tap / KW, kw = tap % KW;
      int base = jr * kp;
      int oh = pc / OW, ow = pc % OW;
      for (int p = 0; p < kc; p++) {
        int dst = base + p * Gemm.NR;
        int ih = oh * t.s[1] - t.p[1] + kh * t.d[1];
        int iw = ow * t.s[2] - t.p[2] + kw * t.d[2];
        if (ih >= 0 && ih < IH && iw >= 0 && iw < IW) {
          Gemm.copyPanelRow(xh, (ih * IW + iw) * cin + c0, pb, dst);
        } else {
          java.util.Arrays.fill(pb, dst, dst + Gemm.NR, 0f);
        }
        if (++ow == OW) {
          ow = 0;
          oh++;
        }
      }
      java.util.Arrays.fill(pb, base + kc * Gemm.NR, base + kp * Gemm.NR, 0f);
    }
  }

  /** gw by im2col + GEMM, for any geometry (see {@link #backwardWeight}). */
  static void backwardWeightIm2col(ConvGeom g, G3 t, float[] x, float[] gy, float[] gw) {
    int cinG = g.cin() / g.groups(), coutG = g.cout() / g.groups();
    int inSize = g.inSize(), outSize = g.outSize(), rows = g.colRows();
    boolean pointwise = g.isPointwise();
    int chunks = Math.max(1, Parallel.chunks(g.n(), 1));
    float[][] partial = new float[chunks][];
    Parallel.forChunks(
        g.n(),
        1,
        (chunk, n0, n1) -> {
          float[] acc = new float[g.groups() * rows * coutG]; // per group: gw^T [rows, coutG]
          partial[chunk] = acc;
          float[] col = pointwise ? null : col(rows * outSize);
          for (int n = n0; n < n1; n++) {
            for (int gr = 0; gr < g.groups(); gr++) {
              int xo = (n * g.cin() + gr * cinG) * inSize;
              int yo = (n * g.cout() + gr * coutG) * outSize;
              float[] src = x;
              int so = xo;
              if (!pointwise) {
                im2col(t, x, xo, cinG, col);
                src = col;
                so = 0;
              }
              if (rows < SMALL_ROWS) {
                rowDots(src, so, rows, gy, yo, coutG, outSize, acc, gr * rows * coutG);
                continue;
              }
              Gemm.sgemm(
                  false,
                  true,
                  rows,
                  coutG,
                  outSize,
                  1f,
                  src,
                  so,
                  outSize,
                  gy,
                  yo,
                  outSize,
                  1f,
                  acc,
                  gr * rows * coutG,
                  coutG);
            }
          }
        });
    java.util.Arrays.fill(gw, 0f);
    for (int c = 0; c < chunks; c++) {
      float[] acc = partial[c];
      if (acc == null) {
        continue;
      }
      for (int gr = 0; gr < g.groups(); gr++) {
        for (int r = 0; r < rows; r++) {
          int src = gr * rows * coutG + r * coutG;
          for (int oc = 0; oc < coutG; oc++) {
            gw[(gr * coutG + oc) * rows + r] += acc[src + oc];
          }
        }
      }
    }
  }

  /**
   * acc[r * cols + oc] += dot(a row r, b row oc) over len, for rows < {@link #SMALL_ROWS}: the
   * weight gradient of a layer with few inputs (the first conv: 1 channel x 9 taps) as dot
   * products, since a GEMM with 9 rows wastes most of its register tile. Each dot product is one
   * vector of lane sums (a multiply-add chain from zero), its lanes added in order in double, then
   * the scalar tail in float. Blocks of 3 rows x 4 columns keep twelve chains going, seven loads
   * for twelve multiply-adds (four chains alone wait on the multiply-add's latency); the rows and
   * columns left over go one row at a time, four columns sharing each load of a. Every product sees
   * the same arithmetic either way, so the result does not depend on the blocking.
   */
  static void rowDots(
      float[] a, int ao, int rows, float[] b, int bo, int cols, int len, float[] acc, int at) {
    int bound = S.loopBound(len);
    int cols4 = cols & ~3;
    float[] lanes = new float[12 * L];
    int r = 0;
    for (; r + 3 <= rows; r += 3) {
      int a0 = ao + r * len, a1 = a0 + len, a2 = a1 + len;
      for (int oc = 0; oc < cols4; oc += 4) {
        int b0 = bo + oc * len, b1 = b0 + len, b2 = b1 + len, b3 = b2 + len;
        FloatVector s00 = FloatVector.zero(S), s01 = s00, s02 = s00, s03 = s00;
        FloatVector s10 = s00, s11 = s00, s12 = s00, s13 = s00;
        FloatVector s20 = s00, s21 = s00, s22 = s00, s23 = s00;
        for (int i = 0; i < bound; i += L) {
          FloatVector y0 = FloatVector.fromArray(S, b, b0 + i);
          FloatVector y1 = FloatVector.fromArray(S, b, b1 + i);
          FloatVector y2 = FloatVector.fromArray(S, b, b2 + i);
          FloatVector y3 = FloatVector.fromArray(S, b, b3 + i);
          FloatVector x = FloatVector.fromArray(S, a, a0 + i);
          s00 = x.fma(y0, s00);
          s01 = x.fma(y1, s01);
          s02 = x.fma(y2, s02);
          s03 = x.fma(y3, s03);
          x = FloatVector.fromArray(S, a, a1 + i);
          s10 = x.fma(y0, s10);
          s11 = x.fma(y1, s11);
          s12 = x.fma(y2, s12);
          s13 = x.fma(y3, s13);
          x = FloatVector.fromArray(S, a, a2 + i);
          s20 = x.fma(y0, s20);
          s21 = x.fma(y1, s21);
          s22 = x.fma(y2, s22);
          s23 = x.fma(y3, s23);
        }
        s00.intoArray(lanes, 0);
        s01.intoArray(lanes, L);
        s02.intoArray(lanes, 2 * L);
        s03.intoArray(lanes, 3 * L);
        s10.intoArray(lanes, 4 * L);
        s11.intoArray(lanes, 5 * L);
        s12.intoArray(lanes, 6 * L);
        s13.intoArray(lanes, 7 * L);
        s20.intoArray(lanes, 8 * L);
        s21.intoArray(lanes, 9 * L);
        s22.intoArray(lanes, 10 * L);
        s23.intoArray(lanes, 11 * L);
        for (int q = 0; q < 12; q++) {
          int ar = ao + (r + q / 4) * len, br = bo + (oc + q % 4) * len;
          float t = (float) Lanes.sum(lanes, q * L, L);
          for (int i = bound; i < len; i++) {
            t += a[ar + i] * b[br + i];
          }
          acc[at + (r + q / 4) * cols + oc + q % 4] += t;
        }
      }
      for (int k = 0; cols4 < cols && k < 3; k++) { // the block's rows, their columns left over
        rowDotsOfRow(a, ao, r + k, cols4, b, bo, cols, len, acc, at);
      }
    }
    for (; r < rows; r++) {
      rowDotsOfRow(a, ao, r, 0, b, bo, cols, len, acc, at);
    }
  }

  /**
   * {@link #rowDots} of row r and the columns from {@code oc0}: four columns at a time, then one.
   */
  private static void rowDotsOfRow(
      float[] a,
      int ao,
      int r,
      int oc0,
      float[] b,
      int bo,
      int cols,
      int len,
      float[] acc,
      int at) {
    int bound = S.loopBound(len);
    float[] tmp = new float[L];
    int ar = ao + r * len;
    int oc = oc0;
    for (; oc + 4 <= cols; oc += 4) {
      int b0 = bo + oc * len, b1 = b0 + len, b2 = b1 + len, b3 = b2 + len;
      FloatVector s0 = FloatVector.zero(S), s1 = s0, s2 = s0, s3 = s0;
      int i = 0;
      for (; i < bound; i += L) {
        FloatVector av = FloatVector.fromArray(S, a, ar + i);
        s0 = av.fma(FloatVector.fromArray(S, b, b0 + i), s0);
        s1 = av.fma(FloatVector.fromArray(S, b, b1 + i), s1);
        s2 = av.fma(FloatVector.fromArray(S, b, b2 + i), s2);
        s3 = av.fma(FloatVector.fromArray(S, b, b3 + i), s3);
      }
      s0.intoArray(tmp, 0);
      float t0 = (float) Lanes.sum(tmp);
      s1.intoArray(tmp, 0);
      float t1 = (float) Lanes.sum(tmp);
      s2.intoArray(tmp, 0);
      float t2 = (float) Lanes.sum(tmp);
      s3.intoArray(tmp, 0);
      float t3 = (float) Lanes.sum(tmp);
      for (; i < len; i++) {
        float av = a[ar + i];
        t0 += av * b[b0 + i];
        t1 += av * b[b1 + i];
        t2 += av * b[b2 + i];
        t3 += av * b[b3 + i];
      }
      int o = at + r * cols + oc;
      acc[o] += t0;
      acc[o + 1] += t1;
      acc[o + 2] += t2;
      acc[o + 3] += t3;
    }
    for (; oc < cols; oc++) {
      int b0 = bo + oc * len;
      FloatVector s0 = FloatVector.zero(S);
      int i = 0;
      for (; i < bound; i += L) {
        s0 = FloatVector.fromArray(S, a, ar + i).fma(FloatVector.fromArray(S, b, b0 + i), s0);
      }
      s0.intoArray(tmp, 0);
      float t0 = (float) Lanes.sum(tmp);
      for (; i < len; i++) {
        t0 += a[ar + i] * b[b0 + i];
      }
      acc[at + r * cols + oc] += t0;
    }
  }

  /** Unfolds channels [xo, xo + c*inSize) of x into col [c*K, outSize]. */
  static void im2col(G3 t, float[] x, int xo, int channels, float[] col) {
    int ID = t.in[0], IH = t.in[1], IW = t.in[2];
    int OD = t.out[0], OH = t.out[1], OW = t.out[2];
    int outSize = OD * OH * OW;
    int r = 0;
    for (int c = 0; c < channels; c++) {
      int xc = xo + c * ID * IH * IW;
      for (int kd = 0; kd < t.k[0]; kd++) {
        for (int kh = 0; kh < t.k[1]; kh++) {
          for (int kw = 0; kw < t.k[2]; kw++, r++) {
            int co = r * outSize;
            int offW = kw * t.d[2] - t.p[2];
            // the ow range whose iw = ow*s + offW lies inside [0, IW)
            int owLo = offW >= 0 ? 0 : Math.min(OW, (-offW + t.s[2] - 1) / t.s[2]);
            int owHi = IW - offW <= 0 ? 0 : Math.min(OW, (IW - offW + t.s[2] - 1) / t.s[2]);
            owHi = Math.max(owHi, owLo);
            for (int od = 0; od < OD; od++) {
              int id = od * t.s[0] - t.p[0] + kd * t.d[0];
              for (int oh = 0; oh < OH; oh++, co += OW) {
                int ih = oh * t.s[1] - t.p[1] + kh * t.d[1];
                if (id < 0 || id >= ID || ih < 0 || ih >= IH) {
                  java.util.Arrays.fill(col, co, co + OW, 0f);
                  continue;
                }
                int xr = xc + (id * IH + ih) * IW + offW;
                java.util.Arrays.fill(col, co, co + owLo, 0f);
                if (t.s[2] == 1) {
                  System.arraycopy(x, xr + owLo, col, co + owLo, owHi - owLo);
                } else {
                  for (int ow = owLo; ow < owHi; ow++) {
                    col[co + ow] = x[xr + ow * t.s[2]];
                  }
                }
                java.util.Arrays.fill(col, co + owHi, co + OW, 0f);
              }
            }
          }
        }
      }
    }
  }

  /** The adjoint of {@link #im2col}: adds col [c*K, outSize] into channels of gx at gxo. */
  static void col2im(G3 t, float[] col, int channels, float[] gx, int gxo) {
    int ID = t.in[0], IH = t.in[1], IW = t.in[2];
    int OD = t.out[0], OH = t.out[1], OW = t.out[2];
    int outSize = OD * OH * OW;
    int r = 0;
    for (int c = 0; c < channels; c++) {
      int xc = gxo + c * ID * IH * IW;
      for (int kd = 0; kd < t.k[0]; kd++) {
        for (int kh = 0; kh < t.k[1]; kh++) {
          for (int kw = 0; kw < t.k[2]; kw++, r++) {
            int co = r * outSize;
            int offW = kw * t.d[2] - t.p[2];
            int owLo = offW >= 0 ? 0 : Math.min(OW, (-offW + t.s[2] - 1) / t.s[2]);
            int owHi = IW - offW <= 0 ? 0 : Math.min(OW, (IW - offW + t.s[2] - 1) / t.s[2]);
            owHi = Math.max(owHi, owLo);
            for (int od = 0; od < OD; od++) {
              int id = od * t.s[0] - t.p[0] + kd * t.d[0];
              for (int oh = 0; oh < OH; oh++, co += OW) {
                int ih = oh * t.s[1] - t.p[1] + kh * t.d[1];
                if (id < 0 || id >= ID || ih < 0 || ih >= IH) {
                  continue;
                }
                int xr = xc + (id * IH + ih) * IW + offW;
                if (t.s[2] == 1) {
                  Elementwise.axpy(owHi - owLo, 1f, col, co + owLo, gx, xr + owLo);
                } else {
                  for (int ow = owLo; ow < owHi; ow++) {
                    gx[xr + ow * t.s[2]] += col[co + ow];
                  }
                }
              }
            }
          }
        }
      }
    }
  }
}
