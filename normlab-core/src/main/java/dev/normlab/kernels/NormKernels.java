package dev.normlab.kernels;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Fused normalization kernels over flat float arrays.
 *
 * <p>Two layouts cover the whole family:
 *
 * <ul>
 *   <li><b>Row layout</b> ({@code rowNorm*}): {@code rows} contiguous rows of {@code cpg * inner}
 *       elements; statistics per row. Row {@code r} belongs to group {@code r % groups}; its
 *       elements are {@code cpg} channels of {@code inner} contiguous values, and the affine
 *       parameters are indexed by channel {@code (r % groups) * cpg + j}. InstanceNorm is {@code
 *       groups=C, cpg=1, inner=spatial}; GroupNorm is {@code groups=G, cpg=C/G}; LayerNorm and
 *       RMSNorm are {@code groups=1, cpg=D, inner=1} (per-element affine).
 *   <li><b>Channel layout</b> ({@code batchNorm*}): {@code (n, c, inner)}, statistics per channel
 *       over {@code n} segments of {@code inner} values (BatchNorm, and the per-channel running
 *       statistics of InstanceNorm in eval).
 * </ul>
 *
 * <p>Statistics are read once per row/channel as sums of {@code x - K} and {@code (x - K)^2} with
 * {@code K} the first value (short float vector blocks, flushed into double accumulators), which is
 * exact enough even for inputs with a large common offset. The normalization pass reads the row
 * again while it is still in cache and subtracts the mean split in two floats ({@code hi + lo}), so
 * that {@code x - mean} keeps full precision; on rows of {@link #FUSED_FORWARD_MIN_LEN} values or
 * more it also takes the next row's sums, in the same order. Backward is two passes: per-row (or
 * per-channel) sums of {@code dy} and {@code dy * (x - mean)}, then {@code dx = A*dy + B*(x - mean)
 * + C}. Work is split over rows/channels through {@link Parallel} with a deterministic chunking, so
 * the same thread count gives bitwise equal results. {@link NormReference} holds the scalar double
 * twins.
 */
public final class NormKernels {
  private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
  private static final int L = S.length();

  /** Vectors of S's size: the bits of its lanes, and its halves in double. */
  private static final VectorSpecies<Integer> IS = S.withLanes(int.class);

  private static final VectorSpecies<Double> DS = VectorSpecies.of(double.class, S.vectorShape());

  /**
   * Vector iterations accumulated in float before flushing into double; part of the reductions'
   * exact arithmetic that NormSumsArithmeticTest pins.
   */
  static final int FLUSH = 16;

  /** Elements per parallel work item we aim for. */
  private static final int GRAIN_ELEMS = 1 << 15;

  private NormKernels() {}

  /** PyTorch's batch-norm inverse std: 0 when both the variance and eps are 0. */
  public static double bnInvStd(double var, double eps) {
    return (var == 0 && eps == 0) ? 0.0 : 1.0 / Math.sqrt(var + eps);
  }

  // ================================================================== row layout

  /**
   * Forward of the row layout. Computes per-row {@code mean} and {@code rstd} (double[rows]) and
   * writes {@code y}. With {@code rms} the mean is taken as 0 and {@code rstd = 1/sqrt(mean(x^2) +
   * eps)}. With {@code bnZeroRule} a zero variance with {@code eps == 0} gives {@code rstd = 0}
   * (InstanceNorm's rule), otherwise it gives infinity (GroupNorm/LayerNorm: NaN outputs). {@code
   * w} and {@code b} may be null; their length is {@code groups * cpg}.
   */
  public static void rowNormForward(
      float[] x,
      float[] y,
      int rows,
      int groups,
      int cpg,
      int inner,
      float[] w,
      float[] b,
      double eps,
      boolean rms,
      boolean bnZeroRule,
      double[] mean,
      double[] rstd) {
    final int len = cpg * inner;
    if (rows == 0) {
      return;
    }
    if (len == 0) { // no values: no mean, no rstd
      java.util.Arrays.fill(mean, 0, rows, Double.NaN);
      java.util.Arrays.fill(rstd, 0, rows, Double.NaN);
      return;
    }
    if (inner == 1 && (w != null || b != null) && len >= COLUMN_BLOCKED_FORWARD_LEN) {
      elemForwardByColumns(x, y, rows, groups, cpg, w, b, eps, rms, bnZeroRule, mean, rstd);
      return;
    }
    int grain = Math.max(1, GRAIN_ELEMS / len);
    boolean fuse =
        len >= FUSED_FORWARD_MIN_LEN && (inner == 1 ? w != null && b != null : inner >= 2 * L);
    Parallel.forRange(
        rows,
        grain,
        (from, to) -> {
          double[] acc = new double[2];
          float[] part = partials(len);
          // per-channel scales, one formula for the fused and the separate pass (their y must have
          // the same bits); Layer Norm's rows (inner 1) have one channel per value and use w and b
          // directly (arrays of a row's length cost it 590 KB a call)
          float[] scale = inner > 1 ? new float[cpg] : null;
          float[] shift = inner > 1 ? new float[cpg] : null;
          rowStats(x, from * len, len, eps, rms, bnZeroRule, acc, part, mean, rstd, from);
          for (int r = from; r < to; r++) {
            int off = r * len;
            double m = mean[r], rs = rstd[r];
            float mhi = (float) m;
            float mlo = (float) (m - mhi);
            int cbase = (r % groups) * cpg;
            if (inner > 1) {
              channelScales(rs, mlo, w, b, cbase, cpg, scale, shift);
            }
            if (fuse && r + 1 < to) {
              // the next row's sums in this row's normalizing pass: its read from memory overlaps
              // this row's arithmetic on data already in cache
              float k = rms ? 0f : x[off + len];
              acc[0] = 0;
              acc[1] = 0;
              if (inner == 1) {
                elemAffineNextSums(x, y, off, len, mhi, mlo, (float) rs, w, b, cbase, k, acc, part);
              } else {
                affineNextSums(x, y, off, len, inner, mhi, scale, shift, k, acc, part);
              }
              finishRowStats(acc, k, len, eps, rms, bnZeroRule, mean, rstd, r + 1);
              continue;
            }
            if (inner == 1) {
              elemAffine(x, y, off, len, mhi, mlo, (float) rs, w, b, cbase);
            } else {
              for (int j = 0; j < cpg; j++) {
                affineFolded(x, y, off + j * inner, inner, mhi, scale[j], shift[j]);
              }
            }
            if (r + 1 < to) {
              rowStats(x, off + len, len, eps, rms, bnZeroRule, acc, part, mean, rstd, r + 1);
            }
          }
        });
  }

  /**
   * Rows at least this long take the next row's sums in their normalizing pass ({@link
   * #affineNextSums}, {@link #elemAffineNextSums}): 5–13 % off Group, Layer and Instance Norm
   * forwards with rows of 2,704–16,384 values, but 8 % onto Instance Norm's 676-value rows, where
   * the pass's per-row set-up is not paid back (two builds in one process, alternating, 1,500 calls
   * each, 2026-12-03).
   */
  static final int FUSED_FORWARD_MIN_LEN = 2048;

  /**
   * Rows at least this long (2^18 floats, 1 MiB; Layer Norm over 64×128×128 has 2^20) take {@link
   * #elemForwardByColumns}. Shorter rows stay in cache between their statistics and their
   * normalizing pass, which the row-by-row forward exploits (on 64×32×26×26 it was 15 % faster than
   * column blocks); on 8×64×128×128 the column blocks took 3.72–3.94 ms against 3.97–4.70 row by
   * row (NormBench, the two interleaved, three times each, 2026-12-02).
   */
  static final int COLUMN_BLOCKED_FORWARD_LEN = 1 << 18;

  /** Columns per block of {@link #elemForwardByColumns}: w and b's block stays in L2. */
  private static final int FORWARD_COLUMN_BLOCK = 16384;

  /**
   * {@link #rowNormForward} with a per-element affine on rows too long for cache (Layer Norm over a
   * whole feature map): each row's statistics (parallel over rows), then y per block of columns
   * (parallel over blocks), the block's rows in order, so that the block of w and b is read once
   * for all rows instead of once per row. Each element's arithmetic is the row-by-row one.
   */
  private static void elemForwardByColumns(
      float[] x,
      float[] y,
      int rows,
      int groups,
      int cpg,
      float[] w,
      float[] b,
      double eps,
      boolean rms,
      boolean bnZeroRule,
      double[] mean,
      double[] rstd) {
    final int len = cpg;
    Parallel.forRange(
        rows,
        1,
        (from, to) -> {
          double[] acc = new double[2];
          float[] part = partials(len);
          for (int r = from; r < to; r++) {
            rowStats(x, r * len, len, eps, rms, bnZeroRule, acc, part, mean, rstd, r);
          }
        });
    final float[] his = new float[rows];
    final float[] los = new float[rows];
    final float[] rss = new float[rows];
    for (int r = 0; r < rows; r++) {
      his[r] = (float) mean[r];
      los[r] = (float) (mean[r] - his[r]);
      rss[r] = (float) rstd[r];
    }
    // rows in fours where they share w and b (one group, both given): each block of w and b is
    // loaded from L2 once for four rows (12–17 % off Layer Norm's forward on 8×64×128×128, both
    // versions in one process, three processes)
    final int fours = groups == 1 && w != null && b != null ? rows / 4 * 4 : 0;
    forColumnBlocks(
        len,
        FORWARD_COLUMN_BLOCK,
        (j0, n) -> {
          for (int r = 0; r < fours; r += 4) {
            elemAffineFour(x, y, r * len + j0, len, n, his, los, rss, r, w, b, j0);
          }
          for (int r = fours; r < rows; r++) {
            elemAffine(
                x, y, r * len + j0, n, his[r], los[r], rss[r], w, b, (r % groups) * cpg + j0);
          }
        });
  }

  /** What is done to one block of columns, {@code [j0, j0 + n)}. */
  private interface ColumnBlock {
    void run(int j0, int n);
  }

  /** Runs {@code body} on each block of {@code block} columns of {@code [0, len)}, in parallel. */
  private static void forColumnBlocks(int len, int block, ColumnBlock body) {
    int blocks = (len + block - 1) / block;
    Parallel.forRange(
        blocks,
        1,
        (b0, b1) -> {
          for (int bk = b0; bk < b1; bk++) {
            int j0 = bk * block;
            body.run(j0, Math.min(block, len - j0));
          }
        });
  }

  /** mean[r] and rstd[r] of the row at x[off, off + len), len > 0 (see {@link #rowNormForward}). */
  private static void rowStats(
      float[] x,
      int off,
      int len,
      double eps,
      boolean rms,
      boolean bnZeroRule,
      double[] acc,
      float[] part,
      double[] mean,
      double[] rstd,
      int r) {
    float k = rms ? 0f : x[off];
    acc[0] = 0;
    acc[1] = 0;
    sums(x, off, len, k, 0f, acc, part);
    finishRowStats(acc, k, len, eps, rms, bnZeroRule, mean, rstd, r);
  }

  /**
   * mean[r] and rstd[r] from a row's sums of {@code x - k} and {@code (x - k)^2} in acc ({@code k}
   * 0 for RMS).
   */
  private static void finishRowStats(
      double[] acc,
      float k,
      int len,
      double eps,
      boolean rms,
      boolean bnZeroRule,
      double[] mean,
      double[] rstd,
      int r) {
    if (rms) {
      mean[r] = 0;
      rstd[r] = 1.0 / Math.sqrt(acc[1] / len + eps);
      return;
    }
    double d = acc[0] / len;
    double var = Math.max(0.0, acc[1] / len - d * d);
    mean[r] = k + d;
    rstd[r] = bnZeroRule ? bnInvStd(var, eps) : 1.0 / Math.sqrt(var + eps);
  }

  /**
   * Backward of the row layout (statistics depend on the input). Any of {@code dx}, {@code dw},
   * {@code db} may be null when not wanted. {@code dw}/{@code db} have length {@code groups*cpg}
   * and are overwritten. {@code dx} may be {@code dy} itself: a row's sums are taken before any of
   * it is written, and each element of dy is read before dx's element at the same index.
   */
  public static void rowNormBackward(
      float[] dy,
      float[] x,
      int rows,
      int groups,
      int cpg,
      int inner,
      double[] mean,
      double[] rstd,
      float[] w,
      boolean rms,
      float[] dx,
      float[] dw,
      float[] db) {
    final int len = cpg * inner;
    if (dw != null) {
      java.util.Arrays.fill(dw, 0f);
    }
    if (db != null) {
      java.util.Arrays.fill(db, 0f);
    }
    if (rows == 0 || len == 0) {
      return;
    }
    if (inner == 1 && dw != null && db != null && len >= COLUMN_BLOCKED_LEN) {
      elemBackwardByColumns(dy, x, rows, groups, cpg, mean, rstd, w, rms, dx, dw, db);
    } else if (inner == 1) {
      elemBackwardByRows(dy, x, rows, groups, cpg, mean, rstd, w, rms, dx, dw, db);
    } else {
      channelAffineBackward(dy, x, rows, groups, cpg, inner, mean, rstd, w, rms, dx, dw, db);
    }
  }

  /**
   * {@link #rowNormBackward} with a per-element affine (Layer Norm, RMSNorm) on rows short enough
   * to stay in cache: each row's sums, then its dx; dw and db gather in per-chunk partials, added
   * in chunk order.
   */
  private static void elemBackwardByRows(
      float[] dy,
      float[] x,
      int rows,
      int groups,
      int cpg,
      double[] mean,
      double[] rstd,
      float[] w,
      boolean rms,
      float[] dx,
      float[] dw,
      float[] db) {
    final int len = cpg;
    final int nch = groups * cpg;
    int grain = Math.max(1, GRAIN_ELEMS / len);
    int chunks = Math.max(1, Parallel.chunks(rows, grain));
    boolean wantParams = dw != null || db != null;
    float[][] pdw = wantParams ? new float[chunks][] : null;
    float[][] pdb = wantParams ? new float[chunks][] : null;
    Parallel.forChunks(
        rows,
        grain,
        (chunk, from, to) -> {
          double[] acc = new double[2];
          float[] cdw = null;
          float[] cdb = null;
          if (wantParams) {
            cdw = pdw[chunk] = new float[nch];
            cdb = pdb[chunk] = new float[nch];
          }
          for (int r = from; r < to; r++) {
            int off = r * len;
            int cbase = (r % groups) * cpg;
            double rs = rstd[r];
            float mhi = rowHi(mean, r, rms);
            float mlo = rowLo(mean, r, rms, mhi);
            acc[0] = 0;
            acc[1] = 0;
            elemGradSums(dy, x, off, len, mhi, mlo, w, cbase, acc);
            double bb = -rs * rs * rs * acc[1] / len;
            double cc = rms ? 0.0 : -rs * acc[0] / len;
            elemBackward(
                dy,
                x,
                dx,
                off,
                len,
                mhi,
                mlo,
                (float) rs,
                (float) bb,
                (float) cc,
                w,
                cbase,
                cdw,
                cdb);
          }
        });
    if (wantParams) {
      Parallel.forRange(
          nch,
          4096,
          (from, to) -> {
            for (int c = from; c < to; c++) {
              float sw = 0f;
              float sb = 0f;
              for (int k = 0; k < chunks; k++) {
                if (pdw[k] != null) {
                  sw += pdw[k][c];
                  sb += pdb[k][c];
                }
              }
              if (dw != null) {
                dw[c] = sw;
              }
              if (db != null) {
                db[c] = sb;
              }
            }
          });
    }
  }

  /**
   * {@link #rowNormBackward} with a per-channel affine (Group, Instance Norm): per (row, channel)
   * sums, then dx; dw and db add the rows of each channel in order.
   */
  private static void channelAffineBackward(
      float[] dy,
      float[] x,
      int rows,
      int groups,
      int cpg,
      int inner,
      double[] mean,
      double[] rstd,
      float[] w,
      boolean rms,
      float[] dx,
      float[] dw,
      float[] db) {
    final int len = cpg * inner;
    final int nch = groups * cpg;
    int grain = Math.max(1, GRAIN_ELEMS / len);
    final double[] sdy = new double[rows * cpg];
    final double[] sdyd = new double[rows * cpg];
    Parallel.forRange(
        rows,
        grain,
        (from, to) -> {
          double[] acc = new double[2];
          float[] part = partials(inner);
          // Each row's sums come before its dx. On short rows (PIPELINED_BACKWARD_MAX_LEN) the
          // sums of row r + 1 are taken in the same loop as row r's dx (gradSumsApplying): the
          // loads of the next row from memory overlap the arithmetic on this one, in cache. Longer
          // rows take their sums, then their dx. Every sum and every dx element is computed as in
          // two separate passes: the same bits either way.
          boolean pipelined = dx != null && len <= PIPELINED_BACKWARD_MAX_LEN;
          int first = dx == null ? to : pipelined ? from + 1 : from;
          for (int r = from; r < first; r++) {
            rowChannelSums(dy, x, r, cpg, inner, mean, rms, acc, part, sdy, sdyd);
          }
          if (dx == null) {
            return;
          }
          for (int r = from; r < to; r++) {
            if (!pipelined) {
              rowChannelSums(dy, x, r, cpg, inner, mean, rms, acc, part, sdy, sdyd);
            }
            int off = r * len;
            int cbase = (r % groups) * cpg;
            double rs = rstd[r];
            float mhi = rowHi(mean, r, rms);
            float mlo = rowLo(mean, r, rms, mhi);
            double g1 = 0;
            double g2 = 0;
            for (int j = 0; j < cpg; j++) {
              double wc = w == null ? 1.0 : w[cbase + j];
              g1 += wc * sdy[r * cpg + j];
              g2 += wc * sdyd[r * cpg + j];
            }
            float bb = (float) (-rs * rs * rs * g2 / len);
            float cc = (float) (rms ? 0.0 : -rs * g1 / len);
            int next = r + 1;
            float nhi = next < to ? rowHi(mean, next, rms) : 0f;
            float nlo = next < to ? rowLo(mean, next, rms, nhi) : 0f;
            for (int j = 0; j < cpg; j++) {
              float a = (float) (rs * (w == null ? 1.0 : w[cbase + j]));
              int at = off + j * inner;
              if (!pipelined) {
                applyBackward(dy, x, dx, at, inner, mhi, mlo, a, bb, cc);
              } else if (next < to) {
                acc[0] = 0;
                acc[1] = 0;
                gradSumsApplying(
                    dy, x, at + len, inner, nhi, nlo, acc, part, dx, at, mhi, mlo, a, bb, cc);
                sdy[next * cpg + j] = acc[0];
                sdyd[next * cpg + j] = acc[1];
              } else {
                // the chunk's last row through the same kernel, its sums of itself dropped: a
                // kernel called once a chunk (applyBackward) stayed in C1's code, which boxes every
                // vector, through a whole NormBench run of Instance Norm (+17-36 KB a call)
                gradSumsApplying(
                    dy, x, at, inner, mhi, mlo, acc, part, dx, at, mhi, mlo, a, bb, cc);
              }
            }
          }
        });
    if (dw != null || db != null) {
      int outer = rows / groups;
      for (int c = 0; c < nch; c++) {
        int g = c / cpg;
        int j = c % cpg;
        double sw = 0;
        double sb = 0;
        for (int o = 0; o < outer; o++) {
          int r = o * groups + g;
          sw += rstd[r] * sdyd[r * cpg + j];
          sb += sdy[r * cpg + j];
        }
        if (dw != null) {
          dw[c] = (float) sw;
        }
        if (db != null) {
          db[c] = (float) sb;
        }
      }
    }
  }

  /**
   * Rows of Group and Instance Norm's backward up to this long ({@code channels per group × inner})
   * take the next row's sums in this row's dx loop; longer ones their sums and then their dx. On
   * Group Norm's rows of 2,704 and 4,608 values (4 channels of 26×26, 8 of 24×24) the plain order
   * was 5–7 % faster forward+backward on the Zen 5 in its fast hours and within 3 % either way in
   * its slow ones, both orders in one process; on Instance Norm's 676 values 3 % slower
   * (2026-12-04; the AVX2 host had measured the overlap 12–27 % faster on Group Norm).
   */
  static final int PIPELINED_BACKWARD_MAX_LEN = 1024;

  /** Row r's per-channel sums of dy and dy * (x - mean) into sdy and sdyd. */
  private static void rowChannelSums(
      float[] dy,
      float[] x,
      int r,
      int cpg,
      int inner,
      double[] mean,
      boolean rms,
      double[] acc,
      float[] part,
      double[] sdy,
      double[] sdyd) {
    int len = cpg * inner;
    float mhi = rowHi(mean, r, rms);
    float mlo = rowLo(mean, r, rms, mhi);
    for (int j = 0; j < cpg; j++) {
      acc[0] = 0;
      acc[1] = 0;
      gradSums(dy, x, r * len + j * inner, inner, mhi, mlo, acc, part);
      sdy[r * cpg + j] = acc[0];
      sdyd[r * cpg + j] = acc[1];
    }
  }

  /** The high float part of row r's mean (0 for RMSNorm). */
  private static float rowHi(double[] mean, int r, boolean rms) {
    return rms ? 0f : (float) mean[r];
  }

  /** The rest of row r's mean below {@code hi}. */
  private static float rowLo(double[] mean, int r, boolean rms, float hi) {
    return rms ? 0f : (float) (mean[r] - hi);
  }

  // ================================================================== channel layout

  /**
   * Forward of the channel layout {@code (n, c, inner)}. With {@code computeStats} writes the
   * per-channel batch {@code mean}, biased {@code var} and {@code rstd} (PyTorch's zero rule);
   * otherwise uses the given {@code mean} and {@code rstd}.
   */
  public static void batchNormForward(
      float[] x,
      float[] y,
      int n,
      int c,
      int inner,
      float[] w,
      float[] b,
      double eps,
      boolean computeStats,
      double[] mean,
      double[] var,
      double[] rstd) {
    batchNormForward(
        x, y, n, c, inner, w, b, eps, computeStats, mean, var, rstd, CacheSize.l2Bytes());
  }

  /** {@link #batchNormForward} with its channel blocks sized for an L2 of {@code l2Bytes}. */
  static void batchNormForward(
      float[] x,
      float[] y,
      int n,
      int c,
      int inner,
      float[] w,
      float[] b,
      double eps,
      boolean computeStats,
      double[] mean,
      double[] var,
      double[] rstd,
      long l2Bytes) {
    if (c == 0) {
      return;
    }
    long total = (long) n * inner;
    int grain = (int) Math.max(1, GRAIN_ELEMS / Math.max(1, total));
    final int cs = c * inner;
    Parallel.forRange(
        c,
        grain,
        (from, to) -> {
          // one pair of sums per channel, zero until its statistics are summed into it (once)
          double[][] acc = new double[to - from][2];
          float[] hi = new float[to - from];
          float[] scale = new float[to - from];
          float[] shift = new float[to - from];
          float[] part = partials(inner);
          // With statistics to take, the next block's are taken in the pass that normalizes this
          // one, channel q of the one with channel q of the other (sumsApplyingAffine), so that
          // the next block's read from memory overlaps this block's arithmetic; each channel's
          // sums still in the order of the images, the same bits as separate passes.
          boolean pipelined = computeStats && total > 0 && inner >= 2 * L;
          int block = channelBlock(inner, to - from, n, pipelined ? BN_FORWARD_ARRAYS : 1, l2Bytes);
          if (pipelined) {
            blockSums(x, n, cs, inner, from, Math.min(to, from + block), from, acc, part);
          }
          for (int c0 = from; c0 < to; c0 += block) {
            int c1 = Math.min(to, c0 + block);
            if (computeStats) {
              if (total == 0) {
                for (int ch = c0; ch < c1; ch++) {
                  mean[ch] = Double.NaN;
                  var[ch] = Double.NaN;
                  rstd[ch] = Double.NaN;
                }
                continue;
              }
              if (!pipelined) {
                blockSums(x, n, cs, inner, c0, c1, from, acc, part);
              }
              for (int ch = c0; ch < c1; ch++) {
                float k = x[ch * inner];
                double d = acc[ch - from][0] / total;
                mean[ch] = k + d;
                var[ch] = Math.max(0.0, acc[ch - from][1] / total - d * d);
                rstd[ch] = bnInvStd(var[ch], eps);
              }
            }
            for (int ch = c0; ch < c1; ch++) {
              int q = ch - from;
              hi[q] = (float) mean[ch];
              float lo = (float) (mean[ch] - hi[q]);
              scale[q] = (float) (w == null ? rstd[ch] : rstd[ch] * w[ch]);
              shift[q] = foldedShift(b == null ? 0f : b[ch], lo, scale[q]);
            }
            // the next block's channels (never more than this block's: only the last is shorter)
            int next = pipelined ? Math.min(to, c1 + block) - c1 : 0;
            for (int i = 0; i < n; i++) {
              for (int ch = c0; ch < c1; ch++) {
                int q = ch - from;
                int at = i * cs + ch * inner;
                if (ch - c0 < next) {
                  int nch = ch + (c1 - c0);
                  sumsApplyingAffine(
                      x,
                      at + (c1 - c0) * inner,
                      inner,
                      x[nch * inner],
                      acc[nch - from],
                      part,
                      y,
                      at,
                      hi[q],
                      scale[q],
                      shift[q]);
                } else {
                  affineFolded(x, y, at, inner, hi[q], scale[q], shift[q]);
                }
              }
            }
          }
        });
  }

  /**
   * The arrays a pipelined Batch Norm forward's block holds in L2 (see {@link #channelBlock}): its
   * x, read again to normalize, the next block's x coming in, and y going out. 2, 3 and 4 measured
   * alike (two builds in one process, alternating, 2026-12-03): 64x64x24x24 1.22-1.33 ms before,
   * 0.98-1.07 after.
   */
  private static final int BN_FORWARD_ARRAYS = 3;

  /**
   * Channels [c0, c1)'s sums about each channel's first value added into acc[ch - from], image by
   * image.
   */
  private static void blockSums(
      float[] x, int n, int cs, int inner, int c0, int c1, int from, double[][] acc, float[] part) {
    for (int i = 0; i < n; i++) {
      for (int ch = c0; ch < c1; ch++) {
        sums(x, i * cs + ch * inner, inner, x[ch * inner], 0f, acc[ch - from], part);
      }
    }
  }

  /**
   * How many channels of the channel layout a thread takes together, image by image. A channel's
   * map alone on the CNN's maps is a run of 2-3 KB, 64 of them a map's length apart; a block makes
   * each image's maps of its channels one longer run, at most about 16K floats (on the AMD EPYC
   * with AVX2 one channel at a time took Batch Norm's forward 40% longer on 64x64x24x24). But a
   * block is read twice (statistics or gradient sums, then the pass that writes), and the second
   * read comes from L2 only if the block's data over all n images stays in it: {@code arrays}
   * counts the float arrays the block holds there at once (3 for the forward's x of this block and
   * of the next, whose statistics it takes meanwhile, and y, 1 when it has none to take; 4 for the
   * backward's x and dy of this block and of the next, whose sums it takes meanwhile), and their
   * bytes are kept within half of {@link CacheSize#l2Bytes}. On the Xeon (2 MiB L2) that took the
   * backward from blocks of 16 channels to one channel at a time on the CNN's maps, 20-27% faster,
   * and the forward from 16 to 7 (64x64x24x24), 5-10% faster; 2 since the forward is pipelined.
   */
  static int channelBlock(int inner, int channels, int n, int arrays, long l2Bytes) {
    int most = Math.max(1, Math.min(channels, (1 << 14) / Math.max(1, inner)));
    long perChannel = 4L * n * inner * arrays;
    if (perChannel > 0) {
      most = (int) Math.max(1, Math.min(most, l2Bytes / 2 / perChannel));
    }
    int blocks = (channels + most - 1) / most;
    return (channels + blocks - 1) / blocks; // blocks of equal size: 16 + 16, not 28 + 4
  }

  /**
   * Backward of the channel layout. With {@code statsConstant} (eval, running statistics) the
   * statistics are treated as constants; otherwise they are the batch statistics of {@code x}. Any
   * of {@code dx}, {@code dw}, {@code db} may be null. {@code dx} may be {@code dy} itself: a
   * channel's sums are taken before any of it is written, and each element of dy is read before
   * dx's element at the same index.
   */
  public static void batchNormBackward(
      float[] dy,
      float[] x,
      int n,
      int c,
      int inner,
      double[] mean,
      double[] rstd,
      float[] w,
      boolean statsConstant,
      float[] dx,
      float[] dw,
      float[] db) {
    batchNormBackward(
        dy, x, n, c, inner, mean, rstd, w, statsConstant, dx, dw, db, CacheSize.l2Bytes());
  }

  /**
   * {@link #batchNormBackward} for an L2 of {@code l2Bytes} (its blocks, {@link #channelBlock}).
   */
  static void batchNormBackward(
      float[] dy,
      float[] x,
      int n,
      int c,
      int inner,
      double[] mean,
      double[] rstd,
      float[] w,
      boolean statsConstant,
      float[] dx,
      float[] dw,
      float[] db,
      long l2Bytes) {
    long total = (long) n * inner;
    int grain = (int) Math.max(1, GRAIN_ELEMS / Math.max(1, total));
    final int cs = c * inner;
    Parallel.forRange(
        c,
        grain,
        (from, to) -> {
          double[][] acc = new double[to - from][2];
          float[] hi = new float[to - from];
          float[] lo = new float[to - from];
          float[] aa = new float[to - from];
          float[] bb = new float[to - from];
          float[] cc = new float[to - from];
          float[] part = partials(inner);
          boolean sums = dw != null || db != null || !statsConstant;
          for (int ch = from; ch < to; ch++) {
            double m = total == 0 ? 0 : mean[ch];
            hi[ch - from] = (float) m;
            lo[ch - from] = (float) (m - hi[ch - from]);
          }
          // Blocks of channels image by image, as in batchNormForward; each channel's sums still
          // in the order of the images. A block's sums come before its dx; with dx wanted, the
          // next block's sums are taken in the loops that write this block's dx, channel q of the
          // one with channel q of the other (gradSumsApplying), so that the next block's reads
          // from memory overlap this block's arithmetic. The same bits as separate passes.
          boolean pipelined = sums && dx != null;
          int block = channelBlock(inner, to - from, n, pipelined ? 4 : 2, l2Bytes);
          if (pipelined) {
            blockGradSums(
                dy, x, n, cs, inner, from, Math.min(to, from + block), from, hi, lo, acc, part);
          }
          for (int c0 = from; c0 < to; c0 += block) {
            int c1 = Math.min(to, c0 + block);
            if (sums && !pipelined) {
              blockGradSums(dy, x, n, cs, inner, c0, c1, from, hi, lo, acc, part);
            }
            for (int ch = c0; ch < c1; ch++) {
              int q = ch - from;
              double rs = total == 0 ? 0 : rstd[ch];
              if (dw != null) {
                dw[ch] = (float) (rs * acc[q][1]);
              }
              if (db != null) {
                db[ch] = (float) acc[q][0];
              }
              double wc = w == null ? 1.0 : w[ch];
              aa[q] = (float) (rs * wc);
              bb[q] = (float) (statsConstant ? 0.0 : -rs * rs * rs * wc * acc[q][1] / total);
              cc[q] = (float) (statsConstant ? 0.0 : -rs * wc * acc[q][0] / total);
            }
            if (dx == null) {
              continue;
            }
            // the next block's channels (never more than this block's: only the last is shorter)
            int next = pipelined ? Math.min(to, c1 + block) - c1 : 0;
            for (int i = 0; i < n; i++) {
              for (int ch = c0; ch < c1; ch++) {
                int q = ch - from;
                int at = i * cs + ch * inner;
                if (ch - c0 < next) {
                  int nq = q + (c1 - c0);
                  gradSumsApplying(
                      dy,
                      x,
                      at + (c1 - c0) * inner,
                      inner,
                      hi[nq],
                      lo[nq],
                      acc[nq],
                      part,
                      dx,
                      at,
                      hi[q],
                      lo[q],
                      aa[q],
                      bb[q],
                      cc[q]);
                } else {
                  applyBackward(dy, x, dx, at, inner, hi[q], lo[q], aa[q], bb[q], cc[q]);
                }
              }
            }
          }
        });
  }

  /** Channels [c0, c1)'s gradient sums into acc[ch - from], image by image. */
  private static void blockGradSums(
      float[] dy,
      float[] x,
      int n,
      int cs,
      int inner,
      int c0,
      int c1,
      int from,
      float[] hi,
      float[] lo,
      double[][] acc,
      float[] part) {
    for (int i = 0; i < n; i++) {
      for (int ch = c0; ch < c1; ch++) {
        int q = ch - from;
        gradSums(dy, x, i * cs + ch * inner, inner, hi[q], lo[q], acc[q], part);
      }
    }
  }

  // ================================================================== local response norm

  /**
   * LocalResponseNorm over {@code (n, c, inner)}: {@code y = x / (k + alpha/size * sum_{window}
   * x^2)^beta}, the window covering channels {@code [c - size/2, c + (size-1)/2]} (zero padded).
   * Writes the denominators' base {@code den = k + alpha/size*sum} into {@code den} for backward.
   */
  public static void lrnForward(
      float[] x,
      float[] y,
      float[] den,
      int n,
      int c,
      int inner,
      int size,
      double alpha,
      double beta,
      double k) {
    final int cs = c * inner;
    final int lo = size / 2;
    final int hi = (size - 1) / 2;
    final double scale = alpha / size;
    int grain = Math.max(1, GRAIN_ELEMS / Math.max(1, cs));
    Parallel.forRange(
        n,
        grain,
        (from, to) -> {
          double[] s = new double[inner];
          for (int i = from; i < to; i++) {
            int base = i * cs;
            for (int ch = 0; ch < c; ch++) {
              java.util.Arrays.fill(s, 0.0);
              int j0 = Math.max(0, ch - lo);
              int j1 = Math.min(c - 1, ch + hi);
              for (int j = j0; j <= j1; j++) {
                int o = base + j * inner;
                for (int p = 0; p < inner; p++) {
                  double v = x[o + p];
                  s[p] += v * v;
                }
              }
              int o = base + ch * inner;
              for (int p = 0; p < inner; p++) {
                double d = k + scale * s[p];
                den[o + p] = (float) d;
                y[o + p] = (float) (x[o + p] * Math.pow(d, -beta));
              }
            }
          }
        });
  }

  /** Backward of {@link #lrnForward}. */
  public static void lrnBackward(
      float[] dy,
      float[] x,
      float[] den,
      float[] dx,
      int n,
      int c,
      int inner,
      int size,
      double alpha,
      double beta) {
    final int cs = c * inner;
    final int lo = size / 2;
    final int hi = (size - 1) / 2;
    final double scale = alpha / size;
    int grain = Math.max(1, GRAIN_ELEMS / Math.max(1, cs));
    Parallel.forRange(
        n,
        grain,
        (from, to) -> {
          double[] t = new double[cs];
          double[] s = new double[inner];
          for (int i = from; i < to; i++) {
            int base = i * cs;
            // t_c = dy_c * x_c * den_c^(-beta-1)
            for (int q = 0; q < cs; q++) {
              double d = den[base + q];
              t[q] = dy[base + q] * (double) x[base + q] * Math.pow(d, -beta - 1);
            }
            for (int ch = 0; ch < c; ch++) {
              // channels whose window contains ch: [ch - hi, ch + lo]
              java.util.Arrays.fill(s, 0.0);
              int j0 = Math.max(0, ch - hi);
              int j1 = Math.min(c - 1, ch + lo);
              for (int j = j0; j <= j1; j++) {
                for (int p = 0; p < inner; p++) {
                  s[p] += t[j * inner + p];
                }
              }
              int o = base + ch * inner;
              for (int p = 0; p < inner; p++) {
                double d = den[o + p];
                dx[o + p] =
                    (float) (dy[o + p] * Math.pow(d, -beta) - 2 * scale * beta * x[o + p] * s[p]);
              }
            }
          }
        });
  }

  // ================================================================== vector loops

  /**
   * Scratch for {@link #sums} and {@link #gradSums} over rows of up to {@code len} floats: two
   * vectors of partial sums per block of {@link #FLUSH} vectors.
   */
  static float[] partials(int len) {
    return new float[2 * L * (len / (FLUSH * L) + 1)];
  }

  /**
   * acc[0] += sum(d), acc[1] += sum(d^2) with d = (x - hi) - lo. {@code part} is scratch from
   * {@link #partials} for at least {@code len}.
   */
  static void sums(float[] x, int off, int len, float hi, float lo, double[] acc, float[] part) {
    var vh = FloatVector.broadcast(S, hi);
    int i = 0;
    int up2 = len - 2 * L + 1;
    int up = S.loopBound(len);
    int p = 0;
    // Each block's two lane vectors go to part and are added into double after the last block:
    // the vector loop no longer waits on the eight dependent additions of each block (the same
    // additions in the same order, so the same bits; 15% off the sums of a Group Norm group).
    while (i < up) {
      int end2 = Math.min(up2, i + FLUSH * L);
      var a1 = FloatVector.zero(S);
      var a2 = FloatVector.zero(S);
      var b1 = FloatVector.zero(S);
      var b2 = FloatVector.zero(S);
      for (; i < end2; i += 2 * L) {
        var d = FloatVector.fromArray(S, x, off + i).sub(vh);
        var e = FloatVector.fromArray(S, x, off + i + L).sub(vh);
        a1 = a1.add(d);
        a2 = d.fma(d, a2);
        b1 = b1.add(e);
        b2 = e.fma(e, b2);
      }
      if (i < up && i >= up2) {
        var d = FloatVector.fromArray(S, x, off + i).sub(vh);
        a1 = a1.add(d);
        a2 = d.fma(d, a2);
        i += L;
      }
      a1.add(b1).intoArray(part, p);
      a2.add(b2).intoArray(part, p + L);
      p += 2 * L;
    }
    finishSums(x, off, len, i, hi, lo, acc, part, p);
  }

  /**
   * The end of {@link #sums} (and {@link #sumsApplyingAffine}): the blocks' lanes in {@code part[0,
   * p)} added into double, then the scalar tail from {@code i}, shifted by lo into acc.
   */
  private static void finishSums(
      float[] x, int off, int len, int i, float hi, float lo, double[] acc, float[] part, int p) {
    double s1 = sumBlocks(part, p, 0);
    double s2 = sumBlocks(part, p, L);
    for (; i < len; i++) {
      double d = x[off + i] - hi;
      s1 += d;
      s2 += d * d;
    }
    addShifted(acc, s1, s2, len, lo);
  }

  /**
   * One pass over two segments: {@link #sums} of {@code x[off, off + len)} about {@code k} (lo 0)
   * into acc, in sums' order and blocks, and {@link #affineFolded}'s {@code y = (x - hiA) * a +
   * shp} of the segment at {@code at} — so that Batch Norm's forward reads the next channel block
   * from memory while it normalizes this one from cache, with the bits of the two passes.
   */
  static void sumsApplyingAffine(
      float[] x,
      int off,
      int len,
      float k,
      double[] acc,
      float[] part,
      float[] y,
      int at,
      float hiA,
      float a,
      float shp) {
    var vk = FloatVector.broadcast(S, k);
    var vh = FloatVector.broadcast(S, hiA);
    var va = FloatVector.broadcast(S, a);
    var vs = FloatVector.broadcast(S, shp);
    int i = 0;
    int up2 = len - 2 * L + 1;
    int up = S.loopBound(len);
    int p = 0;
    while (i < up) {
      int end2 = Math.min(up2, i + FLUSH * L);
      var a1 = FloatVector.zero(S);
      var a2 = FloatVector.zero(S);
      var b1 = FloatVector.zero(S);
      var b2 = FloatVector.zero(S);
      for (; i < end2; i += 2 * L) {
        var d = FloatVector.fromArray(S, x, off + i).sub(vk);
        var e = FloatVector.fromArray(S, x, off + i + L).sub(vk);
        var x0 = FloatVector.fromArray(S, x, at + i);
        var x1 = FloatVector.fromArray(S, x, at + i + L);
        a1 = a1.add(d);
        a2 = d.fma(d, a2);
        b1 = b1.add(e);
        b2 = e.fma(e, b2);
        x0.sub(vh).fma(va, vs).intoArray(y, at + i);
        x1.sub(vh).fma(va, vs).intoArray(y, at + i + L);
      }
      if (i < up && i >= up2) {
        var d = FloatVector.fromArray(S, x, off + i).sub(vk);
        a1 = a1.add(d);
        a2 = d.fma(d, a2);
        FloatVector.fromArray(S, x, at + i).sub(vh).fma(va, vs).intoArray(y, at + i);
        i += L;
      }
      a1.add(b1).intoArray(part, p);
      a2.add(b2).intoArray(part, p + L);
      p += 2 * L;
    }
    for (int t = i; t < len; t++) {
      y[at + t] = Math.fma(x[at + t] - hiA, a, shp);
    }
    finishSums(x, off, len, i, k, 0f, acc, part, p);
  }

  /** acc += the sums s1 of d and s2 of d^2 (d = x - hi) shifted to d = x - hi - lo. */
  private static void addShifted(double[] acc, double s1, double s2, int len, float lo) {
    acc[0] += s1 - len * (double) lo;
    acc[1] += s2 - 2.0 * lo * s1 + len * (double) lo * lo;
  }

  /**
   * Per channel j of a row: y = (x - hi) * scale[j] + shift[j] is {@link #affineFolded}'s y for the
   * channel's {@code a = rs * w} and the folded {@code sh = b}.
   */
  private static void channelScales(
      double rs, float lo, float[] w, float[] b, int cbase, int cpg, float[] scale, float[] shift) {
    for (int j = 0; j < cpg; j++) {
      int c = cbase + j;
      float a = (float) (w == null ? rs : rs * w[c]);
      float sh = b == null ? 0f : b[c];
      scale[j] = a;
      shift[j] = foldedShift(sh, lo, a);
    }
  }

  /**
   * One pass over two rows: {@link #affineFolded} of the row at {@code off} (channels of {@code
   * inner >= 2L} values, per-channel {@code scale} and {@code shift} from {@link #channelScales})
   * and {@link #sums} of the next row ({@code off + len}) about {@code k}, in sums' order and
   * blocks, so that both give the bits of the two separate passes. A vector pair takes one
   * channel's scale, or two blended where it straddles a channel boundary (at most one, as inner >=
   * 2L).
   */
  static void affineNextSums(
      float[] x,
      float[] y,
      int off,
      int len,
      int inner,
      float hi,
      float[] scale,
      float[] shift,
      float k,
      double[] acc,
      float[] part) {
    int next = off + len;
    var vk = FloatVector.broadcast(S, k);
    var vh = FloatVector.broadcast(S, hi);
    int i = 0;
    int up2 = len - 2 * L + 1;
    int up = S.loopBound(len);
    int p = 0;
    int done = 0; // y is written below this
    while (i < up) {
      int end2 = Math.min(up2, i + FLUSH * L);
      var a1 = FloatVector.zero(S);
      var a2 = FloatVector.zero(S);
      var b1 = FloatVector.zero(S);
      var b2 = FloatVector.zero(S);
      while (i < end2) {
        int c = i / inner;
        int cEnd = (c + 1) * inner;
        if (cEnd - i >= 2 * L) {
          int seg = Math.min(end2, i + ((cEnd - i) & -(2 * L)));
          var va = FloatVector.broadcast(S, scale[c]);
          var vs = FloatVector.broadcast(S, shift[c]);
          for (; i < seg; i += 2 * L) {
            var x0 = FloatVector.fromArray(S, x, off + i);
            var x1 = FloatVector.fromArray(S, x, off + i + L);
            var d = FloatVector.fromArray(S, x, next + i).sub(vk);
            var e = FloatVector.fromArray(S, x, next + i + L).sub(vk);
            a1 = a1.add(d);
            a2 = d.fma(d, a2);
            b1 = b1.add(e);
            b2 = e.fma(e, b2);
            x0.sub(vh).fma(va, vs).intoArray(y, off + i);
            x1.sub(vh).fma(va, vs).intoArray(y, off + i + L);
          }
        } else {
          // lanes before cEnd are channel c's, the rest channel c + 1's
          var m0 = S.indexInRange(i, cEnd);
          var m1 = S.indexInRange(i + L, cEnd);
          var na = FloatVector.broadcast(S, scale[c + 1]);
          var ns = FloatVector.broadcast(S, shift[c + 1]);
          var ca = FloatVector.broadcast(S, scale[c]);
          var cs = FloatVector.broadcast(S, shift[c]);
          var x0 = FloatVector.fromArray(S, x, off + i);
          var x1 = FloatVector.fromArray(S, x, off + i + L);
          var d = FloatVector.fromArray(S, x, next + i).sub(vk);
          var e = FloatVector.fromArray(S, x, next + i + L).sub(vk);
          a1 = a1.add(d);
          a2 = d.fma(d, a2);
          b1 = b1.add(e);
          b2 = e.fma(e, b2);
          x0.sub(vh).fma(na.blend(ca, m0), ns.blend(cs, m0)).intoArray(y, off + i);
          x1.sub(vh).fma(na.blend(ca, m1), ns.blend(cs, m1)).intoArray(y, off + i + L);
          i += 2 * L;
        }
      }
      done = i;
      if (i < up && i >= up2) {
        var d = FloatVector.fromArray(S, x, next + i).sub(vk);
        a1 = a1.add(d);
        a2 = d.fma(d, a2);
        i += L;
      }
      a1.add(b1).intoArray(part, p);
      a2.add(b2).intoArray(part, p + L);
      p += 2 * L;
    }
    double s1 = sumBlocks(part, p, 0);
    double s2 = sumBlocks(part, p, L);
    for (int t = i; t < len; t++) {
      double d = x[next + t] - k;
      s1 += d;
      s2 += d * d;
    }
    addShifted(acc, s1, s2, len, 0f);
    for (; done < len; done++) {
      int c = done / inner;
      y[off + done] = Math.fma(x[off + done] - hi, scale[c], shift[c]);
    }
  }

  /**
   * {@link #elemAffine} (w and b both given) of the row at {@code off} and {@link #sums} of the
   * next row about {@code k}, in one pass, with the bits of the two separate passes.
   */
  static void elemAffineNextSums(
      float[] x,
      float[] y,
      int off,
      int len,
      float hi,
      float lo,
      float rs,
      float[] w,
      float[] b,
      int cb,
      float k,
      double[] acc,
      float[] part) {
    int next = off + len;
    float nlr = -lo * rs;
    var vk = FloatVector.broadcast(S, k);
    var vh = FloatVector.broadcast(S, hi);
    var vr = FloatVector.broadcast(S, rs);
    var vn = FloatVector.broadcast(S, nlr);
    int i = 0;
    int up2 = len - 2 * L + 1;
    int up = S.loopBound(len);
    int p = 0;
    while (i < up) {
      int end2 = Math.min(up2, i + FLUSH * L);
      var a1 = FloatVector.zero(S);
      var a2 = FloatVector.zero(S);
      var b1 = FloatVector.zero(S);
      var b2 = FloatVector.zero(S);
      for (; i < end2; i += 2 * L) {
        var x0 = FloatVector.fromArray(S, x, off + i);
        var x1 = FloatVector.fromArray(S, x, off + i + L);
        var d = FloatVector.fromArray(S, x, next + i).sub(vk);
        var e = FloatVector.fromArray(S, x, next + i + L).sub(vk);
        a1 = a1.add(d);
        a2 = d.fma(d, a2);
        b1 = b1.add(e);
        b2 = e.fma(e, b2);
        x0.sub(vh)
            .fma(vr, vn)
            .fma(FloatVector.fromArray(S, w, cb + i), FloatVector.fromArray(S, b, cb + i))
            .intoArray(y, off + i);
        x1.sub(vh)
            .fma(vr, vn)
            .fma(FloatVector.fromArray(S, w, cb + i + L), FloatVector.fromArray(S, b, cb + i + L))
            .intoArray(y, off + i + L);
      }
      if (i < up && i >= up2) {
        var d = FloatVector.fromArray(S, x, next + i).sub(vk);
        a1 = a1.add(d);
        a2 = d.fma(d, a2);
        FloatVector.fromArray(S, x, off + i)
            .sub(vh)
            .fma(vr, vn)
            .fma(FloatVector.fromArray(S, w, cb + i), FloatVector.fromArray(S, b, cb + i))
            .intoArray(y, off + i);
        i += L;
      }
      a1.add(b1).intoArray(part, p);
      a2.add(b2).intoArray(part, p + L);
      p += 2 * L;
    }
    double s1 = sumBlocks(part, p, 0);
    double s2 = sumBlocks(part, p, L);
    for (; i < len; i++) {
      double d = x[next + i] - k;
      s1 += d;
      s2 += d * d;
      y[off + i] = Math.fma(Math.fma(x[off + i] - hi, rs, nlr), w[cb + i], b[cb + i]);
    }
    addShifted(acc, s1, s2, len, 0f);
  }

  /**
   * The blocks' lane vectors at {@code part[q]} for q = at, at + 2L, ... below {@code end}, added
   * into double with the result of {@link #sumBlocksInOrder}. That order is the arithmetic the
   * statistics are pinned to, but its dependent scalar additions cost 5-20 % of a short-row norm (a
   * build without them was that much faster). When the lanes' magnitudes lie close enough together
   * that every partial sum, in any order, is exact in double, the order cannot change the result,
   * and the lanes go in as vectors of doubles instead; otherwise in order.
   */
  static double sumBlocks(float[] part, int end, int at) {
    // in one pass: the lanes in double (used only where exact), and the largest magnitude and the
    // smallest nonzero one, as the ordered bits of |lane|
    var top = IntVector.zero(IS);
    var bottom = IntVector.broadcast(IS, Integer.MAX_VALUE);
    var lower = DoubleVector.zero(DS);
    var upper = DoubleVector.zero(DS);
    int lanes = 0;
    for (int q = at; q < end; q += 2 * L) {
      var v = FloatVector.fromArray(S, part, q);
      var bits = v.reinterpretAsInts().and(Integer.MAX_VALUE);
      top = top.max(bits);
      bottom = bottom.min(bits.sub(1).and(Integer.MAX_VALUE)); // a zero's -1 wraps to the max
      lower = lower.add((DoubleVector) v.convertShape(VectorOperators.F2D, DS, 0));
      upper = upper.add((DoubleVector) v.convertShape(VectorOperators.F2D, DS, 1));
      lanes += L;
    }
    int topBits = top.reduceLanes(VectorOperators.MAX);
    if (topBits == 0) {
      return 0.0; // no lanes, or all zeros: in order, +0.0 as well
    }
    if (topBits >= 0x7f800000
        || !exactInAnyOrder(topBits, bottom.reduceLanes(VectorOperators.MIN) + 1, lanes)) {
      return sumBlocksInOrder(part, end, at); // NaN or infinity, or magnitudes too far apart
    }
    return lower.add(upper).reduceLanes(VectorOperators.ADD);
  }

  /**
   * Whether {@code lanes} finite floats, the largest magnitude with bits {@code topBits} and the
   * smallest nonzero one {@code bottomBits}, add up exactly in double in every order: each is a
   * multiple of the smallest one's unit in the last place u (2^(e - 23), e its exponent, at least
   * -126), and every partial sum is below lanes * 2^(E + 1) (E the largest exponent), so it is an
   * integer multiple of u under 2^53 u — exact in double — when E - e + 24 + log2(lanes) <= 53.
   */
  static boolean exactInAnyOrder(int topBits, int bottomBits, int lanes) {
    int spread = Math.max(1, topBits >>> 23) - Math.max(1, bottomBits >>> 23);
    int log2Lanes = 32 - Integer.numberOfLeadingZeros(lanes - 1);
    return spread + 24 + log2Lanes <= 53;
  }

  /**
   * The blocks' lane vectors at {@code part[q]} for q = at, at + 2L, ... below {@code end}: each
   * block's lanes added in lane order in double, then the blocks in order.
   */
  static double sumBlocksInOrder(float[] part, int end, int at) {
    double s = 0;
    for (int q = at; q < end; q += 2 * L) {
      double t = 0;
      for (int l = 0; l < L; l++) {
        t += part[q + l];
      }
      s += t;
    }
    return s;
  }

  /**
   * acc[0] += sum(dy), acc[1] += sum(dy * d) with d = (x - hi) - lo; {@code part} as for {@link
   * #sums} (25% faster than adding each block's lanes as it ends).
   */
  static void gradSums(
      float[] dy, float[] x, int off, int len, float hi, float lo, double[] acc, float[] part) {
    var vh = FloatVector.broadcast(S, hi);
    int i = 0;
    int up2 = len - 2 * L + 1;
    int up = S.loopBound(len);
    int p = 0;
    while (i < up) {
      int end2 = Math.min(up2, i + FLUSH * L);
      var a1 = FloatVector.zero(S);
      var a2 = FloatVector.zero(S);
      var b1 = FloatVector.zero(S);
      var b2 = FloatVector.zero(S);
      for (; i < end2; i += 2 * L) {
        var g = FloatVector.fromArray(S, dy, off + i);
        var d = FloatVector.fromArray(S, x, off + i).sub(vh);
        var h = FloatVector.fromArray(S, dy, off + i + L);
        var e = FloatVector.fromArray(S, x, off + i + L).sub(vh);
        a1 = a1.add(g);
        a2 = g.fma(d, a2);
        b1 = b1.add(h);
        b2 = h.fma(e, b2);
      }
      if (i < up && i >= up2) {
        var g = FloatVector.fromArray(S, dy, off + i);
        var d = FloatVector.fromArray(S, x, off + i).sub(vh);
        a1 = a1.add(g);
        a2 = g.fma(d, a2);
        i += L;
      }
      a1.add(b1).intoArray(part, p);
      a2.add(b2).intoArray(part, p + L);
      p += 2 * L;
    }
    finishGradSums(dy, x, off, len, i, hi, lo, acc, part, p);
  }

  /**
   * The end of {@link #gradSums} (and {@link #gradSumsApplying}): the blocks' lanes in {@code
   * part[0, p)} added into double, then the scalar tail from {@code i}, into acc.
   */
  private static void finishGradSums(
      float[] dy,
      float[] x,
      int off,
      int len,
      int i,
      float hi,
      float lo,
      double[] acc,
      float[] part,
      int p) {
    double s1 = sumBlocks(part, p, 0);
    double s2 = sumBlocks(part, p, L);
    for (; i < len; i++) {
      double g = dy[off + i];
      s1 += g;
      s2 += g * (x[off + i] - hi);
    }
    acc[0] += s1;
    acc[1] += s2 - lo * s1;
  }

  /**
   * {@link #gradSums} of {@code [off, off + len)} into {@code acc} and, in the same loop, {@link
   * #applyBackward} of the equally long {@code [at, at + len)} into dx (hiA, loA, a, b, c its
   * arguments): the first reads memory the second does not, so their loads and arithmetic overlap.
   * Each keeps its own arithmetic, so both results are bitwise those of the two separate calls.
   * {@code [at, at + len)} must not overlap the summed range in dx (dx may be dy) where the sums
   * are wanted; dx alone is right whatever they overlap, as each element of dy is read before dx's
   * element at the same index is written.
   */
  static void gradSumsApplying(
      float[] dy,
      float[] x,
      int off,
      int len,
      float hi,
      float lo,
      double[] acc,
      float[] part,
      float[] dx,
      int at,
      float hiA,
      float loA,
      float a,
      float b,
      float c) {
    float cp = (float) (c - (double) b * loA);
    var vhA = FloatVector.broadcast(S, hiA);
    var va = FloatVector.broadcast(S, a);
    var vb = FloatVector.broadcast(S, b);
    var vc = FloatVector.broadcast(S, cp);
    var vh = FloatVector.broadcast(S, hi);
    int i = 0;
    int up2 = len - 2 * L + 1;
    int up = S.loopBound(len);
    int p = 0;
    while (i < up) {
      int end2 = Math.min(up2, i + FLUSH * L);
      var a1 = FloatVector.zero(S);
      var a2 = FloatVector.zero(S);
      var b1 = FloatVector.zero(S);
      var b2 = FloatVector.zero(S);
      for (; i < end2; i += 2 * L) {
        var g = FloatVector.fromArray(S, dy, off + i);
        var d = FloatVector.fromArray(S, x, off + i).sub(vh);
        var h = FloatVector.fromArray(S, dy, off + i + L);
        var e = FloatVector.fromArray(S, x, off + i + L).sub(vh);
        var x0 = FloatVector.fromArray(S, x, at + i);
        var x1 = FloatVector.fromArray(S, x, at + i + L);
        var g0 = FloatVector.fromArray(S, dy, at + i);
        var g1 = FloatVector.fromArray(S, dy, at + i + L);
        a1 = a1.add(g);
        a2 = g.fma(d, a2);
        b1 = b1.add(h);
        b2 = h.fma(e, b2);
        g0.fma(va, x0.sub(vhA).fma(vb, vc)).intoArray(dx, at + i);
        g1.fma(va, x1.sub(vhA).fma(vb, vc)).intoArray(dx, at + i + L);
      }
      if (i < up && i >= up2) {
        var g = FloatVector.fromArray(S, dy, off + i);
        var d = FloatVector.fromArray(S, x, off + i).sub(vh);
        a1 = a1.add(g);
        a2 = g.fma(d, a2);
        var x0 = FloatVector.fromArray(S, x, at + i);
        FloatVector.fromArray(S, dy, at + i).fma(va, x0.sub(vhA).fma(vb, vc)).intoArray(dx, at + i);
        i += L;
      }
      a1.add(b1).intoArray(part, p);
      a2.add(b2).intoArray(part, p + L);
      p += 2 * L;
    }
    for (int k = i; k < len; k++) {
      dx[at + k] = Math.fma(dy[at + k], a, Math.fma(x[at + k] - hiA, b, cp));
    }
    finishGradSums(dy, x, off, len, i, hi, lo, acc, part, p);
  }

  /**
   * The shift {@code sh - lo * a} that lets y = ((x - hi) - lo) * a + sh be computed as (x - hi) *
   * a + shift; Batch Norm's forward and {@link #channelScales} take it from here, so that a fused
   * pass's y has the separate pass's bits.
   */
  private static float foldedShift(float sh, float lo, float a) {
    return (float) (sh - (double) lo * a);
  }

  /**
   * y = (x - hi) * a + shp: y = ((x - hi) - lo) * a + sh with shp the {@link #foldedShift} of sh.
   */
  static void affineFolded(float[] x, float[] y, int off, int len, float hi, float a, float shp) {
    var vh = FloatVector.broadcast(S, hi);
    var va = FloatVector.broadcast(S, a);
    var vs = FloatVector.broadcast(S, shp);
    int i = 0;
    // four vectors a step, loads before stores: the loads go out sooner (8% off Group Norm's
    // forward on 64x64x24x24, measured with and without in one process)
    for (int up4 = len - 4 * L + 1; i < up4; i += 4 * L) {
      var x0 = FloatVector.fromArray(S, x, off + i);
      var x1 = FloatVector.fromArray(S, x, off + i + L);
      var x2 = FloatVector.fromArray(S, x, off + i + 2 * L);
      var x3 = FloatVector.fromArray(S, x, off + i + 3 * L);
      x0.sub(vh).fma(va, vs).intoArray(y, off + i);
      x1.sub(vh).fma(va, vs).intoArray(y, off + i + L);
      x2.sub(vh).fma(va, vs).intoArray(y, off + i + 2 * L);
      x3.sub(vh).fma(va, vs).intoArray(y, off + i + 3 * L);
    }
    for (int up = S.loopBound(len); i < up; i += L) {
      FloatVector.fromArray(S, x, off + i).sub(vh).fma(va, vs).intoArray(y, off + i);
    }
    for (; i < len; i++) {
      y[off + i] = Math.fma(x[off + i] - hi, a, shp);
    }
  }

  /** dx = a*dy + b*d + c with d = (x - hi) - lo. */
  static void applyBackward(
      float[] dy,
      float[] x,
      float[] dx,
      int off,
      int len,
      float hi,
      float lo,
      float a,
      float b,
      float c) {
    float cp = (float) (c - (double) b * lo);
    var vh = FloatVector.broadcast(S, hi);
    var va = FloatVector.broadcast(S, a);
    var vb = FloatVector.broadcast(S, b);
    var vc = FloatVector.broadcast(S, cp);
    int i = 0;
    // four vectors a step, loads before stores (see affine; 5% off Group Norm's backward). dx may
    // be dy itself: each step reads its dy before it writes the same elements of dx.
    for (int up4 = len - 4 * L + 1; i < up4; i += 4 * L) {
      var x0 = FloatVector.fromArray(S, x, off + i);
      var x1 = FloatVector.fromArray(S, x, off + i + L);
      var x2 = FloatVector.fromArray(S, x, off + i + 2 * L);
      var x3 = FloatVector.fromArray(S, x, off + i + 3 * L);
      var g0 = FloatVector.fromArray(S, dy, off + i);
      var g1 = FloatVector.fromArray(S, dy, off + i + L);
      var g2 = FloatVector.fromArray(S, dy, off + i + 2 * L);
      var g3 = FloatVector.fromArray(S, dy, off + i + 3 * L);
      g0.fma(va, x0.sub(vh).fma(vb, vc)).intoArray(dx, off + i);
      g1.fma(va, x1.sub(vh).fma(vb, vc)).intoArray(dx, off + i + L);
      g2.fma(va, x2.sub(vh).fma(vb, vc)).intoArray(dx, off + i + 2 * L);
      g3.fma(va, x3.sub(vh).fma(vb, vc)).intoArray(dx, off + i + 3 * L);
    }
    for (int up = S.loopBound(len); i < up; i += L) {
      var d = FloatVector.fromArray(S, x, off + i).sub(vh);
      FloatVector.fromArray(S, dy, off + i).fma(va, d.fma(vb, vc)).intoArray(dx, off + i);
    }
    for (; i < len; i++) {
      dx[off + i] = Math.fma(dy[off + i], a, Math.fma(x[off + i] - hi, b, cp));
    }
  }

  /** y[j] = (d * rs) * w[cb + j] + b[cb + j] (w, b nullable). */
  static void elemAffine(
      float[] x,
      float[] y,
      int off,
      int len,
      float hi,
      float lo,
      float rs,
      float[] w,
      float[] b,
      int cb) {
    float nlr = -lo * rs;
    var vh = FloatVector.broadcast(S, hi);
    var vr = FloatVector.broadcast(S, rs);
    var vn = FloatVector.broadcast(S, nlr);
    int i = 0;
    int up = S.loopBound(len);
    if (w != null && b != null) {
      for (; i < up; i += L) {
        var xh = FloatVector.fromArray(S, x, off + i).sub(vh).fma(vr, vn);
        xh.fma(FloatVector.fromArray(S, w, cb + i), FloatVector.fromArray(S, b, cb + i))
            .intoArray(y, off + i);
      }
    } else if (w != null) {
      for (; i < up; i += L) {
        var xh = FloatVector.fromArray(S, x, off + i).sub(vh).fma(vr, vn);
        xh.mul(FloatVector.fromArray(S, w, cb + i)).intoArray(y, off + i);
      }
    } else if (b != null) {
      for (; i < up; i += L) {
        var xh = FloatVector.fromArray(S, x, off + i).sub(vh).fma(vr, vn);
        xh.add(FloatVector.fromArray(S, b, cb + i)).intoArray(y, off + i);
      }
    } else {
      for (; i < up; i += L) {
        FloatVector.fromArray(S, x, off + i).sub(vh).fma(vr, vn).intoArray(y, off + i);
      }
    }
    for (; i < len; i++) {
      float xh = Math.fma(x[off + i] - hi, rs, nlr);
      if (w != null && b != null) {
        y[off + i] = Math.fma(xh, w[cb + i], b[cb + i]);
      } else {
        float v = w == null ? xh : xh * w[cb + i];
        y[off + i] = b == null ? v : v + b[cb + i];
      }
    }
  }

  /**
   * {@link #elemAffine} (w and b both given) of rows {@code q .. q + 3}, {@code stride} apart from
   * {@code off}, {@code len} values each, row q + k about his, los and rss at q + k: each vector of
   * w and b is loaded once for the four. Every element gets elemAffine's arithmetic.
   */
  static void elemAffineFour(
      float[] x,
      float[] y,
      int off,
      int stride,
      int len,
      float[] his,
      float[] los,
      float[] rss,
      int q,
      float[] w,
      float[] b,
      int cb) {
    var h0 = FloatVector.broadcast(S, his[q]);
    var h1 = FloatVector.broadcast(S, his[q + 1]);
    var h2 = FloatVector.broadcast(S, his[q + 2]);
    var h3 = FloatVector.broadcast(S, his[q + 3]);
    var r0 = FloatVector.broadcast(S, rss[q]);
    var r1 = FloatVector.broadcast(S, rss[q + 1]);
    var r2 = FloatVector.broadcast(S, rss[q + 2]);
    var r3 = FloatVector.broadcast(S, rss[q + 3]);
    var n0 = FloatVector.broadcast(S, -los[q] * rss[q]);
    var n1 = FloatVector.broadcast(S, -los[q + 1] * rss[q + 1]);
    var n2 = FloatVector.broadcast(S, -los[q + 2] * rss[q + 2]);
    var n3 = FloatVector.broadcast(S, -los[q + 3] * rss[q + 3]);
    int o1 = off + stride;
    int o2 = o1 + stride;
    int o3 = o2 + stride;
    int i = 0;
    int up = S.loopBound(len);
    for (; i < up; i += L) {
      var vw = FloatVector.fromArray(S, w, cb + i);
      var vb = FloatVector.fromArray(S, b, cb + i);
      FloatVector.fromArray(S, x, off + i).sub(h0).fma(r0, n0).fma(vw, vb).intoArray(y, off + i);
      FloatVector.fromArray(S, x, o1 + i).sub(h1).fma(r1, n1).fma(vw, vb).intoArray(y, o1 + i);
      FloatVector.fromArray(S, x, o2 + i).sub(h2).fma(r2, n2).fma(vw, vb).intoArray(y, o2 + i);
      FloatVector.fromArray(S, x, o3 + i).sub(h3).fma(r3, n3).fma(vw, vb).intoArray(y, o3 + i);
    }
    for (int k = 0; k < 4 && i < len; k++) {
      int at = off + k * stride + i;
      elemAffine(x, y, at, len - i, his[q + k], los[q + k], rss[q + k], w, b, cb + i);
    }
  }

  /**
   * Rows at least this long (Layer Norm over a whole feature map) take {@link
   * #elemBackwardByColumns}: a row no longer fits in cache, so the per-element weight and its
   * gradients are better read once per column block than once per row.
   */
  static final int COLUMN_BLOCKED_LEN = 8192;

  /**
   * Backward of the per-element-affine row layout in two phases: each row's two sums (parallel over
   * rows), then dx, dw and db per block of columns (parallel over blocks), the block's rows in
   * order. dw and db (zeroed by the caller) take each row's contribution directly, in row order
   * whatever the thread count, and the block of w, dw and db stays in cache across the rows. Both
   * phases take rows in fours when they share the weight (one group: Layer Norm), the kernels of a
   * four giving each row the bits of the single-row ones.
   */
  private static void elemBackwardByColumns(
      float[] dy,
      float[] x,
      int rows,
      int groups,
      int cpg,
      double[] mean,
      double[] rstd,
      float[] w,
      boolean rms,
      float[] dx,
      float[] dw,
      float[] db) {
    final int len = cpg;
    final float[] hi = new float[rows];
    final float[] lo = new float[rows];
    final float[] bb = new float[rows];
    final float[] cc = new float[rows];
    // both passes take rows in fours when they share the weight (Layer Norm), each row's results
    // bitwise a single row's; the rows left over go one by one
    final boolean fours = groups == 1 && w != null;
    Parallel.forRange(
        rows,
        Math.max(1, GRAIN_ELEMS / len),
        (from, to) -> {
          double[][] acc = new double[4][2];
          float[][] part = fours && to - from >= 4 ? new float[4][] : null;
          if (part != null) {
            for (int q = 0; q < 4; q++) {
              part[q] = partials(len);
            }
          }
          for (int r = from; r < to; ) {
            int n = fours && r + 3 < to ? 4 : 1;
            for (int q = 0; q < n; q++) {
              double m = rms ? 0.0 : mean[r + q];
              hi[r + q] = (float) m;
              lo[r + q] = (float) (m - hi[r + q]);
              acc[q][0] = 0;
              acc[q][1] = 0;
            }
            if (n == 4) {
              elemGradSumsQuad(dy, x, r * len, len, hi, lo, r, w, acc, part);
            } else {
              elemGradSums(dy, x, r * len, len, hi[r], lo[r], w, (r % groups) * cpg, acc[0]);
            }
            for (int q = 0; q < n; q++) {
              double rs = rstd[r + q];
              bb[r + q] = (float) (-rs * rs * rs * acc[q][1] / len);
              cc[r + q] = (float) (rms ? 0.0 : -rs * acc[q][0] / len);
            }
            r += n;
          }
        });
    forColumnBlocks(
        len,
        Math.max(1024, (len / (4 * Parallel.threads()) + 63) & ~63),
        (j0, n) -> {
          int r = 0;
          if (fours && dx != null) {
            for (; r + 3 < rows; r += 4) {
              elemBackwardQuad(
                  dy, x, dx, r * len + j0, len, n, hi, lo, rstd, bb, cc, r, w, j0, dw, db);
            }
          }
          for (; r < rows; r++) {
            int cb = (r % groups) * cpg + j0;
            elemBackward(
                dy,
                x,
                dx,
                r * len + j0,
                n,
                hi[r],
                lo[r],
                (float) rstd[r],
                bb[r],
                cc[r],
                w,
                cb,
                dw,
                db);
          }
        });
  }

  /**
   * {@link #elemGradSums} of four consecutive rows (at {@code off}, {@code off + len}, ...) under
   * the same weight, into {@code acc[q]} for row q: each vector of w is loaded once for the four,
   * eight independent sums keep the vector units busy, and each block's lanes wait in {@code part}
   * (four arrays from {@link #partials}) to be added in double after the last block (as {@link
   * #gradSums} does), off the loop's critical path. Each row's sums are those of its own call,
   * block for block and lane for lane, so the bits are the same.
   */
  static void elemGradSumsQuad(
      float[] dy,
      float[] x,
      int off,
      int len,
      float[] hi,
      float[] lo,
      int r0,
      float[] w,
      double[][] acc,
      float[][] part) {
    var vh0 = FloatVector.broadcast(S, hi[r0]);
    var vh1 = FloatVector.broadcast(S, hi[r0 + 1]);
    var vh2 = FloatVector.broadcast(S, hi[r0 + 2]);
    var vh3 = FloatVector.broadcast(S, hi[r0 + 3]);
    float[] p0 = part[0];
    float[] p1 = part[1];
    float[] p2 = part[2];
    float[] p3 = part[3];
    int o1 = off + len;
    int o2 = o1 + len;
    int o3 = o2 + len;
    int i = 0;
    int up = S.loopBound(len);
    int p = 0;
    while (i < up) {
      int end = Math.min(up, i + FLUSH * L);
      var a10 = FloatVector.zero(S);
      var a20 = FloatVector.zero(S);
      var a11 = FloatVector.zero(S);
      var a21 = FloatVector.zero(S);
      var a12 = FloatVector.zero(S);
      var a22 = FloatVector.zero(S);
      var a13 = FloatVector.zero(S);
      var a23 = FloatVector.zero(S);
      for (; i < end; i += L) {
        var vw = FloatVector.fromArray(S, w, i);
        var g0 = FloatVector.fromArray(S, dy, off + i).mul(vw);
        var g1 = FloatVector.fromArray(S, dy, o1 + i).mul(vw);
        var g2 = FloatVector.fromArray(S, dy, o2 + i).mul(vw);
        var g3 = FloatVector.fromArray(S, dy, o3 + i).mul(vw);
        var d0 = FloatVector.fromArray(S, x, off + i).sub(vh0);
        var d1 = FloatVector.fromArray(S, x, o1 + i).sub(vh1);
        var d2 = FloatVector.fromArray(S, x, o2 + i).sub(vh2);
        var d3 = FloatVector.fromArray(S, x, o3 + i).sub(vh3);
        a10 = a10.add(g0);
        a20 = g0.fma(d0, a20);
        a11 = a11.add(g1);
        a21 = g1.fma(d1, a21);
        a12 = a12.add(g2);
        a22 = g2.fma(d2, a22);
        a13 = a13.add(g3);
        a23 = g3.fma(d3, a23);
      }
      a10.intoArray(p0, p);
      a20.intoArray(p0, p + L);
      a11.intoArray(p1, p);
      a21.intoArray(p1, p + L);
      a12.intoArray(p2, p);
      a22.intoArray(p2, p + L);
      a13.intoArray(p3, p);
      a23.intoArray(p3, p + L);
      p += 2 * L;
    }
    for (int q = 0; q < 4; q++) {
      double s1 = sumBlocks(part[q], p, 0);
      double s2 = sumBlocks(part[q], p, L);
      finishElemGradSums(
          dy, x, off + q * len, len, i, hi[r0 + q], lo[r0 + q], w, 0, s1, s2, acc[q]);
    }
  }

  /**
   * {@link #elemBackward} into dw and db of four rows ({@code r0} at {@code off}, each next {@code
   * stride} later; {@code n} columns from {@code cb}): w, dw and db are loaded once for the four
   * and dw and db carried in registers across them. Per row and vector 2.75 loads and 1.5 stores
   * instead of a single row's 5 and 3 (rows in pairs took 3.5 and 2; fours took 13-20 % off the
   * pairs' backward of Layer Norm on the CNN's maps, 2026-12-02). Two vectors of columns per step
   * keep two of dw's chains of dependent FMAs in flight: 20-37 % off the kernel on data in L1, 3-7
   * % off Layer Norm's backward on the CNN's maps (2026-12-04). dw and db take the rows' terms in
   * row order, as single-row calls would, so the bits are the same.
   */
  static void elemBackwardQuad(
      float[] dy,
      float[] x,
      float[] dx,
      int off,
      int stride,
      int n,
      float[] hi,
      float[] lo,
      double[] rstd,
      float[] bb,
      float[] cc,
      int r0,
      float[] w,
      int cb,
      float[] dw,
      float[] db) {
    float rs0 = (float) rstd[r0];
    float rs1 = (float) rstd[r0 + 1];
    float rs2 = (float) rstd[r0 + 2];
    float rs3 = (float) rstd[r0 + 3];
    var vh0 = FloatVector.broadcast(S, hi[r0]);
    var vh1 = FloatVector.broadcast(S, hi[r0 + 1]);
    var vh2 = FloatVector.broadcast(S, hi[r0 + 2]);
    var vh3 = FloatVector.broadcast(S, hi[r0 + 3]);
    var vr0 = FloatVector.broadcast(S, rs0);
    var vr1 = FloatVector.broadcast(S, rs1);
    var vr2 = FloatVector.broadcast(S, rs2);
    var vr3 = FloatVector.broadcast(S, rs3);
    var vn0 = FloatVector.broadcast(S, -lo[r0] * rs0);
    var vn1 = FloatVector.broadcast(S, -lo[r0 + 1] * rs1);
    var vn2 = FloatVector.broadcast(S, -lo[r0 + 2] * rs2);
    var vn3 = FloatVector.broadcast(S, -lo[r0 + 3] * rs3);
    var vb0 = FloatVector.broadcast(S, bb[r0]);
    var vb1 = FloatVector.broadcast(S, bb[r0 + 1]);
    var vb2 = FloatVector.broadcast(S, bb[r0 + 2]);
    var vb3 = FloatVector.broadcast(S, bb[r0 + 3]);
    var vc0 = FloatVector.broadcast(S, (float) (cc[r0] - (double) bb[r0] * lo[r0]));
    var vc1 = FloatVector.broadcast(S, (float) (cc[r0 + 1] - (double) bb[r0 + 1] * lo[r0 + 1]));
    var vc2 = FloatVector.broadcast(S, (float) (cc[r0 + 2] - (double) bb[r0 + 2] * lo[r0 + 2]));
    var vc3 = FloatVector.broadcast(S, (float) (cc[r0 + 3] - (double) bb[r0 + 3] * lo[r0 + 3]));
    int o1 = off + stride;
    int o2 = o1 + stride;
    int o3 = o2 + stride;
    int i = 0;
    // two columns of vectors per step: dw's chain of four dependent FMAs per column is the step's
    // latency, and the core overlaps too little of it across steps on its own
    for (int up = n - 2 * L + 1; i < up; i += 2 * L) {
      int j = i + L;
      var vw = FloatVector.fromArray(S, w, cb + i);
      var uw = FloatVector.fromArray(S, w, cb + j);
      var sw = FloatVector.fromArray(S, dw, cb + i);
      var tw = FloatVector.fromArray(S, dw, cb + j);
      var sb = FloatVector.fromArray(S, db, cb + i);
      var tb = FloatVector.fromArray(S, db, cb + j);
      var g = FloatVector.fromArray(S, dy, off + i);
      var h = FloatVector.fromArray(S, dy, off + j);
      var d = FloatVector.fromArray(S, x, off + i).sub(vh0);
      var e = FloatVector.fromArray(S, x, off + j).sub(vh0);
      sw = g.fma(d.fma(vr0, vn0), sw);
      sb = g.add(sb);
      tw = h.fma(e.fma(vr0, vn0), tw);
      tb = h.add(tb);
      g.mul(vw).fma(vr0, d.fma(vb0, vc0)).intoArray(dx, off + i);
      h.mul(uw).fma(vr0, e.fma(vb0, vc0)).intoArray(dx, off + j);
      g = FloatVector.fromArray(S, dy, o1 + i);
      h = FloatVector.fromArray(S, dy, o1 + j);
      d = FloatVector.fromArray(S, x, o1 + i).sub(vh1);
      e = FloatVector.fromArray(S, x, o1 + j).sub(vh1);
      sw = g.fma(d.fma(vr1, vn1), sw);
      sb = g.add(sb);
      tw = h.fma(e.fma(vr1, vn1), tw);
      tb = h.add(tb);
      g.mul(vw).fma(vr1, d.fma(vb1, vc1)).intoArray(dx, o1 + i);
      h.mul(uw).fma(vr1, e.fma(vb1, vc1)).intoArray(dx, o1 + j);
      g = FloatVector.fromArray(S, dy, o2 + i);
      h = FloatVector.fromArray(S, dy, o2 + j);
      d = FloatVector.fromArray(S, x, o2 + i).sub(vh2);
      e = FloatVector.fromArray(S, x, o2 + j).sub(vh2);
      sw = g.fma(d.fma(vr2, vn2), sw);
      sb = g.add(sb);
      tw = h.fma(e.fma(vr2, vn2), tw);
      tb = h.add(tb);
      g.mul(vw).fma(vr2, d.fma(vb2, vc2)).intoArray(dx, o2 + i);
      h.mul(uw).fma(vr2, e.fma(vb2, vc2)).intoArray(dx, o2 + j);
      g = FloatVector.fromArray(S, dy, o3 + i);
      h = FloatVector.fromArray(S, dy, o3 + j);
      d = FloatVector.fromArray(S, x, o3 + i).sub(vh3);
      e = FloatVector.fromArray(S, x, o3 + j).sub(vh3);
      sw = g.fma(d.fma(vr3, vn3), sw);
      sb = g.add(sb);
      tw = h.fma(e.fma(vr3, vn3), tw);
      tb = h.add(tb);
      g.mul(vw).fma(vr3, d.fma(vb3, vc3)).intoArray(dx, o3 + i);
      h.mul(uw).fma(vr3, e.fma(vb3, vc3)).intoArray(dx, o3 + j);
      sw.intoArray(dw, cb + i);
      sb.intoArray(db, cb + i);
      tw.intoArray(dw, cb + j);
      tb.intoArray(db, cb + j);
    }
    for (int up = S.loopBound(n); i < up; i += L) {
      var vw = FloatVector.fromArray(S, w, cb + i);
      var sw = FloatVector.fromArray(S, dw, cb + i);
      var sb = FloatVector.fromArray(S, db, cb + i);
      var g0 = FloatVector.fromArray(S, dy, off + i);
      var g1 = FloatVector.fromArray(S, dy, o1 + i);
      var g2 = FloatVector.fromArray(S, dy, o2 + i);
      var g3 = FloatVector.fromArray(S, dy, o3 + i);
      var d0 = FloatVector.fromArray(S, x, off + i).sub(vh0);
      var d1 = FloatVector.fromArray(S, x, o1 + i).sub(vh1);
      var d2 = FloatVector.fromArray(S, x, o2 + i).sub(vh2);
      var d3 = FloatVector.fromArray(S, x, o3 + i).sub(vh3);
      sw = g0.fma(d0.fma(vr0, vn0), sw);
      sb = g0.add(sb);
      sw = g1.fma(d1.fma(vr1, vn1), sw);
      sb = g1.add(sb);
      sw = g2.fma(d2.fma(vr2, vn2), sw);
      sb = g2.add(sb);
      sw = g3.fma(d3.fma(vr3, vn3), sw);
      sb = g3.add(sb);
      g0.mul(vw).fma(vr0, d0.fma(vb0, vc0)).intoArray(dx, off + i);
      g1.mul(vw).fma(vr1, d1.fma(vb1, vc1)).intoArray(dx, o1 + i);
      g2.mul(vw).fma(vr2, d2.fma(vb2, vc2)).intoArray(dx, o2 + i);
      g3.mul(vw).fma(vr3, d3.fma(vb3, vc3)).intoArray(dx, o3 + i);
      sw.intoArray(dw, cb + i);
      sb.intoArray(db, cb + i);
    }
    for (int q = 0; q < 4; q++) {
      int r = r0 + q;
      elemBackward(
          dy,
          x,
          dx,
          off + q * stride + i,
          n - i,
          hi[r],
          lo[r],
          (float) rstd[r],
          bb[r],
          cc[r],
          w,
          cb + i,
          dw,
          db);
    }
  }

  /** acc[0] += sum(dy*w), acc[1] += sum(dy*w*d) (w nullable means 1). */
  static void elemGradSums(
      float[] dy,
      float[] x,
      int off,
      int len,
      float hi,
      float lo,
      float[] w,
      int cb,
      double[] acc) {
    var vh = FloatVector.broadcast(S, hi);
    int i = 0;
    int up = S.loopBound(len);
    double s1 = 0;
    double s2 = 0;
    float[] tmp = new float[L];
    while (i < up) {
      int end = Math.min(up, i + FLUSH * L);
      var a1 = FloatVector.zero(S);
      var a2 = FloatVector.zero(S);
      for (; i < end; i += L) {
        var g = FloatVector.fromArray(S, dy, off + i);
        if (w != null) {
          g = g.mul(FloatVector.fromArray(S, w, cb + i));
        }
        var d = FloatVector.fromArray(S, x, off + i).sub(vh);
        a1 = a1.add(g);
        a2 = g.fma(d, a2);
      }
      a1.intoArray(tmp, 0);
      s1 += Lanes.sum(tmp);
      a2.intoArray(tmp, 0);
      s2 += Lanes.sum(tmp);
    }
    finishElemGradSums(dy, x, off, len, i, hi, lo, w, cb, s1, s2, acc);
  }

  /**
   * The end of {@link #elemGradSums} (and of each row of {@link #elemGradSumsQuad}): the scalar
   * tail from {@code i} added to the vector part's sums {@code s1}, {@code s2}, then the sums
   * shifted from hi to hi + lo into acc.
   */
  private static void finishElemGradSums(
      float[] dy,
      float[] x,
      int off,
      int len,
      int i,
      float hi,
      float lo,
      float[] w,
      int cb,
      double s1,
      double s2,
      double[] acc) {
    for (; i < len; i++) {
      double g = w == null ? dy[off + i] : dy[off + i] * w[cb + i];
      s1 += g;
      s2 += g * (x[off + i] - hi);
    }
    acc[0] += s1;
    acc[1] += s2 - lo * s1;
  }

  /** dx = dy*w*rs + d*b + c (dx nullable); pdw[cb+j] += dy*d*rs, pdb[cb+j] += dy (nullable). */
  static void elemBackward(
      float[] dy,
      float[] x,
      float[] dx,
      int off,
      int len,
      float hi,
      float lo,
      float rs,
      float b,
      float c,
      float[] w,
      int cb,
      float[] pdw,
      float[] pdb) {
    float cp = (float) (c - (double) b * lo);
    float nlr = -lo * rs;
    var vh = FloatVector.broadcast(S, hi);
    var vr = FloatVector.broadcast(S, rs);
    var vn = FloatVector.broadcast(S, nlr);
    var vb = FloatVector.broadcast(S, b);
    var vc = FloatVector.broadcast(S, cp);
    int i = 0;
    for (int up = S.loopBound(len); i < up; i += L) {
      var g = FloatVector.fromArray(S, dy, off + i);
      var d = FloatVector.fromArray(S, x, off + i).sub(vh);
      if (dx != null) {
        var gw = w == null ? g : g.mul(FloatVector.fromArray(S, w, cb + i));
        gw.fma(vr, d.fma(vb, vc)).intoArray(dx, off + i);
      }
      if (pdw != null) {
        g.fma(d.fma(vr, vn), FloatVector.fromArray(S, pdw, cb + i)).intoArray(pdw, cb + i);
        g.add(FloatVector.fromArray(S, pdb, cb + i)).intoArray(pdb, cb + i);
      }
    }
    for (; i < len; i++) {
      float g = dy[off + i];
      float d = x[off + i] - hi;
      if (dx != null) {
        float gw = w == null ? g : g * w[cb + i];
        dx[off + i] = Math.fma(gw, rs, Math.fma(d, b, cp));
      }
      if (pdw != null) {
        pdw[cb + i] = Math.fma(g, Math.fma(d, rs, nlr), pdw[cb + i]);
        pdb[cb + i] += g;
      }
    }
  }
}
