package dev.normlab.kernels;

/**
 * Plain scalar twins of {@link NormKernels} in double precision: two-pass statistics, textbook
 * backward formulas, no threads, no vectors. Tests check the fused float kernels against these and
 * these against finite differences.
 */
public final class NormReference {
  private NormReference() {}

  /** Twin of {@link NormKernels#rowNormForward}. */
  public static void rowNormForward(
      double[] x,
      double[] y,
      int rows,
      int groups,
      int cpg,
      int inner,
      double[] w,
      double[] b,
      double eps,
      boolean rms,
      boolean bnZeroRule,
      double[] mean,
      double[] rstd) {
    int len = cpg * inner;
    for (int r = 0; r < rows; r++) {
      int off = r * len;
      double m = 0;
      if (!rms) {
        for (int i = 0; i < len; i++) {
          m += x[off + i];
        }
        m /= len;
      }
      double v = 0;
      for (int i = 0; i < len; i++) {
        double d = x[off + i] - m;
        v += d * d;
      }
      v /= len;
      double rs = bnZeroRule ? NormKernels.bnInvStd(v, eps) : 1.0 / Math.sqrt(v + eps);
      mean[r] = m;
      rstd[r] = rs;
      int cbase = (r % groups) * cpg;
      for (int i = 0; i < len; i++) {
        int c = cbase + i / inner;
        double xh = (x[off + i] - m) * rs;
        y[off + i] = xh * (w == null ? 1 : w[c]) + (b == null ? 0 : b[c]);
      }
    }
  }

  /** Twin of {@link NormKernels#rowNormBackward}; recomputes the statistics. */
  public static void rowNormBackward(
      double[] dy,
      double[] x,
      int rows,
      int groups,
      int cpg,
      int inner,
      double[] w,
      double eps,
      boolean rms,
      boolean bnZeroRule,
      double[] dx,
      double[] dw,
      double[] db) {
    int len = cpg * inner;
    double[] y = new double[x.length];
    double[] mean = new double[rows];
    double[] rstd = new double[rows];
    rowNormForward(x, y, rows, groups, cpg, inner, null, null, eps, rms, bnZeroRule, mean, rstd);
    if (dw != null) {
      java.util.Arrays.fill(dw, 0);
    }
    if (db != null) {
      java.util.Arrays.fill(db, 0);
    }
    for (int r = 0; r < rows; r++) {
      int off = r * len;
      int cbase = (r % groups) * cpg;
      double rs = rstd[r];
      double sg = 0;
      double sgx = 0;
      for (int i = 0; i < len; i++) {
        int c = cbase + i / inner;
        double g = dy[off + i] * (w == null ? 1 : w[c]);
        double xh = y[off + i]; // normalized input (no affine)
        sg += g;
        sgx += g * xh;
        if (dw != null) {
          dw[c] += dy[off + i] * xh;
        }
        if (db != null) {
          db[c] += dy[off + i];
        }
      }
      if (dx == null) {
        continue;
      }
      for (int i = 0; i < len; i++) {
        int c = cbase + i / inner;
        double g = dy[off + i] * (w == null ? 1 : w[c]);
        double xh = y[off + i];
        dx[off + i] = rms ? rs * g - xh * sgx * rs / len : rs / len * (len * g - sg - xh * sgx);
      }
    }
  }

  /** Twin of {@link NormKernels#batchNormForward}. */
  public static void batchNormForward(
      double[] x,
      double[] y,
      int n,
      int c,
      int inner,
      double[] w,
      double[] b,
      double eps,
      boolean computeStats,
      double[] mean,
      double[] var,
      double[] rstd) {
    int cs = c * inner;
    long total = (long) n * inner;
    for (int ch = 0; ch < c; ch++) {
      if (computeStats) {
        double m = 0;
        for (int i = 0; i < n; i++) {
          for (int p = 0; p < inner; p++) {
            m += x[i * cs + ch * inner + p];
          }
        }
        m /= total;
        double v = 0;
        for (int i = 0; i < n; i++) {
          for (int p = 0; p < inner; p++) {
            double d = x[i * cs + ch * inner + p] - m;
            v += d * d;
          }
        }
        v /= total;
        mean[ch] = m;
        var[ch] = v;
        rstd[ch] = NormKernels.bnInvStd(v, eps);
      }
      for (int i = 0; i < n; i++) {
        for (int p = 0; p < inner; p++) {
          int o = i * cs + ch * inner + p;
          double xh = (x[o] - mean[ch]) * rstd[ch];
          y[o] = xh * (w == null ? 1 : w[ch]) + (b == null ? 0 : b[ch]);
        }
      }
    }
  }

  /** Twin of {@link NormKernels#batchNormBackward}. */
  public static void batchNormBackward(
      double[] dy,
      double[] x,
      int n,
      int c,
      int inner,
      double[] mean,
      double[] rstd,
      double[] w,
      boolean statsConstant,
      double[] dx,
      double[] dw,
      double[] db) {
    int cs = c * inner;
    long total = (long) n * inner;
    for (int ch = 0; ch < c; ch++) {
      double wc = w == null ? 1 : w[ch];
      double sg = 0;
      double sgx = 0;
      for (int i = 0; i < n; i++) {
        for (int p = 0; p < inner; p++) {
          int o = i * cs + ch * inner + p;
          double xh = (x[o] - mean[ch]) * rstd[ch];
          sg += dy[o];
          sgx += dy[o] * xh;
        }
      }
      if (dw != null) {
        dw[ch] = sgx;
      }
      if (db != null) {
        db[ch] = sg;
      }
      if (dx == null) {
        continue;
      }
      for (int i = 0; i < n; i++) {
        for (int p = 0; p < inner; p++) {
          int o = i * cs + ch * inner + p;
          if (statsConstant) {
            dx[o] = dy[o] * wc * rstd[ch];
          } else {
            double xh = (x[o] - mean[ch]) * rstd[ch];
            dx[o] = wc * rstd[ch] / total * (total * dy[o] - sg - xh * sgx);
          }
        }
      }
    }
  }

  /** Twin of {@link NormKernels#lrnForward} (returns y only). */
  public static void lrnForward(
      double[] x,
      double[] y,
      int n,
      int c,
      int inner,
      int size,
      double alpha,
      double beta,
      double k) {
    int cs = c * inner;
    for (int i = 0; i < n; i++) {
      for (int ch = 0; ch < c; ch++) {
        for (int p = 0; p < inner; p++) {
          double s = 0;
          for (int j = ch - size / 2; j <= ch + (size - 1) / 2; j++) {
            if (j >= 0 && j < c) {
              double v = x[i * cs + j * inner + p];
              s += v * v;
            }
          }
          int o = i * cs + ch * inner + p;
          y[o] = x[o] / Math.pow(k + alpha / size * s, beta);
        }
      }
    }
  }

  /** Twin of {@link NormKernels#lrnBackward}: dx by the chain rule written out per pair. */
  public static void lrnBackward(
      double[] dy,
      double[] x,
      double[] dx,
      int n,
      int c,
      int inner,
      int size,
      double alpha,
      double beta,
      double k) {
    int cs = c * inner;
    double[] den = new double[x.length];
    for (int i = 0; i < n; i++) {
      for (int ch = 0; ch < c; ch++) {
        for (int p = 0; p < inner; p++) {
          double s = 0;
          for (int j = ch - size / 2; j <= ch + (size - 1) / 2; j++) {
            if (j >= 0 && j < c) {
              double v = x[i * cs + j * inner + p];
              s += v * v;
            }
          }
          den[i * cs + ch * inner + p] = k + alpha / size * s;
        }
      }
    }
    java.util.Arrays.fill(dx, 0);
    for (int i = 0; i < n; i++) {
      for (int ch = 0; ch < c; ch++) {
        for (int p = 0; p < inner; p++) {
          int o = i * cs + ch * inner + p;
          // y_o = x_o * den_o^-beta; den_o depends on x_j for j in window(ch)
          dx[o] += dy[o] * Math.pow(den[o], -beta);
          double common = dy[o] * x[o] * -beta * Math.pow(den[o], -beta - 1) * alpha / size;
          for (int j = ch - size / 2; j <= ch + (size - 1) / 2; j++) {
            if (j >= 0 && j < c) {
              int q = i * cs + j * inner + p;
              dx[q] += common * 2 * x[q];
            }
          }
        }
      }
    }
  }
}
