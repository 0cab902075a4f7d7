package dev.normlab.kernels;

import static dev.normlab.kernels.NormLoops.affineFolded;
import static dev.normlab.kernels.NormLoops.affineNextSums;
import static dev.normlab.kernels.NormLoops.applyBackward;
import static dev.normlab.kernels.NormLoops.channelGradSums;
import static dev.normlab.kernels.NormLoops.channelPartials;
import static dev.normlab.kernels.NormLoops.channelScales;
import static dev.normlab.kernels.NormLoops.elemAffine;
import static dev.normlab.kernels.NormLoops.elemAffineFour;
import static dev.normlab.kernels.NormLoops.elemAffineNextSums;
import static dev.normlab.kernels.NormLoops.elemBackward;
import static dev.normlab.kernels.NormLoops.elemBackwardQuad;
import static dev.normlab.kernels.NormLoops.elemGradSums;
import static dev.normlab.kernels.NormLoops.elemGradSumsQuad;
import static dev.normlab.kernels.NormLoops.foldedShift;
import static dev.normlab.kernels.NormLoops.gradSums;
import static dev.normlab.kernels.NormLoops.gradSumsApplying;
import static dev.normlab.kernels.NormLoops.partials;
import static dev.normlab.kernels.NormLoops.sums;
import static dev.normlab.kernels.NormLoops.sumsApplyingAffine;
import static dev.normlab.kernels.NormLoops.threadPartials;

import jdk.incubator.vector.FloatVector;
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
 * that {@code x - mean} keeps full precision; on the row lengths {@link #fusesForward} picks it
 * also takes the next row's sums, in the same order. Backward is two passes: per-row (or
 * per-channel) sums of {@code dy} and {@code dy * (x - mean)}, then {@code dx = A*dy + B*(x - mean)
 * + C}. Work is split over rows/channels through {@link Parallel} with a deterministic chunking, so
 * the same thread count gives bitwise equal results. {@link NormReference} holds the scalar double
 * twins; {@link NormLoops} the vector loops the strategies here choose between.
 */
public final class NormKernels {
  private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
  private static final int L = S.length();

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
    if (inner == 1 && groups == 1 && w != null && b != null && len >= ELEM_FOURS_FORWARD_MIN_LEN) {
      elemForwardByRowFours(x, y, rows, len, w, b, eps, rms, bnZeroRule, mean, rstd, grain);
      return;
    }
    boolean fuse = fusesForward(len, inner, w, b);
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
   * {@link #rowNormForward} for one group with a per-element weight and bias, rows in fours: the
   * four rows' statistics (each row then in L2), then their y in one pass ({@link
   * NormLoops#elemAffineFour}), each vector of w and b loaded once for the four rows instead of
   * once per row. A chunk's last rows short of a four go one by one. Every element's arithmetic is
   * {@link NormLoops#elemAffine}'s, so the bits are the row-by-row forward's.
   */
  private static void elemForwardByRowFours(
      float[] x,
      float[] y,
      int rows,
      int len,
      float[] w,
      float[] b,
      double eps,
      boolean rms,
      boolean bnZeroRule,
      double[] mean,
      double[] rstd,
      int grain) {
    final float[] his = new float[rows];
    final float[] los = new float[rows];
    final float[] rss = new float[rows];
    Parallel.forRange(
        rows,
        grain,
        (from, to) -> {
          double[] acc = new double[2];
          float[] part = partials(len);
          for (int r = from; r < to; ) {
            int n = r + 3 < to ? 4 : 1;
            for (int q = r; q < r + n; q++) {
              rowStats(x, q * len, len, eps, rms, bnZeroRule, acc, part, mean, rstd, q);
              his[q] = (float) mean[q];
              los[q] = (float) (mean[q] - his[q]);
              rss[q] = (float) rstd[q];
            }
            if (n == 4) {
              elemAffineFour(x, y, r * len, len, len, his, los, rss, r, w, b, 0);
            } else {
              elemAffine(x, y, r * len, len, his[r], los[r], rss[r], w, b, 0);
            }
            r += n;
          }
        });
  }

  /**
   * Whether the row forward takes the next row's sums in the loop that normalizes this row ({@link
   * NormLoops#elemAffineNextSums} for a per-element affine, {@link NormLoops#affineNextSums} for a
   * per-channel one) instead of a pass of their own after it. Both give the same bits; which is
   * faster depends on the row's length, as the bounds below record.
   */
  private static boolean fusesForward(int len, int inner, float[] w, float[] b) {
    return inner == 1
        ? w != null
            && b != null
            && len >= ELEM_FUSED_FORWARD_MIN_LEN
            && len < ELEM_FUSED_FORWARD_MAX_LEN
        : inner >= 2 * L && len >= CHANNEL_FUSED_FORWARD_MIN_LEN;
  }

  /**
   * Rows with a per-element affine (Layer Norm, RMSNorm) fuse from this length up: shorter rows do
   * not pay back the fused pass's per-row set-up (on the Intel Xeon, 2026-12-03, the fused loop had
   * been 8 % slower on 676-value rows and 5–13 % faster from 2,704 up).
   */
  static final int ELEM_FUSED_FORWARD_MIN_LEN = 2048;

  /**
   * Rows with a per-element affine shorter than this fuse; longer ones normalize a row, then take
   * the next row's statistics in a pass of their own. The fused loop reads this row's x, w and b
   * and the next row's x per vector; on the Zen 5 (2026-12-04, both in one process, same bits) the
   * separate passes were 7–20 % faster on rows of 3,072 to 36,864 values, 8 MB to 64 MB of them
   * (Layer Norm over the CNN's maps: 64×21,632 0.172 → 0.149 ms, 64×36,864 0.333 → 0.305;
   * forward+backward 2–4 %), while on rows of 2,048 the fused loop was 18–26 % faster from 16 MB of
   * data up (at 8 MB, 10 % slower).
   */
  static final int ELEM_FUSED_FORWARD_MAX_LEN = 4096;

  /**
   * Rows with a per-element weight and bias shared by all rows (Layer Norm), from this length up to
   * {@link #COLUMN_BLOCKED_FORWARD_LEN}, go four at a time ({@link #elemForwardByRowFours}). On the
   * Zen 5 (2026-12-04, both in one process, same bits) 12–17 % faster than one row at a time on
   * rows of 4,096 to 100,000 values (64×21,632, the CNN's first maps: 0.139 → 0.116 ms); on rows of
   * 512 and 1,000, slower (0.34 → 0.45, 0.110 → 0.123): short rows keep w and b in L1 anyway. They
   * start where the fused loop stops.
   */
  static final int ELEM_FOURS_FORWARD_MIN_LEN = ELEM_FUSED_FORWARD_MAX_LEN;

  /**
   * Rows with a per-channel affine (Group, Instance Norm) fuse from this length up. On the Zen 5
   * (2026-12-04, both in one process, same bits) the separate passes were 8–10 % faster on Group
   * Norm's rows of 2,704 and 4,608 values (the CNN's maps: forward 0.133 → 0.122 and 0.226 → 0.205
   * ms; forward+backward 6 % and 0 %), the fused loop 26 % faster on Group Norm's 131,072
   * (8×64×128×128) and 6 % on Instance Norm's 16,384; the Intel Xeon (2026-12-03) had found the
   * fused loop 5–13 % faster from 2,704 values up.
   */
  static final int CHANNEL_FUSED_FORWARD_MIN_LEN = 8192;

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
          float[] part = threadPartials(len, 0);
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
              part[q] = threadPartials(len, q);
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
          float[] part = channelPartials(cpg, inner);
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

  /**
   * Row r's per-channel sums of dy and dy * (x - mean) into sdy and sdyd; {@code part} from {@link
   * NormLoops#channelPartials} for cpg channels.
   */
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
    if (cpg > 1) {
      channelGradSums(dy, x, r * len, cpg, inner, mhi, mlo, part, sdy, sdyd, r * cpg);
      return;
    }
    acc[0] = 0;
    acc[1] = 0;
    gradSums(dy, x, r * len, inner, mhi, mlo, acc, part);
    sdy[r] = acc[0];
    sdyd[r] = acc[1];
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
}
