package dev.normlab.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * 3x3, stride-1 2-d convolution by Winograd's minimal filtering F(2x2, 3x3): each 4x4 input tile
 * gives a 2x2 output tile with 16 multiplies per (input, output) channel pair instead of 36, so the
 * channel-mixing GEMMs do 2.25x fewer flops than im2col. Used for the forward pass, the input
 * gradient (as a forward pass) and the weight gradient ({@link #backwardWeight}).
 *
 * <p>With g the 3x3 filter, d a 4x4 input tile, U = G g G^T and V = B^T d B, the output tile is A^T
 * [sum over input channels of U .* V] A. The sum over channels is, for each of the 16 positions, a
 * GEMM [cout x cin] x [cin x tiles]. The transforms run as vector operations over a row of tiles.
 * Work is split over images; the results do not depend on timing. {@link ConvReference} is the
 * scalar twin (tests allow for Winograd's slightly different rounding).
 */
public final class Winograd {
  private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
  private static final int L = S.length();

  /**
   * Bytes of V and M a work item aims at: small enough to stay in a core's L2 cache (1 MB here)
   * between the transforms and the GEMMs, large enough for the GEMMs' N.
   */
  private static final int ITEM_BYTES = Integer.getInteger("normlab.winograd.kb", 1024) << 10;

  /** The same for the weight gradient, whose items hold V and U (no M) and are read once. */
  private static final int WEIGHT_ITEM_BYTES =
      Integer.getInteger("normlab.winograd.weightKb", 2048) << 10;

  private static final ThreadLocal<float[][]> SCRATCH =
      ThreadLocal.withInitial(() -> new float[4][0]);

  /** {@code -Dnormlab.winograd=false} turns it off (for benchmarks and comparisons). */
  private static final boolean ENABLED =
      !"false".equals(System.getProperty("normlab.winograd", "true"));

  private Winograd() {}

  /**
   * Whether the geometry is one this class computes: 2-d, 3x3, stride 1, dilation 1, one group, the
   * same padding (at most 2) on both axes, and enough channels for the GEMMs to pay.
   */
  public static boolean applies(ConvGeom g) {
    return ENABLED
        && g.nd() == 2
        && g.kernel()[0] == 3
        && g.kernel()[1] == 3
        && g.stride()[0] == 1
        && g.stride()[1] == 1
        && g.dilation()[0] == 1
        && g.dilation()[1] == 1
        && g.groups() == 1
        && g.padding()[0] == g.padding()[1]
        && g.padding()[0] <= 2
        && g.cin() >= 8
        && g.cout() >= 8
        && g.outSpatial()[0] >= 2
        && g.outSpatial()[1] >= 2;
  }

  /** y = conv(x, w) + bias (bias may be null); y is overwritten. */
  public static void forward(ConvGeom g, float[] x, float[] w, float[] bias, float[] y) {
    int cin = g.cin(), cout = g.cout();
    float[] u = filters(w, cout, cin, false);
    int ih = g.in()[0], iw = g.in()[1];
    int[] out = g.outSpatial();
    run(g.n(), cin, ih, iw, cout, out[0], out[1], g.padding()[0], x, u, bias, y);
  }

  /**
   * The transformed filters U = G g G^T of w [cout, cin, 3, 3], as [16][cout][cin], or
   * [16][cin][cout] when transposed (for the input gradient).
   */
  private static float[] filters(float[] w, int cout, int cin, boolean transposed) {
    float[] u = Buffers.uninitialized(16 * cout * cin); // every element written below
    for (int o = 0; o < cout; o++) {
      for (int i = 0; i < cin; i++) {
        filter(w, (o * cin + i) * 9, u, transposed ? i * cout + o : o * cin + i, cout * cin);
      }
    }
    return u;
  }

  /** U = G g G^T for one 3x3 filter, written to u[k * stride + at] for the 16 positions k. */
  private static void filter(float[] w, int wo, float[] u, int at, int stride) {
    float[] gg = new float[9];
    for (int k = 0; k < 9; k++) {
      gg[k] = w[wo + k];
    }
    // G = [[1,0,0],[1/2,1/2,1/2],[1/2,-1/2,1/2],[0,0,1]]; t = G g (4x3), then t G^T (4x4).
    float[] t = new float[12];
    for (int c = 0; c < 3; c++) {
      float g0 = gg[c], g1 = gg[3 + c], g2 = gg[6 + c];
      t[c] = g0;
      t[3 + c] = 0.5f * (g0 + g1 + g2);
      t[6 + c] = 0.5f * (g0 - g1 + g2);
      t[9 + c] = g2;
    }
    for (int r = 0; r < 4; r++) {
      float t0 = t[3 * r], t1 = t[3 * r + 1], t2 = t[3 * r + 2];
      u[(4 * r) * stride + at] = t0;
      u[(4 * r + 1) * stride + at] = 0.5f * (t0 + t1 + t2);
      u[(4 * r + 2) * stride + at] = 0.5f * (t0 - t1 + t2);
      u[(4 * r + 3) * stride + at] = t2;
    }
  }

  /**
   * The convolution of x [n, cin, ih, iw] (padding p on all sides) with transformed filters u [16,
   * cout, cin] into y [n, cout, oh, ow], plus bias.
   */
  private static void run(
      int n,
      int cin,
      int ih,
      int iw,
      int cout,
      int oh,
      int ow,
      int p,
      float[] x,
      float[] u,
      float[] bias,
      float[] y) {
    int th = (oh + 1) / 2, tw = (ow + 1) / 2;
    Items it = Items.of(n, cin, cout, th, tw, ITEM_BYTES);
    int group = it.group, band = it.band, bands = it.bands, items = it.count;
    float[] pu = packFilters(cout, cin, u, items);
    Parallel.forRange(
        items,
        1,
        (i0, i1) -> {
          // rows of V and M are padded by a vector so that the transforms can load and store
          // whole vectors past a row of tiles (the extra lanes are never read back as results),
          // and hold whole NR-wide panels for the GEMM that reads V in place
          int cols = it.cols();
          float[][] s = SCRATCH.get();
          int vs = it.positionStride(cin), ms = it.positionStride(cout);
          float[] v = buffer(s, 0, 16 * vs);
          float[] m = buffer(s, 1, 16 * ms);
          float[] rows = buffer(s, 2, rowsSize(th, tw));
          float[] edge = new float[4 * L]; // output rows that end the array
          // V's and M's rows start on vector boundaries (buffers have the slack for it)
          int vb = Alignment.offset(v), mb = Alignment.offset(m);
          for (int item = i0; item < i1; item++) {
            int n0 = item / bands * group, nb = Math.min(group, n - n0);
            int ty0 = item % bands * band, ty1 = Math.min(th, ty0 + band);
            int bt = (ty1 - ty0) * tw; // tiles of one image in this item
            int used = nb * bt;
            transformInputs(x, n0, nb, cin, ih, iw, p, ty0, ty1, tw, v, vb, cols, vs, rows);
            positionProducts(cout, used, cin, u, pu, v, vb, vs, cols, m, mb, ms);
            for (int b = 0; b < nb; b++) {
              for (int o = 0; o < cout; o++) {
                outputTransform(
                    m,
                    mb + o * cols + b * bt,
                    ms,
                    ty0,
                    ty1,
                    tw,
                    bias == null ? 0f : bias[o],
                    y,
                    ((n0 + b) * cout + o) * oh * ow,
                    oh,
                    ow,
                    edge);
              }
            }
          }
        });
  }

  /**
   * The 16 filter matrices a [16][m][depth], the same for every work item, packed for the GEMM
   * once; null where the packed path does not apply (an odd or deep depth, or fewer items than
   * threads: then Gemm.sgemm's own split over columns keeps all cores busy).
   */
  private static float[] packFilters(int m, int depth, float[] a, int items) {
    if (!Gemm.prepackable(depth) || items < Parallel.threads()) {
      return null;
    }
    int stride = Gemm.packedASize(m, depth);
    float[] packed = new float[16 * stride];
    for (int k = 0; k < 16; k++) {
      Gemm.packA(m, depth, a, k * m * depth, depth, packed, k * stride);
    }
    return packed;
  }

  /**
   * For each of the 16 positions k, c[k] [m x n] = a[k] [m x depth] * b[k] [depth x n], rows of b
   * and c cols apart; a from its packed copy (b read in place) when there is one.
   */
  private static void positionProducts(
      int m,
      int n,
      int depth,
      float[] a,
      float[] packed,
      float[] b,
      int bBase,
      int bStride,
      int cols,
      float[] c,
      int cBase,
      int cStride) {
    int stride = packed == null ? 0 : packed.length / 16;
    for (int k = 0; k < 16; k++) {
      if (packed != null) {
        Gemm.sgemmPackedA(
            m,
            n,
            depth,
            packed,
            k * stride,
            b,
            bBase + k * bStride,
            cols,
            c,
            cBase + k * cStride,
            cols);
      } else {
        Gemm.sgemm(
            false,
            false,
            m,
            n,
            depth,
            1f,
            a,
            k * m * depth,
            depth,
            b,
            bBase + k * bStride,
            cols,
            0f,
            c,
            cBase + k * cStride,
            cols);
      }
    }
  }

  /** V of tile rows [ty0, ty1) of images n0..n0+nb, each image's tiles after the previous one's. */
  private static void transformInputs(
      float[] x,
      int n0,
      int nb,
      int cin,
      int ih,
      int iw,
      int p,
      int ty0,
      int ty1,
      int tw,
      float[] v,
      int vBase,
      int cols,
      int kStride,
      float[] rows) {
    int bt = (ty1 - ty0) * tw;
    for (int b = 0; b < nb; b++) {
      for (int c = 0; c < cin; c++) {
        inputTransform(
            x,
            ((n0 + b) * cin + c) * ih * iw,
            ih,
            iw,
            p,
            ty0,
            ty1,
            tw,
            v,
            vBase + c * cols + b * bt,
            kStride,
            rows);
      }
    }
  }

  /**
   * How the tiles are split into work items: groups of {@code group} whole images (small planes) or
   * bands of {@code band} tile rows of one image (large planes), sized so that an item's V and M
   * (or U) take about ITEM_BYTES; {@code width} tile columns of V and M hold one item.
   */
  private record Items(int group, int band, int bands, int count, int width) {
    static Items of(int n, int cin, int cout, int th, int tw, int bytes) {
      int tiles = th * tw;
      int target = Math.max(Gemm.NR, bytes / (16 * 4 * (cin + cout))); // tiles per item
      int group = Math.max(1, Math.min(n, target / tiles));
      int maxBand = Math.max(1, target / tw);
      int wanted = group > 1 ? 1 : (th + maxBand - 1) / maxBand;
      int band = (th + wanted - 1) / wanted; // tile rows per band, the bands balanced
      int bands = (th + band - 1) / band;
      return new Items(group, band, bands, (n + group - 1) / group * bands, group * band * tw);
    }

    /**
     * Columns of a V or M row: a vector of room past the tiles, whole NR-wide GEMM panels, and
     * whole pairs of vectors for {@link #laneDots}.
     */
    int cols() {
      int panels = (width + Gemm.NR - 1) / Gemm.NR * Gemm.NR;
      int pairs = (width + 2 * L - 1) / (2 * L) * (2 * L);
      return Math.max(width + L, Math.max(panels, pairs));
    }

    /**
     * Floats from one position's block of {@code rows} rows of V, M or Gy to the next: the rows,
     * then one vector more. The transforms store to all 16 blocks in turn; without the skew, when
     * rows x cols floats are a multiple of 4 KB (64 rows of any multiple of 16 floats) the 16
     * streams share the address bits that pick an L1 set and collide there and in the store
     * buffer's 4 KB alias check.
     */
    int positionStride(int rows) {
      return rows * cols() + L;
    }
  }

  /**
   * gw = dL/dw (overwritten) of the convolutions {@link #applies} accepts; see {@link #backward}.
   */
  public static void backwardWeight(ConvGeom g, float[] x, float[] gy, float[] gw) {
    backward(g, x, gy, null, null, gw);
  }

  /**
   * Whether {@link #backward} computes the input gradient for this geometry: its work items must be
   * whole images (the adjoint's tiles overlap, so a band of tile rows would share its edge rows
   * with the next band's item).
   */
  public static boolean backwardInputApplies(ConvGeom g) {
    if (!applies(g)) {
      return false;
    }
    int[] out = g.outSpatial();
    int th = (out[0] + 1) / 2, tw = (out[1] + 1) / 2;
    return Items.of(g.n(), g.cin(), g.cout(), th, tw, WEIGHT_ITEM_BYTES).bands == 1;
  }

  /**
   * gx = dL/dx and gw = dL/dw of the convolutions {@link #applies} accepts (either may be null when
   * not wanted; both are overwritten), sharing the transformed output gradient Gy = A dY A^T.
   * Differentiating Y = A^T [sum over input channels of U .* V] A gives:
   *
   * <ul>
   *   <li>gw = G^T [sum over tiles and images of Gy .* V] G, with V = B^T d B the forward's input
   *       tiles: the transposed algorithm F(3x3, 2x2), 16 products [cout x tiles] x [tiles x cin]
   *       with 2.25x fewer multiply-adds than im2col's. Each chunk of work items sums into its own
   *       16 matrices; chunks are added in order (reproducible).
   *   <li>gx: per tile dV = sum over output channels of U .* Gy (16 GEMMs [cin x cout] x [cout x
   *       tiles] with the filters' transforms transposed), then dd = B dV B^T added into the
   *       overlapping 4x4 input tiles (the adjoint of V = B^T d B), the padding cropped. Needs
   *       {@link #backwardInputApplies}.
   * </ul>
   */
  public static void backward(
      ConvGeom g, float[] x, float[] gy, float[] w, float[] gx, float[] gw) {
    int n = g.n(), cin = g.cin(), cout = g.cout(), p = g.padding()[0];
    int ih = g.in()[0], iw = g.in()[1];
    int oh = g.outSpatial()[0], ow = g.outSpatial()[1];
    int th = (oh + 1) / 2, tw = (ow + 1) / 2;
    Items it = Items.of(n, cin, cout, th, tw, WEIGHT_ITEM_BYTES);
    boolean wantX = gx != null, wantW = gw != null;
    if (wantX && it.bands != 1) {
      throw new IllegalArgumentException("input gradient needs whole images per item: " + g);
    }
    // the filters' transforms, transposed to [16][cin][cout] and packed once for the gx GEMMs
    float[] uT = wantX ? filters(w, cout, cin, true) : null;
    float[] packedU = wantX ? packFilters(cin, cout, uT, it.count) : null;
    int size = 16 * cout * cin * PARTIALS; // each product's partial sums
    int chunks = Parallel.chunks(it.count, 1);
    float[][] partial = new float[Math.max(1, chunks)][];
    for (int chunk = 0; wantW && chunk < chunks; chunk++) {
      // taken here, on the calling thread, so that inside a training step's BufferScope they are
      // the pool's arrays (a worker thread has no scope); zeroed by their chunk's thread
      partial[chunk] = Buffers.uninitialized(size);
    }
    Parallel.forChunks(
        it.count,
        1,
        (chunk, i0, i1) -> {
          float[] acc = partial[chunk];
          if (acc != null) {
            java.util.Arrays.fill(acc, 0f);
          }
          int cols = it.cols();
          float[][] s = SCRATCH.get();
          int vs = it.positionStride(cin), us = it.positionStride(cout);
          float[] v = buffer(s, 0, 16 * vs); // V, then dV
          float[] u = buffer(s, 1, 16 * us); // Gy
          float[] rows = buffer(s, 2, rowsSize(th, tw));
          float[] sums = buffer(s, 3, LANE_DOTS_SCRATCH);
          int vb = Alignment.offset(v), ub = Alignment.offset(u); // as in run()
          for (int item = i0; item < i1; item++) {
            int n0 = item / it.bands * it.group, nb = Math.min(it.group, n - n0);
            int ty0 = item % it.bands * it.band, ty1 = Math.min(th, ty0 + it.band);
            int bt = (ty1 - ty0) * tw;
            // the dot products run over pairs of whole vectors (rows have room for them, see
            // Items.cols): zero both operands up to the next pair
            int used = nb * bt, end = (used + 2 * L - 1) / (2 * L) * (2 * L);
            for (int b = 0; b < nb; b++) {
              for (int o = 0; o < cout; o++) {
                gradientTransform(
                    gy,
                    ((n0 + b) * cout + o) * oh * ow,
                    oh,
                    ow,
                    ty0,
                    ty1,
                    tw,
                    u,
                    ub + o * cols + b * bt,
                    us,
                    rows);
              }
            }
            if (wantW) {
              transformInputs(x, n0, nb, cin, ih, iw, p, ty0, ty1, tw, v, vb, cols, vs, rows);
              for (int k = 0; k < 16; k++) {
                for (int c = 0; c < cin; c++) {
                  int r = vb + k * vs + c * cols;
                  java.util.Arrays.fill(v, r + used, r + end, 0f);
                }
                for (int o = 0; o < cout; o++) {
                  int r = ub + k * us + o * cols;
                  java.util.Arrays.fill(u, r + used, r + end, 0f);
                }
              }
              for (int k = 0; k < 16; k++) {
                laneDots(
                    cout,
                    cin,
                    end,
                    u,
                    ub + k * us,
                    v,
                    vb + k * vs,
                    cols,
                    acc,
                    k * cout * cin,
                    sums);
              }
            }
            if (wantX) {
              positionProducts(cin, used, cout, uT, packedU, u, ub, us, cols, v, vb, vs);
              for (int b = 0; b < nb; b++) {
                for (int c = 0; c < cin; c++) {
                  inputAdjoint(
                      v,
                      vb + c * cols + b * bt,
                      vs,
                      th,
                      tw,
                      gx,
                      ((n0 + b) * cin + c) * ih * iw,
                      ih,
                      iw,
                      p,
                      rows);
                }
              }
            }
          }
        });
    if (!wantW) {
      return;
    }
    // chunks added in order into the first, then each product's lanes in order: reproducible
    float[] sum = partial[0];
    if (sum == null) { // no images: no work items ran
      java.util.Arrays.fill(gw, 0f);
      return;
    }
    for (int chunk = 1; chunk < partial.length; chunk++) {
      float[] acc = partial[chunk];
      if (acc != null) {
        for (int i = 0; i < size; i++) {
          sum[i] += acc[i];
        }
      }
    }
    float[] m = Buffers.uninitialized(size / PARTIALS);
    for (int i = 0; i < m.length; i++) {
      float s = 0;
      for (int l = 0; l < PARTIALS; l++) {
        s += sum[i * PARTIALS + l];
      }
      m[i] = s;
    }
    for (int oi = 0; oi < cout * cin; oi++) {
      filterGradient(m, oi, cout * cin, gw, oi * 9);
    }
  }

  /**
   * Partial sums a dot product of {@link #laneDots} keeps per work item: its vector's lanes folded
   * in halves down to four, so that the sums of an item stay small in cache (16 x 64 x 32 products
   * of conv2 take 512 KB at four floats each, 2 MB at sixteen) and cost a few shuffles per product
   * instead of a reload and store of a whole vector from an array larger than L2.
   */
  static final int PARTIALS = Math.min(4, L);

  /** Floats of the scratch {@link #laneDots} takes: a block's sixteen (or eight) accumulators. */
  static final int LANE_DOTS_SCRATCH = 16 * L + Alignment.SLACK;

  /** Lane i to lane i ^ (L/2), and lane i to lane i ^ (L/4): halves and quarters swapped. */
  private static final VectorShuffle<Float> SWAP_HALVES = VectorShuffle.fromOp(S, i -> i ^ (L / 2));

  private static final VectorShuffle<Float> SWAP_QUARTERS =
      VectorShuffle.fromOp(S, i -> i ^ Math.max(1, L / 4));

  /** The upper half's lanes, and the lanes of the odd quarters. */
  private static final VectorMask<Float> UPPER_HALF = laneMask(L / 2);

  private static final VectorMask<Float> ODD_QUARTERS = laneMask(Math.max(1, L / 4));

  private static VectorMask<Float> laneMask(int bit) {
    boolean[] set = new boolean[L];
    for (int i = 0; i < L; i++) {
      set[i] = (i & bit) != 0;
    }
    return VectorMask.fromArray(S, set, 0);
  }

  /**
   * acc[(p + i * n + j) * PARTIALS + q] += partial q of the dot product of rows i of a and j of b
   * over [0, k) (k a multiple of 2L; rows ld apart from aOff and bOff): each lane sums its products
   * in t order from zero, then the lanes are folded in halves ({@link #PARTIALS}) and added to acc.
   * Both operands have the tiles along their rows, so no packing: blocks of 4 x 2 products (4 x 4
   * with 32 registers, {@link Gemm#WIDE}) keep their accumulators in registers; the block's L/4
   * products of a row fold into one vector of acc. The tile loop steps by two vectors with an inner
   * loop of two that C2 unrolls whole (the pattern of Gemm.micro); with the constant stride L alone
   * C2 unrolled the loop four times, hoisted its loads and spilled vectors to the stack, and with a
   * stride C2 could not fold it was no counted loop. {@code sums} ({@link #LANE_DOTS_SCRATCH}
   * floats at least) is the caller's scratch for a block's accumulators on their way to the fold: a
   * fresh one per call came to about half a megabyte of garbage per conv2 backward.
   */
  static void laneDots(
      int m,
      int n,
      int k,
      float[] a,
      int aOff,
      float[] b,
      int bOff,
      int ld,
      float[] acc,
      int p,
      float[] sums) {
    if (Gemm.WIDE && L == 16) {
      laneDots4x4(m, n, k, a, aOff, b, bOff, ld, acc, p, sums);
      return;
    }
    if (L != 8) {
      laneDotsRest(m, n, k, 0, 0, a, aOff, b, bOff, ld, acc, p);
      return;
    }
    int m4 = m & ~3, n2 = n & ~1;
    int so = Alignment.offset(sums); // whole-vector stores, forwarded to foldInto's loads
    for (int i = 0; i < m4; i += 4) {
      int a0 = aOff + i * ld, a1 = a0 + ld, a2 = a1 + ld, a3 = a2 + ld;
      for (int j = 0; j < n2; j += 2) {
        int b0 = bOff + j * ld, b1 = b0 + ld;
        FloatVector s00 = FloatVector.zero(S), s01 = s00, s10 = s00, s11 = s00;
        FloatVector s20 = s00, s21 = s00, s30 = s00, s31 = s00;
        for (int t = 0; t < k; t += 2 * L) {
          for (int q = 0; q < 2; q++) {
            int tq = t + q * L;
            FloatVector x0 = FloatVector.fromArray(S, b, b0 + tq);
            FloatVector x1 = FloatVector.fromArray(S, b, b1 + tq);
            FloatVector y = FloatVector.fromArray(S, a, a0 + tq);
            s00 = y.fma(x0, s00);
            s01 = y.fma(x1, s01);
            y = FloatVector.fromArray(S, a, a1 + tq);
            s10 = y.fma(x0, s10);
            s11 = y.fma(x1, s11);
            y = FloatVector.fromArray(S, a, a2 + tq);
            s20 = y.fma(x0, s20);
            s21 = y.fma(x1, s21);
            y = FloatVector.fromArray(S, a, a3 + tq);
            s30 = y.fma(x0, s30);
            s31 = y.fma(x1, s31);
          }
        }
        s00.intoArray(sums, so);
        s01.intoArray(sums, so + L);
        s10.intoArray(sums, so + 2 * L);
        s11.intoArray(sums, so + 3 * L);
        s20.intoArray(sums, so + 4 * L);
        s21.intoArray(sums, so + 5 * L);
        s30.intoArray(sums, so + 6 * L);
        s31.intoArray(sums, so + 7 * L);
        foldInto(sums, so, 2, acc, (p + i * n + j) * PARTIALS, n * PARTIALS);
      }
    }
    laneDotsRest(m, n, k, m4, n2, a, aOff, b, bOff, ld, acc, p);
  }

  /**
   * The block's sums (four rows of {@code perRow} vectors, stored by the kernel) folded and added
   * to acc, a row's products into one vector at {@code at + r * row}: with two vectors a and b, a's
   * lanes folded in halves (lane w + L/2 added to lane w) in the lower half, b's in the upper
   * (one-vector shuffles and a blend); with four, a, b, c, d, the halves of fold(a, c) and fold(b,
   * d) folded once more, to the quarters a, b, c, d (lane w + L/4 added to lane w within each
   * half).
   *
   * <p>Its own method: inlined into the kernel (written first with two-vector rearranges, then as
   * now), the folds took C2 past its inlining budget and ran the Vector API's Java fallbacks (40–60
   * ms instead of 8 for conv2's weight gradient). And the folds are written out here, not as
   * helpers taking and returning vectors: such a helper that C2 compiles on its own (its callers
   * still in C1, 2026-12-02 on a 16-lane machine) sees only the abstract {@code FloatVector}, runs
   * the fallbacks, and its large code is then never inlined — a training step's conv2 backward
   * allocated a vector per fold and took 15–17 ms instead of 10.
   */
  private static void foldInto(float[] sums, int so, int perRow, float[] acc, int at, int row) {
    for (int r = 0; r < 4; r++) {
      int s = so + r * perRow * L;
      FloatVector v;
      if (perRow == 4) {
        FloatVector a = FloatVector.fromArray(S, sums, s);
        FloatVector b = FloatVector.fromArray(S, sums, s + L);
        FloatVector c = FloatVector.fromArray(S, sums, s + 2 * L);
        FloatVector d = FloatVector.fromArray(S, sums, s + 3 * L);
        FloatVector x =
            a.add(a.rearrange(SWAP_HALVES)).blend(c.add(c.rearrange(SWAP_HALVES)), UPPER_HALF);
        FloatVector y =
            b.add(b.rearrange(SWAP_HALVES)).blend(d.add(d.rearrange(SWAP_HALVES)), UPPER_HALF);
        v =
            x.add(x.rearrange(SWAP_QUARTERS))
                .blend(y.add(y.rearrange(SWAP_QUARTERS)), ODD_QUARTERS);
      } else {
        FloatVector a = FloatVector.fromArray(S, sums, s);
        FloatVector b = FloatVector.fromArray(S, sums, s + L);
        v = a.add(a.rearrange(SWAP_HALVES)).blend(b.add(b.rearrange(SWAP_HALVES)), UPPER_HALF);
      }
      int o = at + r * row;
      v.add(FloatVector.fromArray(S, acc, o)).intoArray(acc, o);
    }
  }

  /**
   * {@link #laneDots} in blocks of 4 x 4 products with 16 lanes and 32 vector registers: sixteen
   * accumulators, eight loads for sixteen multiply-adds; a row's four products fold in two steps
   * into one vector of acc.
   */
  private static void laneDots4x4(
      int m,
      int n,
      int k,
      float[] a,
      int aOff,
      float[] b,
      int bOff,
      int ld,
      float[] acc,
      int p,
      float[] sums) {
    int m4 = m & ~3, n4 = n & ~3;
    int so = Alignment.offset(sums); // whole-vector stores, forwarded to foldInto's loads
    for (int i = 0; i < m4; i += 4) {
      int a0 = aOff + i * ld, a1 = a0 + ld, a2 = a1 + ld, a3 = a2 + ld;
      for (int j = 0; j < n4; j += 4) {
        int b0 = bOff + j * ld, b1 = b0 + ld, b2 = b1 + ld, b3 = b2 + ld;
        FloatVector s00 = FloatVector.zero(S), s01 = s00, s02 = s00, s03 = s00;
        FloatVector s10 = s00, s11 = s00, s12 = s00, s13 = s00;
        FloatVector s20 = s00, s21 = s00, s22 = s00, s23 = s00;
        FloatVector s30 = s00, s31 = s00, s32 = s00, s33 = s00;
        for (int t = 0; t < k; t += 2 * L) {
          for (int q = 0; q < 2; q++) {
            int tq = t + q * L;
            FloatVector x0 = FloatVector.fromArray(S, b, b0 + tq);
            FloatVector x1 = FloatVector.fromArray(S, b, b1 + tq);
            FloatVector x2 = FloatVector.fromArray(S, b, b2 + tq);
            FloatVector x3 = FloatVector.fromArray(S, b, b3 + tq);
            FloatVector y;
            y = FloatVector.fromArray(S, a, a0 + tq);
            s00 = y.fma(x0, s00);
            s01 = y.fma(x1, s01);
            s02 = y.fma(x2, s02);
            s03 = y.fma(x3, s03);
            y = FloatVector.fromArray(S, a, a1 + tq);
            s10 = y.fma(x0, s10);
            s11 = y.fma(x1, s11);
            s12 = y.fma(x2, s12);
            s13 = y.fma(x3, s13);
            y = FloatVector.fromArray(S, a, a2 + tq);
            s20 = y.fma(x0, s20);
            s21 = y.fma(x1, s21);
            s22 = y.fma(x2, s22);
            s23 = y.fma(x3, s23);
            y = FloatVector.fromArray(S, a, a3 + tq);
            s30 = y.fma(x0, s30);
            s31 = y.fma(x1, s31);
            s32 = y.fma(x2, s32);
            s33 = y.fma(x3, s33);
          }
        }
        s00.intoArray(sums, so);
        s01.intoArray(sums, so + L);
        s02.intoArray(sums, so + 2 * L);
        s03.intoArray(sums, so + 3 * L);
        s10.intoArray(sums, so + 4 * L);
        s11.intoArray(sums, so + 5 * L);
        s12.intoArray(sums, so + 6 * L);
        s13.intoArray(sums, so + 7 * L);
        s20.intoArray(sums, so + 8 * L);
        s21.intoArray(sums, so + 9 * L);
        s22.intoArray(sums, so + 10 * L);
        s23.intoArray(sums, so + 11 * L);
        s30.intoArray(sums, so + 12 * L);
        s31.intoArray(sums, so + 13 * L);
        s32.intoArray(sums, so + 14 * L);
        s33.intoArray(sums, so + 15 * L);
        foldInto(sums, so, 4, acc, (p + i * n + j) * PARTIALS, n * PARTIALS);
      }
    }
    laneDotsRest(m, n, k, m4, n4, a, aOff, b, bOff, ld, acc, p);
  }

  /**
   * The products {@link #laneDots}' blocks leave: every column of rows past {@code mBlocked}, and
   * columns past {@code nBlocked} of the rows before it. The same arithmetic, the fold in scalars.
   */
  private static void laneDotsRest(
      int m,
      int n,
      int k,
      int mBlocked,
      int nBlocked,
      float[] a,
      int aOff,
      float[] b,
      int bOff,
      int ld,
      float[] acc,
      int p) {
    float[] lanes = new float[L];
    for (int i = 0; i < m; i++) {
      for (int j = i < mBlocked ? nBlocked : 0; j < n; j++) {
        int ao = aOff + i * ld, bo = bOff + j * ld, c = (p + i * n + j) * PARTIALS;
        FloatVector s = FloatVector.zero(S);
        for (int t = 0; t < k; t += L) {
          s = FloatVector.fromArray(S, a, ao + t).fma(FloatVector.fromArray(S, b, bo + t), s);
        }
        s.intoArray(lanes, 0);
        for (int g = L; g > PARTIALS; g /= 2) {
          for (int w = 0; w < g / 2; w++) {
            lanes[w] = lanes[w] + lanes[w + g / 2];
          }
        }
        for (int q = 0; q < PARTIALS; q++) {
          acc[c + q] = lanes[q] + acc[c + q];
        }
      }
    }
  }

  /**
   * The adjoint of {@link #inputTransform} for one whole plane: dd = B dV B^T for each tile, with B
   * = [[1,0,0,0],[0,1,-1,1],[-1,1,1,0],[0,0,0,-1]], added into the (overlapping) 4x4 tiles of the
   * zero-padded plane, whose interior is written to gx[go..] (overwritten). dV is read from dv[k *
   * kStride + at + tile]. The padded plane is built as four parts: its even columns from the tiles'
   * columns 0 (at the tile's index t) and 2 (at t + 1), its odd columns from columns 1 and 3
   * likewise, so that a row's tiles combine as whole vectors. Down a column of tile rows, a tile's
   * rows 2 and 3 are stored where the next tile's rows 0 and 1 go, which load and add them; the
   * parts are then added and interleaved per row. No helper here takes vectors as arguments: C2
   * stopped inlining one (a row store, at its NodeCountInliningCutoff) and boxed every vector
   * passed to it, an object per vector and the adjoint at a third of its speed. Going through the
   * scratch rows rather than registers also keeps eight fewer vectors live.
   */
  static void inputAdjoint(
      float[] dv,
      int at,
      int kStride,
      int th,
      int tw,
      float[] gx,
      int go,
      int ih,
      int iw,
      int p,
      float[] rows) {
    int rs = tw + 1 + L; // columns of one part of a padded row, room for a vector past
    int part = (2 * th + 2) * rs; // the tiles cover 2 * th + 2 padded rows
    // A padded row's four parts at r: even columns from the tiles' columns 0 (dd0, at the tile)
    // and 2 (dd2, one tile on), odd columns from columns 1 (dd1) and 3 (dd3, one tile on).
    int p0 = 0, p2 = part + 1, p1 = 2 * part, p3 = 3 * part + 1;
    for (int t = 0; t < tw; t += L) {
      // the lanes past the last tile hold other tiles or stale values (even NaN); they stay in
      // their lanes and reach only columns from tw on, and column tw is zeroed below.
      // Nothing lies above the first tile row: its rows 0 and 1 add to zero.
      FloatVector zero = FloatVector.zero(S);
      for (int r = t; r < t + 2 * rs; r += rs) {
        zero.intoArray(rows, p0 + r);
        zero.intoArray(rows, p1 + r);
        zero.intoArray(rows, p2 + r);
        zero.intoArray(rows, p3 + r);
      }
      for (int ty = 0; ty < th; ty++) {
        int src = at + ty * tw + t;
        FloatVector m00 = FloatVector.fromArray(S, dv, src);
        FloatVector m01 = FloatVector.fromArray(S, dv, kStride + src);
        FloatVector m02 = FloatVector.fromArray(S, dv, 2 * kStride + src);
        FloatVector m03 = FloatVector.fromArray(S, dv, 3 * kStride + src);
        FloatVector m10 = FloatVector.fromArray(S, dv, 4 * kStride + src);
        FloatVector m11 = FloatVector.fromArray(S, dv, 5 * kStride + src);
        FloatVector m12 = FloatVector.fromArray(S, dv, 6 * kStride + src);
        FloatVector m13 = FloatVector.fromArray(S, dv, 7 * kStride + src);
        FloatVector m20 = FloatVector.fromArray(S, dv, 8 * kStride + src);
        FloatVector m21 = FloatVector.fromArray(S, dv, 9 * kStride + src);
        FloatVector m22 = FloatVector.fromArray(S, dv, 10 * kStride + src);
        FloatVector m23 = FloatVector.fromArray(S, dv, 11 * kStride + src);
        FloatVector m30 = FloatVector.fromArray(S, dv, 12 * kStride + src);
        FloatVector m31 = FloatVector.fromArray(S, dv, 13 * kStride + src);
        FloatVector m32 = FloatVector.fromArray(S, dv, 14 * kStride + src);
        FloatVector m33 = FloatVector.fromArray(S, dv, 15 * kStride + src);
        // B down the tile's columns gives its rows 0..3 (rows i: ri0..ri3), each spread along the
        // row by B^T: columns dd0 = ri0, dd1 = ri1 - ri2 + ri3, dd2 = ri1 + ri2 - ri0, dd3 = -ri3
        FloatVector r10 = m10.sub(m20).add(m30), r11 = m11.sub(m21).add(m31);
        FloatVector r12 = m12.sub(m22).add(m32), r13 = m13.sub(m23).add(m33);
        FloatVector r20 = m10.add(m20).sub(m00), r21 = m11.add(m21).sub(m01);
        FloatVector r22 = m12.add(m22).sub(m02), r23 = m13.add(m23).sub(m03);
        // rows 0 and 1 add to the rows 2 and 3 the tile above stored there
        int r = 2 * ty * rs + t;
        m00.add(FloatVector.fromArray(S, rows, p0 + r)).intoArray(rows, p0 + r);
        m01.sub(m02).add(m03).add(FloatVector.fromArray(S, rows, p1 + r)).intoArray(rows, p1 + r);
        m01.add(m02).sub(m00).add(FloatVector.fromArray(S, rows, p2 + r)).intoArray(rows, p2 + r);
        m03.neg().add(FloatVector.fromArray(S, rows, p3 + r)).intoArray(rows, p3 + r);
        r += rs;
        r10.add(FloatVector.fromArray(S, rows, p0 + r)).intoArray(rows, p0 + r);
        r11.sub(r12).add(r13).add(FloatVector.fromArray(S, rows, p1 + r)).intoArray(rows, p1 + r);
        r11.add(r12).sub(r10).add(FloatVector.fromArray(S, rows, p2 + r)).intoArray(rows, p2 + r);
        r13.neg().add(FloatVector.fromArray(S, rows, p3 + r)).intoArray(rows, p3 + r);
        r += rs;
        r20.intoArray(rows, p0 + r);
        r21.sub(r22).add(r23).intoArray(rows, p1 + r);
        r21.add(r22).sub(r20).intoArray(rows, p2 + r);
        r23.neg().intoArray(rows, p3 + r);
        r += rs; // row 3 is -m3j: dd0 = -m30, dd1 = -m31 + m32 - m33, ...
        m30.neg().intoArray(rows, p0 + r);
        m32.sub(m31).sub(m33).intoArray(rows, p1 + r);
        m30.sub(m31).sub(m32).intoArray(rows, p2 + r);
        m33.intoArray(rows, p3 + r);
      }
    }
    for (int row = 0; row < 2 * th + 2; row++) {
      // columns no tile writes: the shifted parts' first, and the others' column tw (written by
      // the lanes past the last tile when tw is not a whole number of vectors)
      rows[part + row * rs] = 0f;
      rows[3 * part + row * rs] = 0f;
      rows[row * rs + tw] = 0f;
      rows[2 * part + row * rs + tw] = 0f;
    }
    interleaveRows(rows, rs, part, tw, gx, go, ih, iw, p);
  }

  /**
   * The padded plane's rows from {@link #inputAdjoint}'s four parts (even columns: parts 0 + 1,
   * odd: 2 + 3), interior to gx. Its own method: inlined, these loops made inputAdjoint so large
   * that C2 gave up intrinsifying some of its vector operations and boxed them.
   */
  private static void interleaveRows(
      float[] rows, int rs, int part, int tw, float[] gx, int go, int ih, int iw, int p) {
    int line = 4 * part; // one interleaved padded row
    for (int y = 0; y < ih; y++) {
      int r = (y + p) * rs;
      for (int c = 0; c <= tw; c += L) {
        FloatVector ev =
            FloatVector.fromArray(S, rows, r + c).add(FloatVector.fromArray(S, rows, part + r + c));
        FloatVector ov =
            FloatVector.fromArray(S, rows, 2 * part + r + c)
                .add(FloatVector.fromArray(S, rows, 3 * part + r + c));
        ev.rearrange(Interleave.ZIP_LO, ov).intoArray(rows, line + 2 * c);
        ev.rearrange(Interleave.ZIP_HI, ov).intoArray(rows, line + 2 * c + L);
      }
      System.arraycopy(rows, line + p, gx, go + y * iw, iw);
    }
  }

  /**
   * gw = G^T M G for the 4x4 matrix m[k * stride + at] (k = 4 * row + column), written to the 3x3
   * filter at gw[go]; G^T = [[1,1/2,1/2,0],[0,1/2,-1/2,0],[0,1/2,1/2,1]].
   */
  private static void filterGradient(float[] m, int at, int stride, float[] gw, int go) {
    float[] t = new float[12]; // M G, 4x3
    for (int r = 0; r < 4; r++) {
      float m0 = m[(4 * r) * stride + at], m1 = m[(4 * r + 1) * stride + at];
      float m2 = m[(4 * r + 2) * stride + at], m3 = m[(4 * r + 3) * stride + at];
      t[3 * r] = m0 + 0.5f * (m1 + m2);
      t[3 * r + 1] = 0.5f * (m1 - m2);
      t[3 * r + 2] = 0.5f * (m1 + m2) + m3;
    }
    for (int c = 0; c < 3; c++) {
      float t0 = t[c], t1 = t[3 + c], t2 = t[6 + c], t3 = t[9 + c];
      gw[go + c] = t0 + 0.5f * (t1 + t2);
      gw[go + 3 + c] = 0.5f * (t1 - t2);
      gw[go + 6 + c] = 0.5f * (t1 + t2) + t3;
    }
  }

  /**
   * A dY A^T for the 2x2 tiles in tile rows [ty0, ty1) of one output-gradient plane (zero past its
   * edges), with A = [[1,0],[1,1],[1,-1],[0,-1]], written to u[k * kStride + at + tile]: first
   * along each row, as vectors over the row's tiles, then down the two rows of a tile row.
   */
  private static void gradientTransform(
      float[] gy,
      int go,
      int oh,
      int ow,
      int ty0,
      int ty1,
      int tw,
      float[] u,
      int at,
      int kStride,
      float[] rows) {
    int rs = tw + L; // row stride in the rows buffer (room for a whole vector past tw)
    int padded = 8 * rs; // one zero-padded gradient row, after the 2 x 4 transformed ones
    int pw = 2 * rs;
    for (int ty = ty0; ty < ty1; ty++) {
      for (int half = 0; half < 2; half++) {
        int oy = 2 * ty + half;
        float[] src = gy;
        int from = go + oy * ow;
        if (oy >= oh || ow != 2 * tw || from + readEnd(tw, 0) > gy.length) {
          paddedRow(oy < oh ? gy : null, from, ow, 0, rows, padded, pw);
          src = rows;
          from = padded;
        }
        int base = half * 4 * rs;
        for (int t = 0; t < tw; t += L) {
          int c = from + 2 * t;
          FloatVector v0 = FloatVector.fromArray(S, src, c);
          FloatVector v1 = FloatVector.fromArray(S, src, c + L);
          FloatVector e = v0.rearrange(Interleave.EVEN, v1);
          FloatVector o = v0.rearrange(Interleave.ODD, v1);
          e.intoArray(rows, base + t);
          e.add(o).intoArray(rows, base + rs + t);
          e.sub(o).intoArray(rows, base + 2 * rs + t);
          o.neg().intoArray(rows, base + 3 * rs + t);
        }
      }
      int dst = at + (ty - ty0) * tw;
      for (int j = 0; j < 4; j++) {
        int c0 = j * rs, c1 = 4 * rs + j * rs;
        for (int t = 0; t < tw; t += L) {
          FloatVector a0 = FloatVector.fromArray(S, rows, c0 + t);
          FloatVector a1 = FloatVector.fromArray(S, rows, c1 + t);
          a0.intoArray(u, j * kStride + dst + t);
          a0.add(a1).intoArray(u, (4 + j) * kStride + dst + t);
          a0.sub(a1).intoArray(u, (8 + j) * kStride + dst + t);
          a1.neg().intoArray(u, (12 + j) * kStride + dst + t);
        }
      }
    }
  }

  /** Floats of the per-plane scratch rows the transforms use for th x tw tiles. */
  static int rowsSize(int th, int tw) {
    return (2 * th + 2) * 4 * (tw + 1 + L) + 2 * (tw + L) + 4;
  }

  private static float[] buffer(float[][] s, int i, int size) {
    if (s[i].length < size + Alignment.SLACK) {
      s[i] = new float[size + Alignment.SLACK];
    }
    return s[i];
  }

  /**
   * V = B^T d B for the tiles in tile rows [ty0, ty1) of one channel plane, written to v[k *
   * kStride + at + tile] (tile counted from the band's first). First d B along each (virtual,
   * zero-padded) input row, as vectors over the row's tiles; then B^T along the columns, four rows
   * at a time.
   */
  private static void inputTransform(
      float[] x,
      int xo,
      int ih,
      int iw,
      int p,
      int ty0,
      int ty1,
      int tw,
      float[] v,
      int at,
      int kStride,
      float[] rows) {
    int rs = tw + L; // row stride in the rows buffer (room for a whole vector past tw)
    int padded = (2 * ty1 + 2) * 4 * rs; // one zero-padded input row: pad[c] = X(c - p)
    int pw = 2 * (tw + L) + 4;
    for (int r = 2 * ty0; r < 2 * ty1 + 2; r++) { // virtual rows, from -p
      int iy = r - p;
      float[] src = x;
      int from = xo + iy * iw;
      if (p != 0 || iy >= ih || iw < 2 * tw + 2 || from + readEnd(tw, 2) > x.length) {
        paddedRow(iy >= 0 && iy < ih ? x : null, from, iw, p, rows, padded, pw);
        src = rows;
        from = padded;
      }
      int base = r * 4 * rs;
      for (int t = 0; t < tw; t += L) {
        // even and odd columns of the tiles: e0 = X(2t), o0 = X(2t + 1), e1 = X(2t + 2), ...
        // split by two-vector shuffles, not gathers: C2 does not always intrinsify the gather on
        // AVX2, and its fallback boxes every vector
        int c = from + 2 * t;
        FloatVector v0 = FloatVector.fromArray(S, src, c);
        FloatVector v1 = FloatVector.fromArray(S, src, c + L);
        FloatVector e0 = v0.rearrange(Interleave.EVEN, v1);
        FloatVector o0 = v0.rearrange(Interleave.ODD, v1);
        v0 = FloatVector.fromArray(S, src, c + 2);
        v1 = FloatVector.fromArray(S, src, c + 2 + L);
        FloatVector e1 = v0.rearrange(Interleave.EVEN, v1);
        FloatVector o1 = v0.rearrange(Interleave.ODD, v1);
        // d B with B^T = [[1,0,-1,0],[0,1,1,0],[0,-1,1,0],[0,1,0,-1]] applied to (e0, o0, e1, o1)
        e0.sub(e1).intoArray(rows, base + t);
        o0.add(e1).intoArray(rows, base + rs + t);
        e1.sub(o0).intoArray(rows, base + 2 * rs + t);
        o0.sub(o1).intoArray(rows, base + 3 * rs + t);
      }
    }
    for (int ty = ty0; ty < ty1; ty++) {
      int r0 = 2 * ty * 4 * rs, r1 = r0 + 4 * rs, r2 = r1 + 4 * rs, r3 = r2 + 4 * rs;
      int dst = at + (ty - ty0) * tw;
      for (int j = 0; j < 4; j++) {
        int c0 = r0 + j * rs, c1 = r1 + j * rs, c2 = r2 + j * rs, c3 = r3 + j * rs;
        for (int t = 0; t < tw; t += L) {
          FloatVector a0 = FloatVector.fromArray(S, rows, c0 + t);
          FloatVector a1 = FloatVector.fromArray(S, rows, c1 + t);
          FloatVector a2 = FloatVector.fromArray(S, rows, c2 + t);
          FloatVector a3 = FloatVector.fromArray(S, rows, c3 + t);
          a0.sub(a2).intoArray(v, j * kStride + dst + t);
          a1.add(a2).intoArray(v, (4 + j) * kStride + dst + t);
          a2.sub(a1).intoArray(v, (8 + j) * kStride + dst + t);
          a1.sub(a3).intoArray(v, (12 + j) * kStride + dst + t);
        }
      }
    }
  }

  /**
   * How far past a row's start the transforms' vector loads reach for {@code tw} tiles, {@code
   * shift} being the farthest load's offset: two vectors from column 2t + shift for the last vector
   * step t. A row whose tiles need no padding is read in place when this stays inside its array;
   * the lanes past the tiles then hold the next row's values, and are never read back as results,
   * like the copied row's zeros.
   */
  private static int readEnd(int tw, int shift) {
    return 2 * ((tw - 1) / L * L) + shift + 2 * L;
  }

  /**
   * rows[at, at + width) = lead zeros, then n values of src from {@code from} (as many as fit),
   * then zeros; all zeros when src is null (a row of the padding).
   */
  private static void paddedRow(
      float[] src, int from, int n, int lead, float[] rows, int at, int width) {
    lead = Math.min(lead, width);
    n = src == null ? 0 : Math.min(n, width - lead);
    java.util.Arrays.fill(rows, at, at + lead, 0f);
    if (n > 0) {
      System.arraycopy(src, from, rows, at + lead, n);
    }
    java.util.Arrays.fill(rows, at + lead + n, at + width, 0f);
  }

  /**
   * Y = A^T M A (+ bias) for the tiles in tile rows [ty0, ty1) of one output plane, with A^T =
   * [[1,1,1,0],[0,1,-1,-1]]; m[k * kStride + at + tile] holds the 16 positions.
   */
  private static void outputTransform(
      float[] m,
      int at,
      int kStride,
      int ty0,
      int ty1,
      int tw,
      float bias,
      float[] y,
      int yo,
      int oh,
      int ow,
      float[] edge) {
    for (int ty = ty0; ty < ty1; ty++) {
      int src = at + (ty - ty0) * tw;
      for (int t = 0; t < tw; t += L) {
        int a = src + t;
        // s0 = m0 + m1 + m2 and s1 = m1 - m2 - m3 down each of the 4 columns j
        FloatVector m00 = FloatVector.fromArray(S, m, a);
        FloatVector m10 = FloatVector.fromArray(S, m, 4 * kStride + a);
        FloatVector m20 = FloatVector.fromArray(S, m, 8 * kStride + a);
        FloatVector m30 = FloatVector.fromArray(S, m, 12 * kStride + a);
        FloatVector s00 = m00.add(m10).add(m20), s10 = m10.sub(m20).sub(m30);
        FloatVector m01 = FloatVector.fromArray(S, m, kStride + a);
        FloatVector m11 = FloatVector.fromArray(S, m, 5 * kStride + a);
        FloatVector m21 = FloatVector.fromArray(S, m, 9 * kStride + a);
        FloatVector m31 = FloatVector.fromArray(S, m, 13 * kStride + a);
        FloatVector s01 = m01.add(m11).add(m21), s11 = m11.sub(m21).sub(m31);
        FloatVector m02 = FloatVector.fromArray(S, m, 2 * kStride + a);
        FloatVector m12 = FloatVector.fromArray(S, m, 6 * kStride + a);
        FloatVector m22 = FloatVector.fromArray(S, m, 10 * kStride + a);
        FloatVector m32 = FloatVector.fromArray(S, m, 14 * kStride + a);
        FloatVector s02 = m02.add(m12).add(m22), s12 = m12.sub(m22).sub(m32);
        FloatVector m03 = FloatVector.fromArray(S, m, 3 * kStride + a);
        FloatVector m13 = FloatVector.fromArray(S, m, 7 * kStride + a);
        FloatVector m23 = FloatVector.fromArray(S, m, 11 * kStride + a);
        FloatVector m33 = FloatVector.fromArray(S, m, 15 * kStride + a);
        FloatVector s03 = m03.add(m13).add(m23), s13 = m13.sub(m23).sub(m33);
        FloatVector y00 = s00.add(s01).add(s02).add(bias);
        FloatVector y01 = s01.sub(s02).sub(s03).add(bias);
        FloatVector y10 = s10.add(s11).add(s12).add(bias);
        FloatVector y11 = s11.sub(s12).sub(s13).add(bias);
        // interleave even columns (y?0) with odd ones (y?1) into whole output rows, masked to the
        // columns that exist; a zip by two-vector shuffles, since AVX2 has no scatter and the
        // Vector API's emulated one was a fifth of the forward pass
        int x0 = 2 * t, width = Math.min(2 * L, ow - x0);
        int row0 = yo + 2 * ty * ow + x0;
        VectorMask<Float> lo = S.indexInRange(0, width);
        VectorMask<Float> hi = S.indexInRange(L, width);
        boolean second = 2 * ty + 1 < oh;
        // zipped once for both store paths, which keeps the method smaller: C2 failed to
        // intrinsify the edge path's stores in some processes (fewer since, not none)
        FloatVector z0 = y00.rearrange(Interleave.ZIP_LO, y01);
        FloatVector z1 = y00.rearrange(Interleave.ZIP_HI, y01);
        FloatVector z2 = y10.rearrange(Interleave.ZIP_LO, y11);
        FloatVector z3 = y10.rearrange(Interleave.ZIP_HI, y11);
        if (row0 + ow + 2 * L <= y.length) {
          z0.intoArray(y, row0, lo);
          z1.intoArray(y, row0 + L, hi);
          if (second) {
            z2.intoArray(y, row0 + ow, lo);
            z3.intoArray(y, row0 + ow + L, hi);
          }
        } else {
          // masked stores near the array's end take a slow checking path (and lane(i) with a
          // variable i boxes the vector): whole vectors into a small buffer, copied from there
          z0.intoArray(edge, 0);
          z1.intoArray(edge, L);
          z2.intoArray(edge, 2 * L);
          z3.intoArray(edge, 3 * L);
          System.arraycopy(edge, 0, y, row0, width);
          if (second) {
            System.arraycopy(edge, 2 * L, y, row0 + ow, width);
          }
        }
      }
    }
  }
}
