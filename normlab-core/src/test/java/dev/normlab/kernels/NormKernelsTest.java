package dev.normlab.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The fused float kernels against their double twins, the twins against finite differences. */
class NormKernelsTest {
  private final int savedThreads = Parallel.threads();

  @AfterEach
  void restoreThreads() {
    Parallel.setThreads(savedThreads);
  }

  // ------------------------------------------------------------------ helpers

  static float[] randn(Random r, int n, double offset, double scale) {
    float[] a = new float[n];
    for (int i = 0; i < n; i++) {
      a[i] = (float) (offset + scale * r.nextGaussian());
    }
    return a;
  }

  static double[] d(float[] a) {
    if (a == null) {
      return null;
    }
    double[] o = new double[a.length];
    for (int i = 0; i < a.length; i++) {
      o[i] = a[i];
    }
    return o;
  }

  /** |a - e| <= tol * (1 + |e|) elementwise, with a scale taken from the largest |e|. */
  static void close(String what, double[] e, float[] a, double tol) {
    double scale = 0;
    for (double v : e) {
      scale = Math.max(scale, Math.abs(v));
    }
    for (int i = 0; i < e.length; i++) {
      double t = tol * (1 + Math.abs(e[i]) + 0.1 * scale);
      if (!(Math.abs(a[i] - e[i]) <= t)) {
        fail(what + "[" + i + "]: expected " + e[i] + " got " + a[i] + " tol " + t);
      }
    }
  }

  static void closeD(String what, double[] e, double[] a, double tol) {
    for (int i = 0; i < e.length; i++) {
      double t = tol * (1 + Math.abs(e[i]));
      if (!(Math.abs(a[i] - e[i]) <= t)) {
        fail(what + "[" + i + "]: expected " + e[i] + " got " + a[i] + " tol " + t);
      }
    }
  }

  // ------------------------------------------------------------------ row layout

  /** rows(outer), groups, cpg, inner, affine, rms. */
  static Stream<Arguments> rowShapes() {
    return Stream.of(
        Arguments.of(2, 3, 1, 15, true, false), // IN1d
        Arguments.of(4, 5, 1, 63, true, false), // IN2d odd spatial (vector tail)
        Arguments.of(3, 4, 3, 35, true, false), // GN, odd
        Arguments.of(2, 2, 4, 17, false, false), // GN no affine
        Arguments.of(2, 1, 6, 1, true, false), // GN no spatial
        Arguments.of(7, 1, 37, 1, true, false), // LN odd D
        Arguments.of(5, 1, 64, 1, false, false), // LN no affine
        Arguments.of(3, 1, 1000, 1, true, false), // LN long rows (several flush blocks)
        Arguments.of(3, 1, 9001, 1, true, false), // LN rows long enough for column blocks, tail
        Arguments.of(2, 2, 8195, 1, true, false), // two groups of per-element affine, column blocks
        Arguments.of(2, 2, 1, 4099, true, false), // IN long rows, tail
        Arguments.of(6, 1, 33, 1, true, true), // RMS odd
        Arguments.of(2, 1, 128, 1, false, true), // RMS no weight
        Arguments.of(2, 3, 2, 9, true, true)); // RMS per channel layout
  }

  @ParameterizedTest
  @MethodSource("rowShapes")
  void rowKernelMatchesTwin(int outer, int groups, int cpg, int inner, boolean aff, boolean rms) {
    Random r = new Random(outer * 31L + groups * 7L + cpg * 3L + inner);
    int rows = outer * groups;
    int n = rows * cpg * inner;
    int nch = groups * cpg;
    float[] x = randn(r, n, 0.5, 2);
    float[] dy = randn(r, n, 0, 1);
    float[] w = aff ? randn(r, nch, 1, 0.5) : null;
    float[] b = aff && !rms ? randn(r, nch, 0, 0.5) : null;
    double eps = 1e-5;
    float[] y = new float[n];
    double[] mean = new double[rows];
    double[] rstd = new double[rows];
    NormKernels.rowNormForward(x, y, rows, groups, cpg, inner, w, b, eps, rms, false, mean, rstd);
    double[] ey = new double[n];
    double[] em = new double[rows];
    double[] er = new double[rows];
    NormReference.rowNormForward(
        d(x), ey, rows, groups, cpg, inner, d(w), d(b), eps, rms, false, em, er);
    close("y", ey, y, 2e-6);
    closeD("mean", em, mean, 1e-6);
    closeD("rstd", er, rstd, 1e-6);

    float[] dx = new float[n];
    float[] dw = new float[nch];
    float[] db = new float[nch];
    NormKernels.rowNormBackward(
        dy, x, rows, groups, cpg, inner, mean, rstd, w, rms, dx, dw, b == null ? null : db);
    double[] edx = new double[n];
    double[] edw = new double[nch];
    double[] edb = new double[nch];
    NormReference.rowNormBackward(
        d(dy), d(x), rows, groups, cpg, inner, d(w), eps, rms, false, edx, edw, edb);
    close("dx", edx, dx, 5e-6);
    close("dw", edw, dw, 5e-6);
    if (b != null) {
      close("db", edb, db, 5e-6);
    }
  }

  /**
   * The row kernels take a row's statistics and gradient sums in the previous row's pass within a
   * thread's chunk, and alone at a chunk's start: whatever the chunks (1 to 7 threads over 7 rows,
   * so chunks of one, two and more rows), every row must get its own statistics and the same bits,
   * into dx and into dy itself; and they must be the reference's.
   */
  @Test
  void rowKernelsAreBitwiseTheSameForAnyThreadCount() {
    // groups, cpg, inner: Group Norm on 26x26 maps (rows of 2,704), Instance Norm rows of 2,500
    // and 676 (separate passes) and 9,000 (over the per-channel rows' 8,192: fused), Group Norm
    // rows of 8,400 (fused), Layer Norm rows (per-element affine) fused (2,048 to 4,095) and not
    int[][] shapes = {
      {1, 4, 676},
      {1, 1, 2500},
      {1, 1, 676},
      {1, 1, 9000},
      {1, 2, 4200},
      {1, 3000, 1},
      {1, 5000, 1},
      {1, 37, 1}
    };
    for (int[] s : shapes) {
      int groups = s[0], cpg = s[1], inner = s[2], rows = 7;
      int n = rows * cpg * inner, nch = groups * cpg;
      Random r = new Random(n);
      float[] x = randn(r, n, 3, 2);
      float[] dy = randn(r, n, 0, 1);
      float[] w = randn(r, nch, 1, 0.5);
      float[] b = randn(r, nch, 0, 0.5);
      String shape = java.util.Arrays.toString(s);
      float[] first = null;
      for (int threads = 1; threads <= 7; threads++) {
        Parallel.setThreads(threads);
        float[] y = new float[n];
        double[] mean = new double[rows];
        double[] rstd = new double[rows];
        NormKernels.rowNormForward(
            x, y, rows, groups, cpg, inner, w, b, 1e-5, false, false, mean, rstd);
        float[] dx = new float[n];
        float[] dw = new float[nch];
        float[] db = new float[nch];
        NormKernels.rowNormBackward(
            dy, x, rows, groups, cpg, inner, mean, rstd, w, false, dx, dw, db);
        float[] inPlace = dy.clone();
        NormKernels.rowNormBackward(
            inPlace, x, rows, groups, cpg, inner, mean, rstd, w, false, inPlace, null, null);
        assertArrayEquals(dx, inPlace, 0f, shape + ", dx into dy, " + threads + " threads");
        float[] all = concat(concat(y, dx), concat(dw, db));
        if (first == null) {
          first = all;
          double[] ey = new double[n];
          NormReference.rowNormForward(
              d(x),
              ey,
              rows,
              groups,
              cpg,
              inner,
              d(w),
              d(b),
              1e-5,
              false,
              false,
              new double[rows],
              new double[rows]);
          close("y " + shape, ey, y, 2e-6);
          double[] edx = new double[n];
          NormReference.rowNormBackward(
              d(dy),
              d(x),
              rows,
              groups,
              cpg,
              inner,
              d(w),
              1e-5,
              false,
              false,
              edx,
              new double[nch],
              new double[nch]);
          close("dx " + shape, edx, dx, 5e-6);
        }
        assertArrayEquals(first, all, 0f, shape + ", " + threads + " threads");
      }
    }
  }

  @ParameterizedTest
  @MethodSource("rowShapes")
  void rowTwinGradientsMatchFiniteDifferences(
      int outer, int groups, int cpg, int inner, boolean aff, boolean rms) {
    // keep FD cheap: cap the row length
    int in = Math.min(inner, 7);
    int cp = Math.min(cpg, 9);
    Random r = new Random(99 + outer + groups + cpg + inner);
    int rows = Math.min(outer, 2) * groups;
    int n = rows * cp * in;
    int nch = groups * cp;
    double[] x = d(randn(r, n, 0.3, 1.5));
    double[] g = d(randn(r, n, 0, 1));
    double[] w = aff ? d(randn(r, nch, 1, 0.5)) : null;
    double[] b = aff && !rms ? d(randn(r, nch, 0, 0.5)) : null;
    double eps = 1e-3;
    int rws = rows;
    int fcp = cp;
    int fin = in;
    Loss loss =
        (xx, ww, bb) -> {
          double[] y = new double[xx.length];
          NormReference.rowNormForward(
              xx,
              y,
              rws,
              groups,
              fcp,
              fin,
              ww,
              bb,
              eps,
              rms,
              false,
              new double[rws],
              new double[rws]);
          double s = 0;
          for (int i = 0; i < y.length; i++) {
            s += y[i] * g[i];
          }
          return s;
        };
    double[] dx = new double[n];
    double[] dw = new double[nch];
    double[] db = new double[nch];
    NormReference.rowNormBackward(g, x, rows, groups, cp, in, w, eps, rms, false, dx, dw, db);
    checkFd(loss, x, w, b, dx, dw, db);
  }

  interface Loss {
    double apply(double[] x, double[] w, double[] b);
  }

  static void checkFd(
      Loss loss, double[] x, double[] w, double[] b, double[] dx, double[] dw, double[] db) {
    double h = 1e-6;
    double[][] args = {x, w, b};
    double[][] grads = {dx, dw, db};
    String[] names = {"dx", "dw", "db"};
    for (int a = 0; a < 3; a++) {
      double[] p = args[a];
      if (p == null) {
        continue;
      }
      double[] fd = new double[p.length];
      for (int i = 0; i < p.length; i++) {
        double old = p[i];
        p[i] = old + h;
        double up = loss.apply(x, w, b);
        p[i] = old - h;
        double dn = loss.apply(x, w, b);
        p[i] = old;
        fd[i] = (up - dn) / (2 * h);
      }
      closeD("fd " + names[a], fd, grads[a], 2e-6);
    }
  }

  // ------------------------------------------------------------------ channel layout

  static Stream<Arguments> bnShapes() {
    return Stream.of(
        Arguments.of(4, 10, 1, true),
        Arguments.of(4, 5, 3, true),
        Arguments.of(2, 3, 36, false),
        Arguments.of(3, 5, 63, true),
        Arguments.of(2, 3, 64, true),
        Arguments.of(5, 2, 1031, true),
        // maps of 5,000: blocks of three channels (NormKernels.channelBlock), a partial last one
        Arguments.of(2, 7, 5000, true));
  }

  /**
   * Batch Norm's blocks: runs of at most about 16K floats per image, and a block's data over all
   * images within half the L2, so that its second read comes from there.
   */
  @Test
  void batchNormBlocksKeepTheirSecondReadInL2() {
    long l2 = 2L << 20;
    // 64x64x24x24 on 2 threads (32 channels each): 147 KB per channel and array
    assertEquals(7, NormKernels.channelBlock(576, 32, 64, 1, l2)); // 5 blocks: 7+7+7+7+4
    assertEquals(1, NormKernels.channelBlock(576, 32, 64, 4, l2));
    // the pipelined forward (x of this block and the next, y): 2 channels
    assertEquals(2, NormKernels.channelBlock(576, 32, 64, 3, l2));
    // without the L2 bound the runs' bound alone: 28 channels of 576, as 16 + 16
    assertEquals(16, NormKernels.channelBlock(576, 32, 64, 1, 1L << 40));
    // a 128x128 map is a run of 16K floats by itself
    assertEquals(1, NormKernels.channelBlock(16384, 32, 8, 1, 1L << 40));
    // small data: the runs' bound, 3 channels of 5,000
    assertEquals(3, NormKernels.channelBlock(5000, 7, 2, 4, l2));
    // a channel bigger than the budget still makes a block of one
    assertEquals(1, NormKernels.channelBlock(5000, 7, 1000, 1, l2));
  }

  /**
   * Batch Norm's forward blocks (1, 2, 3 with a shorter last, 5 channels, or a thread's all), each
   * block's statistics taken in the pass that normalizes the block before, give the same mean,
   * variance and y; and y is the one the given-statistics pass (no pipeline) makes from them.
   */
  @Test
  void batchNormForwardIsBitwiseTheSameForAnyBlock() {
    Random r = new Random(43);
    for (int inner : new int[] {300, 1031}) {
      int n = 6, c = 10, len = n * c * inner;
      float[] x = randn(r, len, 20, 2);
      float[] w = randn(r, c, 1, 0.5);
      float[] b = randn(r, c, 0, 0.5);
      float[] firstY = null;
      double[][] firstStats = null;
      for (long l2 : new long[] {1, 50_000, 90_000, 200_000, Long.MAX_VALUE}) {
        for (int threads = 1; threads <= 2; threads++) {
          Parallel.setThreads(threads);
          float[] y = new float[len];
          double[] mean = new double[c], var = new double[c], rstd = new double[c];
          NormKernels.batchNormForward(x, y, n, c, inner, w, b, 1e-5, true, mean, var, rstd, l2);
          String at = "inner " + inner + ", L2 " + l2 + ", " + threads + " threads";
          float[] given = new float[len];
          NormKernels.batchNormForward(
              x, given, n, c, inner, w, b, 1e-5, false, mean, var, rstd, l2);
          assertArrayEquals(given, y, 0f, "y against the given-statistics pass, " + at);
          if (firstY == null) {
            firstY = y;
            firstStats = new double[][] {mean, var, rstd};
          }
          assertArrayEquals(firstY, y, 0f, "y, " + at);
          assertArrayEquals(firstStats[0], mean, 0.0, "mean, " + at);
          assertArrayEquals(firstStats[1], var, 0.0, "var, " + at);
          assertArrayEquals(firstStats[2], rstd, 0.0, "rstd, " + at);
        }
      }
    }
  }

  /**
   * Batch Norm's backward blocks (1, 2, 3 with a shorter last, 5 channels, or a thread's all) give
   * the same dx, dw and db: each channel's sums in image order whatever the block.
   */
  @Test
  void batchNormBackwardIsBitwiseTheSameForAnyBlock() {
    Random r = new Random(41);
    int n = 6, c = 10, inner = 300, len = n * c * inner;
    float[] x = randn(r, len, 20, 2);
    float[] dy = randn(r, len, 0, 1);
    float[] w = randn(r, c, 1, 0.5);
    double[] mean = new double[c], var = new double[c], rstd = new double[c];
    NormKernels.batchNormForward(
        x, new float[len], n, c, inner, w, null, 1e-5, true, mean, var, rstd);
    float[] first = null;
    for (long l2 : new long[] {1, 130_000, 200_000, 300_000, Long.MAX_VALUE}) {
      for (int threads = 1; threads <= 2; threads++) {
        Parallel.setThreads(threads);
        float[] dx = new float[len], dw = new float[c], db = new float[c];
        NormKernels.batchNormBackward(dy, x, n, c, inner, mean, rstd, w, false, dx, dw, db, l2);
        float[] all = concat(dx, concat(dw, db));
        if (first == null) {
          first = all;
        }
        assertArrayEquals(first, all, 0f, "L2 " + l2 + ", " + threads + " threads");
      }
    }
  }

  /**
   * Batch Norm walks a thread's channels in blocks, image by image, the next block's sums taken
   * with this block's dx, and the blocks depend on how many channels a thread has; each channel's
   * sums must not: any thread count gives the same bits, into dx and into dy itself.
   */
  @Test
  void batchNormIsBitwiseTheSameForAnyThreadCount() {
    Random r = new Random(31);
    for (int[] s : new int[][] {{2, 7, 5000}, {4, 9, 676}, {3, 5, 1}}) {
      int n = s[0], c = s[1], inner = s[2], len = n * c * inner;
      float[] x = randn(r, len, 0.3, 2);
      float[] dy = randn(r, len, 0, 1);
      float[] w = randn(r, c, 1, 0.5);
      float[] b = randn(r, c, 0, 0.5);
      float[] first = null;
      double[] firstStats = null;
      for (int threads = 1; threads <= 4; threads++) {
        Parallel.setThreads(threads);
        double[] mean = new double[c], var = new double[c], rstd = new double[c];
        float[] y = new float[len], dx = new float[len], dw = new float[c], db = new float[c];
        NormKernels.batchNormForward(x, y, n, c, inner, w, b, 1e-5, true, mean, var, rstd);
        NormKernels.batchNormBackward(dy, x, n, c, inner, mean, rstd, w, false, dx, dw, db);
        float[] all = concat(concat(y, dx), concat(dw, db));
        double[] stats = new double[2 * c];
        System.arraycopy(mean, 0, stats, 0, c);
        System.arraycopy(var, 0, stats, c, c);
        if (first == null) {
          first = all;
          firstStats = stats;
        }
        String at = threads + " threads, shape " + n + "x" + c + "x" + inner;
        assertArrayEquals(firstStats, stats, "mean and var, " + at);
        // in place (dx = dy), as the autograd engine does with a gradient no one else holds
        float[] g = dy.clone();
        NormKernels.batchNormBackward(g, x, n, c, inner, mean, rstd, w, false, g, dw, db);
        assertArrayEquals(dx, g, 0f, "dx in place, " + at);
        assertArrayEquals(first, all, 0f, "y, dx, dw, db, " + at);
      }
    }
  }

  @ParameterizedTest
  @MethodSource("bnShapes")
  void batchKernelMatchesTwinTrainAndEval(int n, int c, int inner, boolean aff) {
    Random r = new Random(n * 1000L + c * 10L + inner);
    int len = n * c * inner;
    float[] x = randn(r, len, -0.7, 3);
    float[] dy = randn(r, len, 0, 1);
    float[] w = aff ? randn(r, c, 1, 0.5) : null;
    float[] b = aff ? randn(r, c, 0, 0.5) : null;
    for (boolean train : new boolean[] {true, false}) {
      double[] mean = new double[c];
      double[] var = new double[c];
      double[] rstd = new double[c];
      double[] em = new double[c];
      double[] ev = new double[c];
      double[] er = new double[c];
      if (!train) {
        for (int i = 0; i < c; i++) {
          mean[i] = em[i] = 0.1 * i - 0.5;
          rstd[i] = er[i] = 1 / Math.sqrt(1.5 + 0.2 * i + 1e-5);
        }
      }
      float[] y = new float[len];
      NormKernels.batchNormForward(x, y, n, c, inner, w, b, 1e-5, train, mean, var, rstd);
      double[] ey = new double[len];
      NormReference.batchNormForward(d(x), ey, n, c, inner, d(w), d(b), 1e-5, train, em, ev, er);
      close("y", ey, y, 2e-6);
      closeD("mean", em, mean, 1e-6);
      closeD("rstd", er, rstd, 1e-6);
      float[] dx = new float[len];
      float[] dw = new float[c];
      float[] db = new float[c];
      NormKernels.batchNormBackward(dy, x, n, c, inner, mean, rstd, w, !train, dx, dw, db);
      double[] edx = new double[len];
      double[] edw = new double[c];
      double[] edb = new double[c];
      NormReference.batchNormBackward(
          d(dy), d(x), n, c, inner, em, er, d(w), !train, edx, edw, edb);
      close("dx", edx, dx, 5e-6);
      close("dw", edw, dw, 5e-6);
      close("db", edb, db, 5e-6);
    }
  }

  @ParameterizedTest
  @MethodSource("bnShapes")
  void batchTwinGradientsMatchFiniteDifferences(int n, int c, int inner, boolean aff) {
    int in = Math.min(inner, 6);
    Random r = new Random(7 + n + c + inner);
    int len = n * c * in;
    double[] x = d(randn(r, len, 0.2, 1.3));
    double[] g = d(randn(r, len, 0, 1));
    double[] w = aff ? d(randn(r, c, 1, 0.5)) : null;
    double[] b = aff ? d(randn(r, c, 0, 0.5)) : null;
    double eps = 1e-3;
    for (boolean train : new boolean[] {true, false}) {
      double[] mean = new double[c];
      double[] var = new double[c];
      double[] rstd = new double[c];
      if (!train) {
        for (int i = 0; i < c; i++) {
          mean[i] = 0.3 * i;
          rstd[i] = 1 / Math.sqrt(0.8 + 0.1 * i + eps);
        }
      }
      Loss loss =
          (xx, ww, bb) -> {
            double[] y = new double[xx.length];
            double[] mm = train ? new double[c] : mean.clone();
            double[] rr = train ? new double[c] : rstd.clone();
            NormReference.batchNormForward(
                xx, y, n, c, in, ww, bb, eps, train, mm, new double[c], rr);
            double s = 0;
            for (int i = 0; i < y.length; i++) {
              s += y[i] * g[i];
            }
            return s;
          };
      if (train) {
        NormReference.batchNormForward(
            x, new double[len], n, c, in, w, b, eps, true, mean, var, rstd);
      }
      double[] dx = new double[len];
      double[] dw = new double[c];
      double[] db = new double[c];
      NormReference.batchNormBackward(g, x, n, c, in, mean, rstd, w, !train, dx, dw, db);
      checkFd(loss, x, w, b, dx, dw, db);
    }
  }

  // ------------------------------------------------------------------ LRN

  @Test
  void lrnKernelMatchesTwinAndFiniteDifferences() {
    int[][] cases = {{2, 5, 7, 3}, {1, 9, 20, 5}, {2, 4, 3, 2}, {1, 6, 5, 1}};
    for (int[] cs : cases) {
      int n = cs[0];
      int c = cs[1];
      int inner = cs[2];
      int size = cs[3];
      double alpha = 0.3;
      double beta = 0.75;
      double k = 1.5;
      Random r = new Random(cs[1] * 13L + cs[2]);
      int len = n * c * inner;
      float[] x = randn(r, len, 0, 2);
      float[] dy = randn(r, len, 0, 1);
      float[] y = new float[len];
      float[] den = new float[len];
      NormKernels.lrnForward(x, y, den, n, c, inner, size, alpha, beta, k);
      double[] ey = new double[len];
      NormReference.lrnForward(d(x), ey, n, c, inner, size, alpha, beta, k);
      close("lrn y", ey, y, 2e-6);
      float[] dx = new float[len];
      NormKernels.lrnBackward(dy, x, den, dx, n, c, inner, size, alpha, beta);
      double[] edx = new double[len];
      NormReference.lrnBackward(d(dy), d(x), edx, n, c, inner, size, alpha, beta, k);
      close("lrn dx", edx, dx, 5e-6);
      double[] g = d(dy);
      Loss loss =
          (xx, ww, bb) -> {
            double[] yy = new double[xx.length];
            NormReference.lrnForward(xx, yy, n, c, inner, size, alpha, beta, k);
            double s = 0;
            for (int i = 0; i < yy.length; i++) {
              s += yy[i] * g[i];
            }
            return s;
          };
      checkFd(loss, d(x), null, null, edx, null, null);
    }
  }

  // ------------------------------------------------------------------ precision, determinism

  @Test
  void largeCommonOffsetKeepsFullPrecision() {
    Random r = new Random(5);
    int n = 4;
    int c = 3;
    int inner = 1000;
    float[] x = randn(r, n * c * inner, 1e4, 0.01);
    double[] ex = d(x);
    // instance / group / layer rows
    int[][] layouts = {{n * c, c, 1, inner}, {n, 1, c * inner, 1}, {n, 1, c, inner}};
    for (int[] lay : layouts) {
      float[] y = new float[x.length];
      double[] ey = new double[x.length];
      NormKernels.rowNormForward(
          x,
          y,
          lay[0],
          lay[1],
          lay[2],
          lay[3],
          null,
          null,
          1e-5,
          false,
          false,
          new double[lay[0]],
          new double[lay[0]]);
      NormReference.rowNormForward(
          ex,
          ey,
          lay[0],
          lay[1],
          lay[2],
          lay[3],
          null,
          null,
          1e-5,
          false,
          false,
          new double[lay[0]],
          new double[lay[0]]);
      close("offset rows " + java.util.Arrays.toString(lay), ey, y, 2e-6);
    }
    float[] y = new float[x.length];
    double[] ey = new double[x.length];
    NormKernels.batchNormForward(
        x, y, n, c, inner, null, null, 1e-5, true, new double[c], new double[c], new double[c]);
    NormReference.batchNormForward(
        ex, ey, n, c, inner, null, null, 1e-5, true, new double[c], new double[c], new double[c]);
    close("offset bn", ey, y, 2e-6);
    // mean(y^2) = var / (var + eps) per channel, which E[x^2]-E[x]^2 in float would destroy
    for (int ch = 0; ch < c; ch++) {
      double m = 0;
      double s2 = 0;
      double v = 0;
      for (int i = 0; i < n; i++) {
        for (int p = 0; p < inner; p++) {
          m += ex[i * c * inner + ch * inner + p];
        }
      }
      m /= n * inner;
      for (int i = 0; i < n; i++) {
        for (int p = 0; p < inner; p++) {
          int o = i * c * inner + ch * inner + p;
          v += (ex[o] - m) * (ex[o] - m);
          s2 += (double) y[o] * y[o];
        }
      }
      v /= n * inner;
      double want = v / (v + 1e-5);
      assertTrue(Math.abs(s2 / (n * inner) - want) < 1e-5, "mean(y^2) " + s2 / (n * inner));
    }
  }

  @Test
  void sameThreadCountIsBitwiseDeterministic() {
    Random r = new Random(11);
    int rows = 64;
    int d = 4099;
    float[] x = randn(r, rows * d, 1, 2);
    float[] dy = randn(r, rows * d, 0, 1);
    float[] w = randn(r, d, 1, 0.3);
    float[] b = randn(r, d, 0, 0.3);
    for (int threads : new int[] {1, 2, 3}) {
      Parallel.setThreads(threads);
      float[][] runs = new float[2][];
      float[][] dws = new float[2][];
      for (int k = 0; k < 2; k++) {
        float[] y = new float[x.length];
        double[] mean = new double[rows];
        double[] rstd = new double[rows];
        NormKernels.rowNormForward(x, y, rows, 1, d, 1, w, b, 1e-5, false, false, mean, rstd);
        float[] dx = new float[x.length];
        float[] dw = new float[d];
        float[] db = new float[d];
        NormKernels.rowNormBackward(dy, x, rows, 1, d, 1, mean, rstd, w, false, dx, dw, db);
        runs[k] = concat(y, dx);
        dws[k] = concat(dw, db);
      }
      assertArrayEquals(runs[0], runs[1], "threads=" + threads);
      assertArrayEquals(dws[0], dws[1], "threads=" + threads);
    }
    // per-row work does not depend on the chunking at all
    Parallel.setThreads(1);
    float[] y1 = new float[x.length];
    NormKernels.rowNormForward(
        x, y1, rows, 1, d, 1, w, b, 1e-5, false, false, new double[rows], new double[rows]);
    Parallel.setThreads(2);
    float[] y2 = new float[x.length];
    NormKernels.rowNormForward(
        x, y2, rows, 1, d, 1, w, b, 1e-5, false, false, new double[rows], new double[rows]);
    assertArrayEquals(y1, y2);
  }

  /**
   * Fills this thread's kept scratch, every slot, sized for rows of {@code len}, with NaN: what a
   * call on longer rows left there (on one thread, the only thread's) must not reach a result.
   */
  private static void poisonKeptScratch(int len) {
    for (int slot = 0; slot < NormLoops.SCRATCH_SLOTS; slot++) {
      java.util.Arrays.fill(NormLoops.threadPartials(len, slot), Float.NaN);
    }
  }

  /**
   * Each thread keeps one scratch array a slot, grown to the longest row asked for, and none longer
   * than the cap: past it every call gets its own.
   */
  @Test
  void threadPartialsAreKeptPerSlotUpToTheirCap() {
    float[] a = NormLoops.threadPartials(100_000, 1);
    assertTrue(a.length >= NormLoops.partials(100_000).length);
    assertSame(a, NormLoops.threadPartials(50_000, 1));
    assertNotSame(a, NormLoops.threadPartials(100_000, 2));
    float[] grown = NormLoops.threadPartials(200_000, 1);
    assertTrue(grown.length >= NormLoops.partials(200_000).length);
    assertSame(grown, NormLoops.threadPartials(100_000, 1));
    int past = 16 * NormLoops.KEPT_SCRATCH_MAX;
    float[] big = NormLoops.threadPartials(past, 0);
    assertTrue(big.length >= NormLoops.partials(past).length);
    assertNotSame(big, NormLoops.threadPartials(past, 0));
  }

  @Test
  void columnBlockedBackwardIsThreadIndependentAndMayWriteIntoDy() {
    Random r = new Random(12);
    int rows = 5;
    int d = NormKernels.COLUMN_BLOCKED_LEN * 2 + 37;
    float[] x = randn(r, rows * d, 1, 2);
    float[] dy = randn(r, rows * d, 0, 1);
    float[] w = randn(r, d, 1, 0.3);
    float[] b = randn(r, d, 0, 0.3);
    double[] mean = new double[rows];
    double[] rstd = new double[rows];
    NormKernels.rowNormForward(
        x, new float[x.length], rows, 1, d, 1, w, b, 1e-5, false, false, mean, rstd);
    float[][] out = new float[4][];
    int k = 0;
    for (int threads : new int[] {1, 2, 3}) {
      Parallel.setThreads(threads);
      poisonKeptScratch(2 * d);
      float[] dx = new float[x.length];
      float[] dw = new float[d];
      float[] db = new float[d];
      NormKernels.rowNormBackward(dy, x, rows, 1, d, 1, mean, rstd, w, false, dx, dw, db);
      out[k++] = concat(dx, concat(dw, db));
    }
    // dw and db sum the rows in order in every block, so the thread count changes no bit
    assertArrayEquals(out[0], out[1]);
    assertArrayEquals(out[0], out[2]);
    // dx written over dy (the engine's in-place backward) gives the same bits
    float[] g = dy.clone();
    float[] dw = new float[d];
    float[] db = new float[d];
    NormKernels.rowNormBackward(g, x, rows, 1, d, 1, mean, rstd, w, false, g, dw, db);
    assertArrayEquals(out[0], concat(g, concat(dw, db)));
  }

  /**
   * The column-blocked forward (rows of a whole feature map) normalizes block by block across the
   * rows, four rows at a time where w and b are both given; each element must get the bits of the
   * row-by-row forward — each row's statistics, then its affine pass — with any weight and bias,
   * for Layer Norm and RMSNorm, on any thread count, whatever the kept scratch holds. Five rows: a
   * four and one left; a length with a vector tail and a scalar one.
   */
  @Test
  void columnBlockedForwardIsBitwiseThePerRowComposition() {
    Random r = new Random(15);
    int rows = 5;
    int d = NormKernels.COLUMN_BLOCKED_FORWARD_LEN + 37;
    assertForwardIsThePerRowComposition(r, rows, d, 2 * d);
  }

  /**
   * Layer Norm's rows from {@link NormKernels#ELEM_FOURS_FORWARD_MIN_LEN} up go four at a time
   * (their statistics, then their y sharing each load of w and b): the same bits as row by row,
   * with the rows a chunk leaves over a four (1 to 9 rows, 1 to 3 threads), at the bound, with a
   * tail, and on the CNN's maps.
   */
  @Test
  void rowFoursForwardIsBitwiseThePerRowComposition() {
    Random r = new Random(16);
    int min = NormKernels.ELEM_FOURS_FORWARD_MIN_LEN;
    for (int d : new int[] {min, min + 37, 21632}) {
      for (int rows : new int[] {1, 4, 5, 8, 9}) {
        assertForwardIsThePerRowComposition(r, rows, d, 0);
      }
    }
  }

  /**
   * rowNormForward over {@code rows} rows of d values against each row's statistics taken alone and
   * {@link NormLoops#elemAffine} per row, bitwise, for Layer Norm and RMSNorm, with w and b, w
   * alone and b alone, on 1 to 3 threads; the kept scratch first filled with NaN for rows of {@code
   * poison} values (0: not).
   */
  private static void assertForwardIsThePerRowComposition(Random r, int rows, int d, int poison) {
    float[] x = randn(r, rows * d, 2, 1.5);
    float[] w = randn(r, d, 1, 0.3);
    float[] b = randn(r, d, 0, 0.3);
    for (boolean rms : new boolean[] {false, true}) {
      for (float[][] wb : new float[][][] {{w, b}, {w, null}, {null, b}}) {
        float[] expected = new float[x.length];
        double[] em = new double[rows];
        double[] er = new double[rows];
        // the statistics of each row alone (no affine: the row-by-row path), then its affine pass
        for (int q = 0; q < rows; q++) {
          float[] row = java.util.Arrays.copyOfRange(x, q * d, (q + 1) * d);
          double[] m = new double[1];
          double[] rs = new double[1];
          NormKernels.rowNormForward(
              row, new float[d], 1, 1, d, 1, null, null, 1e-5, rms, false, m, rs);
          em[q] = m[0];
          er[q] = rs[0];
          float hi = (float) m[0];
          NormLoops.elemAffine(
              x, expected, q * d, d, hi, (float) (m[0] - hi), (float) rs[0], wb[0], wb[1], 0);
        }
        for (int threads : new int[] {1, 2, 3}) {
          Parallel.setThreads(threads);
          if (poison > 0) {
            poisonKeptScratch(poison);
          }
          float[] y = new float[x.length];
          double[] mean = new double[rows];
          double[] rstd = new double[rows];
          NormKernels.rowNormForward(
              x, y, rows, 1, d, 1, wb[0], wb[1], 1e-5, rms, false, mean, rstd);
          String what =
              "rows="
                  + rows
                  + " d="
                  + d
                  + " rms="
                  + rms
                  + " w="
                  + (wb[0] != null)
                  + " b="
                  + (wb[1] != null)
                  + " threads="
                  + threads;
          assertArrayEquals(em, mean, what);
          assertArrayEquals(er, rstd, what);
          assertArrayEquals(expected, y, what);
        }
      }
    }
  }

  /**
   * The column-blocked backward splits each row's sums over blocks of columns; it must give bitwise
   * what the plain per-row composition gives: each row's {@code elemGradSums}, then {@code
   * elemBackward} row after row into one dw and db (the arithmetic the accuracy tables rest on).
   */
  @Test
  void columnBlockedBackwardIsBitwiseThePerRowComposition() {
    Random r = new Random(14);
    for (int d : new int[] {NormKernels.COLUMN_BLOCKED_LEN, 21632, 36864 + 5}) {
      for (boolean rms : new boolean[] {false, true}) {
        // 7 rows: a four and three left over, one by one
        int rows = rms ? 6 : 7;
        float[] x = randn(r, rows * d, 2, 1.5);
        float[] dy = randn(r, rows * d, 0, 1);
        float[] w = randn(r, d, 1, 0.3);
        double[] mean = new double[rows];
        double[] rstd = new double[rows];
        NormKernels.rowNormForward(
            x, new float[x.length], rows, 1, d, 1, w, null, 1e-5, rms, false, mean, rstd);
        float[] dx = new float[x.length];
        float[] dw = new float[d];
        float[] db = new float[d];
        Parallel.setThreads(2);
        NormKernels.rowNormBackward(dy, x, rows, 1, d, 1, mean, rstd, w, rms, dx, dw, db);

        float[] ex = new float[x.length];
        float[] ew = new float[d];
        float[] eb = new float[d];
        for (int q = 0; q < rows; q++) {
          double m = rms ? 0.0 : mean[q];
          float hi = (float) m;
          float lo = (float) (m - hi);
          double[] acc = new double[2];
          NormLoops.elemGradSums(dy, x, q * d, d, hi, lo, w, 0, acc);
          double rs = rstd[q];
          float bb = (float) (-rs * rs * rs * acc[1] / d);
          float cc = (float) (rms ? 0.0 : -rs * acc[0] / d);
          NormLoops.elemBackward(dy, x, ex, q * d, d, hi, lo, (float) rs, bb, cc, w, 0, ew, eb);
        }
        assertArrayEquals(ex, dx, "dx d=" + d + " rms=" + rms);
        assertArrayEquals(ew, dw, "dw d=" + d + " rms=" + rms);
        assertArrayEquals(eb, db, "db d=" + d + " rms=" + rms);
      }
    }
  }

  /**
   * The affine and dx passes that take four vectors a step must give each element the bits of the
   * scalar formula, on lengths around the vector, the four-vector step and the sums' flush block,
   * with offsets that are not a vector's multiple.
   */
  @Test
  void unrolledKernelsAreBitwiseTheScalarFormula() {
    Random r = new Random(21);
    int l = jdk.incubator.vector.FloatVector.SPECIES_PREFERRED.length();
    int[] lens = {
      1, l - 1, l, 2 * l + 3, 4 * l - 1, 4 * l, 4 * l + 1, 9 * l + 5, 16 * l, 16 * l + 7, 1003
    };
    for (int len : lens) {
      int off = 3;
      float[] x = randn(r, off + 2 * len, 2, 1.5);
      float[] dy = randn(r, off + 2 * len, 0, 1);
      float hi0 = 1.9f, lo0 = 3e-8f;
      String at = "len=" + len;

      float a = 0.7f, b = -0.03f, c = 0.02f, sh = 0.25f;
      float[] y = new float[x.length];
      float[] g = new float[x.length];
      float shp = (float) (sh - (double) lo0 * a);
      NormLoops.affineFolded(x, y, off, 2 * len, hi0, a, shp);
      NormLoops.applyBackward(dy, x, g, off, 2 * len, hi0, lo0, a, b, c);
      float cp = (float) (c - (double) b * lo0);
      for (int i = off; i < off + 2 * len; i++) {
        float d = x[i] - hi0;
        assertTrue(y[i] == Math.fma(d, a, shp), "affine at " + i + ", " + at);
        assertTrue(g[i] == Math.fma(dy[i], a, Math.fma(d, b, cp)), "dx at " + i + ", " + at);
      }
    }
  }

  /**
   * Layer Norm's four-row kernels give each row the bits of the single-row ones: the sums against
   * four {@code elemGradSums} calls, dx, dw and db against four {@code elemBackward} calls in row
   * order, on lengths around one and two vectors and the sums' flush block, at an offset that is
   * not a vector's multiple, with dw and db starting from values already accumulated.
   */
  @Test
  void fourRowKernelsAreBitwiseTheSingleRowOnes() {
    Random r = new Random(23);
    int l = jdk.incubator.vector.FloatVector.SPECIES_PREFERRED.length();
    int f = NormLoops.FLUSH * l;
    for (int len :
        new int[] {1, l - 1, l, 2 * l + 1, 3 * l + 5, f - 1, f, f + l + 3, 3 * f + 7, 1003}) {
      int off = 5;
      float[] x = randn(r, off + 4 * len, 2, 1.5);
      float[] dy = randn(r, off + 4 * len, 0, 1);
      float[] w = randn(r, len, 1, 0.3);
      float[] hi = {1.9f, 2.1f, 1.7f, 2.3f};
      float[] lo = {3e-8f, -2e-8f, 1e-8f, 0f};
      String at = "len=" + len;

      double[][] acc = new double[4][2];
      float[][] part = new float[4][];
      for (int q = 0; q < 4; q++) {
        part[q] = NormLoops.partials(len);
      }
      NormLoops.elemGradSumsQuad(dy, x, off, len, hi, lo, 0, w, acc, part);
      for (int q = 0; q < 4; q++) {
        double[] e = new double[2];
        NormLoops.elemGradSums(dy, x, off + q * len, len, hi[q], lo[q], w, 0, e);
        assertArrayEquals(e, acc[q], "four-row sums, row " + q + ", " + at);
      }

      double[] rstd = {0.8, 1.3, 0.95, 1.1};
      float[] bb = {-0.02f, 0.03f, 0.01f, -0.05f};
      float[] cc = {0.01f, -0.04f, 0.02f, 0.005f};
      float[] dx = new float[x.length];
      float[] dw = randn(r, len, 0, 1);
      float[] db = randn(r, len, 0, 1);
      float[] ex = new float[x.length];
      float[] ew = dw.clone();
      float[] eb = db.clone();
      NormLoops.elemBackwardQuad(dy, x, dx, off, len, len, hi, lo, rstd, bb, cc, 0, w, 0, dw, db);
      for (int q = 0; q < 4; q++) {
        NormLoops.elemBackward(
            dy,
            x,
            ex,
            off + q * len,
            len,
            hi[q],
            lo[q],
            (float) rstd[q],
            bb[q],
            cc[q],
            w,
            0,
            ew,
            eb);
      }
      assertArrayEquals(ex, dx, "four-row dx, " + at);
      assertArrayEquals(ew, dw, "four-row dw, " + at);
      assertArrayEquals(eb, db, "four-row db, " + at);
    }
  }

  /**
   * Group and Instance Norm's backward takes the next row's sums in the loop that writes this row's
   * dx; both results must be bitwise those of the separate kernels, for every kind of length (the
   * odd last vector, scalar tails, many blocks), into dx and into dy itself.
   */
  @Test
  void gradSumsApplyingIsBitwiseTheTwoSeparateKernels() {
    Random r = new Random(17);
    int l = jdk.incubator.vector.FloatVector.SPECIES_PREFERRED.length();
    for (int len : new int[] {1, l - 1, l, 3 * l, 3 * l + 5, 33 * l + 2, 576, 676, 4099}) {
      float[] x = randn(r, 2 * len + 7, 1.5, 2);
      float[] dy = randn(r, 2 * len + 7, 0, 1);
      int at = 3;
      int off = at + len; // the next row, right after this one
      float hi = 1.4f, lo = 2e-8f, hiA = 1.6f, loA = -3e-8f, a = 0.9f, b = -0.02f, c = 0.01f;
      double[] expected = new double[2];
      NormLoops.gradSums(dy, x, off, len, hi, lo, expected, NormLoops.partials(len));
      float[] edx = new float[x.length];
      NormLoops.applyBackward(dy, x, edx, at, len, hiA, loA, a, b, c);
      for (boolean inPlace : new boolean[] {false, true}) {
        float[] g = dy.clone();
        float[] dx = inPlace ? g : new float[x.length];
        double[] acc = new double[2];
        NormLoops.gradSumsApplying(
            g, x, off, len, hi, lo, acc, NormLoops.partials(len), dx, at, hiA, loA, a, b, c);
        String what = "len=" + len + (inPlace ? ", in place" : "");
        assertArrayEquals(expected, acc, "sums, " + what);
        assertArrayEquals(
            java.util.Arrays.copyOfRange(edx, at, at + len),
            java.util.Arrays.copyOfRange(dx, at, at + len),
            0f,
            "dx, " + what);
      }
    }
  }

  static float[] concat(float[] a, float[] b) {
    float[] o = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, o, a.length, b.length);
    return o;
  }

  /**
   * Each row of Layer Norm's forward comes out bitwise as one {@code elemAffine} call with that
   * row's statistics gives it, the scalar tail included, whatever the row count (an odd one too):
   * whatever way a faster forward walks the rows (pairs sharing the weight's loads were tried),
   * this pins its results to the single-row kernel's.
   */
  @Test
  void layerNormRowsAreBitwiseOneRowKernelCall() {
    Random r = new Random(13);
    for (int len : new int[] {1, 7, 8, 37, 2704}) {
      int rows = 5;
      float[] x = randn(r, rows * len, 3.0, 2.0);
      float[] w = randn(r, len, 1.0, 0.5);
      float[] b = randn(r, len, 0.0, 0.5);
      float[] y = new float[x.length];
      double[] mean = new double[rows], rstd = new double[rows];
      NormKernels.rowNormForward(x, y, rows, 1, len, 1, w, b, 1e-5, false, false, mean, rstd);
      for (int row = 0; row < rows; row++) {
        float[] single = new float[x.length];
        float hi = (float) mean[row];
        NormLoops.elemAffine(
            x, single, row * len, len, hi, (float) (mean[row] - hi), (float) rstd[row], w, b, 0);
        assertArrayEquals(
            java.util.Arrays.copyOfRange(single, row * len, (row + 1) * len),
            java.util.Arrays.copyOfRange(y, row * len, (row + 1) * len),
            0f,
            "len=" + len + " row=" + row);
      }
    }
  }

  @Test
  void bnZeroRuleAndEpsZero() {
    float[] x = new float[2 * 3 * 4];
    java.util.Arrays.fill(x, 2.5f);
    float[] y = new float[x.length];
    double[] mean = new double[6];
    double[] rstd = new double[6];
    NormKernels.rowNormForward(x, y, 6, 3, 1, 4, null, null, 0.0, false, true, mean, rstd);
    for (float v : y) {
      assertTrue(v == 0f, "IN rule gives 0, got " + v);
    }
    NormKernels.rowNormForward(x, y, 6, 3, 1, 4, null, null, 0.0, false, false, mean, rstd);
    for (float v : y) {
      assertTrue(Float.isNaN(v), "GN/LN rule gives NaN, got " + v);
    }
  }
}
