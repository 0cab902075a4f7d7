package dev.normlab.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Single-precision GEMM, row-major: {@code C = alpha * op(A) * op(B) + beta * C}.
 *
 * <p>Blocked and packed in the BLIS manner: B is packed into KC x NR panels, A into MR x KC panels,
 * and an 8 x 2-vector register-tiled FMA micro-kernel runs over them. Work is split over column
 * panels across {@link Parallel} threads; the split depends only on the sizes and thread count, so
 * results are reproducible. {@link GemmReference} is the scalar twin.
 */
public final class Gemm {
  private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
  private static final int L = S.length();
  static final int MR = 8;
  static final int NR = 2 * L;
  private static final int KC = 256;
  private static final int MC = 128;
  private static final int NC = 1024;

  /** Below this many multiply-adds a product runs on the calling thread. */
  private static final long PARALLEL_WORK = 1L << 20;

  /** Scatter offsets 0, MR, 2*MR, ...: one row of A into a packed panel. */
  private static final int[] STRIDE_MR = new int[L];

  static {
    for (int i = 0; i < L; i++) {
      STRIDE_MR[i] = i * MR;
    }
  }

  private static final ThreadLocal<float[]> PACK_A =
      ThreadLocal.withInitial(() -> new float[MC * KC]);
  private static final ThreadLocal<float[]> PACK_B =
      ThreadLocal.withInitial(() -> new float[KC * NC]);
  private static final ThreadLocal<float[]> EDGE =
      ThreadLocal.withInitial(() -> new float[MR * NR]);

  private Gemm() {}

  /**
   * {@code C[m,n] = alpha * op(A)[m,k] * op(B)[k,n] + beta * C}, where op transposes when asked.
   * With {@code beta == 0}, C is overwritten (NaNs in it are ignored).
   */
  public static void sgemm(
      boolean transA,
      boolean transB,
      int m,
      int n,
      int k,
      float alpha,
      float[] a,
      int aOff,
      int lda,
      float[] b,
      int bOff,
      int ldb,
      float beta,
      float[] c,
      int cOff,
      int ldc) {
    if (m < 0 || n < 0 || k < 0) {
      throw new IllegalArgumentException("sgemm: negative size m=" + m + ", n=" + n + ", k=" + k);
    }
    if (ldc < Math.max(1, n)) {
      throw new IllegalArgumentException("sgemm: ldc=" + ldc + " < n=" + n);
    }
    if (lda < Math.max(1, transA ? m : k) || ldb < Math.max(1, transB ? k : n)) {
      throw new IllegalArgumentException("sgemm: lda=" + lda + " or ldb=" + ldb + " too small");
    }
    if (m == 0 || n == 0) {
      return;
    }
    if (k == 0 || alpha == 0) {
      for (int i = 0; i < m; i++) {
        for (int j = 0; j < n; j++) {
          int ci = cOff + i * ldc + j;
          c[ci] = beta == 0 ? 0f : beta * c[ci];
        }
      }
      return;
    }
    int panels = (n + NR - 1) / NR;
    long work = (long) m * n * k;
    int grain = work < PARALLEL_WORK ? panels : Math.max(1, panels / Parallel.threads());
    Parallel.forRange(
        panels,
        grain,
        (p0, p1) -> {
          int j0 = p0 * NR;
          int j1 = Math.min(n, p1 * NR);
          range(
              transA, transB, m, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc, j0, j1);
        });
  }

  private static void range(
      boolean transA,
      boolean transB,
      int m,
      int k,
      float alpha,
      float[] a,
      int aOff,
      int lda,
      float[] b,
      int bOff,
      int ldb,
      float beta,
      float[] c,
      int cOff,
      int ldc,
      int j0,
      int j1) {
    float[] pa = PACK_A.get();
    float[] pb = PACK_B.get();
    float[] tile = EDGE.get();
    for (int jc = j0; jc < j1; jc += NC) {
      int nc = Math.min(NC, j1 - jc);
      for (int pc = 0; pc < k; pc += KC) {
        int kc = Math.min(KC, k - pc);
        packB(transB, b, bOff, ldb, pc, kc, jc, nc, pb);
        float betaEff = pc == 0 ? beta : 1f;
        for (int ic = 0; ic < m; ic += MC) {
          int mc = Math.min(MC, m - ic);
          packA(transA, a, aOff, lda, ic, mc, pc, kc, alpha, pa);
          for (int jr = 0; jr < nc; jr += NR) {
            int nr = Math.min(NR, nc - jr);
            for (int ir = 0; ir < mc; ir += MR) {
              int mr = Math.min(MR, mc - ir);
              int co = cOff + (ic + ir) * ldc + jc + jr;
              if (mr == MR && nr == NR) {
                micro(kc, pa, ir * kc, pb, jr * kc, c, co, ldc, betaEff);
              } else {
                edge(kc, pa, ir * kc, pb, jr * kc, c, co, ldc, mr, nr, betaEff, tile);
              }
            }
          }
        }
      }
    }
  }

  /** Packs B[pc..pc+kc, jc..jc+nc] into NR-wide panels, zero-padded. */
  private static void packB(
      boolean trans, float[] b, int bOff, int ldb, int pc, int kc, int jc, int nc, float[] pb) {
    for (int jr = 0; jr < nc; jr += NR) {
      int w = Math.min(NR, nc - jr);
      int base = jr * kc;
      for (int p = 0; p < kc; p++) {
        int dst = base + p * NR;
        if (!trans) {
          System.arraycopy(b, bOff + (pc + p) * ldb + jc + jr, pb, dst, w);
        } else {
          int src = bOff + (jc + jr) * ldb + pc + p;
          for (int j = 0; j < w; j++) {
            pb[dst + j] = b[src + j * ldb];
          }
        }
        for (int j = w; j < NR; j++) {
          pb[dst + j] = 0f;
        }
      }
    }
  }

  /** Packs alpha * A[ic..ic+mc, pc..pc+kc] into MR-tall panels, zero-padded. */
  private static void packA(
      boolean trans,
      float[] a,
      int aOff,
      int lda,
      int ic,
      int mc,
      int pc,
      int kc,
      float alpha,
      float[] pa) {
    for (int ir = 0; ir < mc; ir += MR) {
      int h = Math.min(MR, mc - ir);
      int base = ir * kc;
      if (!trans) {
        // rows of A become columns of the panel: each row's vector is scattered with stride MR
        int bound = S.loopBound(kc);
        FloatVector va = FloatVector.broadcast(S, alpha);
        for (int i = 0; i < h; i++) {
          int src = aOff + (ic + ir + i) * lda + pc;
          int p = 0;
          for (; p < bound; p += L) {
            FloatVector.fromArray(S, a, src + p)
                .mul(va)
                .intoArray(pa, base + p * MR + i, STRIDE_MR, 0);
          }
          for (; p < kc; p++) {
            pa[base + p * MR + i] = alpha * a[src + p];
          }
        }
      } else {
        for (int p = 0; p < kc; p++) {
          int src = aOff + (pc + p) * lda + ic + ir;
          int dst = base + p * MR;
          for (int i = 0; i < h; i++) {
            pa[dst + i] = alpha * a[src + i];
          }
        }
      }
      if (h < MR) {
        for (int p = 0; p < kc; p++) {
          for (int i = h; i < MR; i++) {
            pa[base + p * MR + i] = 0f;
          }
        }
      }
    }
  }

  /**
   * The 8 x 2-vector register tile: 16 accumulators started from beta*C, one pass over kc, stored
   * back. Alpha is folded into the packed A. Everything stays in one method so that C2 keeps the
   * accumulators in registers (a call taking vectors would box them).
   */
  private static void micro(
      int kc, float[] pa, int ao, float[] pb, int bo, float[] c, int co, int ldc, float beta) {
    FloatVector c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51, c60, c61, c70, c71;
    int r0 = co,
        r1 = co + ldc,
        r2 = r1 + ldc,
        r3 = r2 + ldc,
        r4 = r3 + ldc,
        r5 = r4 + ldc,
        r6 = r5 + ldc,
        r7 = r6 + ldc;
    if (beta == 0f) {
      c00 =
          c01 =
              c10 =
                  c11 =
                      c20 =
                          c21 =
                              c30 =
                                  c31 =
                                      c40 =
                                          c41 =
                                              c50 =
                                                  c51 = c60 = c61 = c70 = c71 = FloatVector.zero(S);
    } else {
      c00 = FloatVector.fromArray(S, c, r0).mul(beta);
      c01 = FloatVector.fromArray(S, c, r0 + L).mul(beta);
      c10 = FloatVector.fromArray(S, c, r1).mul(beta);
      c11 = FloatVector.fromArray(S, c, r1 + L).mul(beta);
      c20 = FloatVector.fromArray(S, c, r2).mul(beta);
      c21 = FloatVector.fromArray(S, c, r2 + L).mul(beta);
      c30 = FloatVector.fromArray(S, c, r3).mul(beta);
      c31 = FloatVector.fromArray(S, c, r3 + L).mul(beta);
      c40 = FloatVector.fromArray(S, c, r4).mul(beta);
      c41 = FloatVector.fromArray(S, c, r4 + L).mul(beta);
      c50 = FloatVector.fromArray(S, c, r5).mul(beta);
      c51 = FloatVector.fromArray(S, c, r5 + L).mul(beta);
      c60 = FloatVector.fromArray(S, c, r6).mul(beta);
      c61 = FloatVector.fromArray(S, c, r6 + L).mul(beta);
      c70 = FloatVector.fromArray(S, c, r7).mul(beta);
      c71 = FloatVector.fromArray(S, c, r7 + L).mul(beta);
    }
    for (int p = 0; p < kc; p++) {
      int bp = bo + p * NR;
      FloatVector b0 = FloatVector.fromArray(S, pb, bp);
      FloatVector b1 = FloatVector.fromArray(S, pb, bp + L);
      int ap = ao + p * MR;
      FloatVector a = FloatVector.broadcast(S, pa[ap]);
      c00 = b0.fma(a, c00);
      c01 = b1.fma(a, c01);
      a = FloatVector.broadcast(S, pa[ap + 1]);
      c10 = b0.fma(a, c10);
      c11 = b1.fma(a, c11);
      a = FloatVector.broadcast(S, pa[ap + 2]);
      c20 = b0.fma(a, c20);
      c21 = b1.fma(a, c21);
      a = FloatVector.broadcast(S, pa[ap + 3]);
      c30 = b0.fma(a, c30);
      c31 = b1.fma(a, c31);
      a = FloatVector.broadcast(S, pa[ap + 4]);
      c40 = b0.fma(a, c40);
      c41 = b1.fma(a, c41);
      a = FloatVector.broadcast(S, pa[ap + 5]);
      c50 = b0.fma(a, c50);
      c51 = b1.fma(a, c51);
      a = FloatVector.broadcast(S, pa[ap + 6]);
      c60 = b0.fma(a, c60);
      c61 = b1.fma(a, c61);
      a = FloatVector.broadcast(S, pa[ap + 7]);
      c70 = b0.fma(a, c70);
      c71 = b1.fma(a, c71);
    }
    c00.intoArray(c, r0);
    c01.intoArray(c, r0 + L);
    c10.intoArray(c, r1);
    c11.intoArray(c, r1 + L);
    c20.intoArray(c, r2);
    c21.intoArray(c, r2 + L);
    c30.intoArray(c, r3);
    c31.intoArray(c, r3 + L);
    c40.intoArray(c, r4);
    c41.intoArray(c, r4 + L);
    c50.intoArray(c, r5);
    c51.intoArray(c, r5 + L);
    c60.intoArray(c, r6);
    c61.intoArray(c, r6 + L);
    c70.intoArray(c, r7);
    c71.intoArray(c, r7 + L);
  }

  /**
   * A partial tile at the matrix edge: the vector micro-kernel runs into a full-size scratch tile
   * (packed panels are zero-padded), and only the valid part is written back.
   */
  private static void edge(
      int kc,
      float[] pa,
      int ao,
      float[] pb,
      int bo,
      float[] c,
      int co,
      int ldc,
      int mr,
      int nr,
      float beta,
      float[] tile) {
    micro(kc, pa, ao, pb, bo, tile, 0, NR, 0f);
    for (int i = 0; i < mr; i++) {
      int ci = co + i * ldc;
      int ti = i * NR;
      if (beta == 0f) {
        System.arraycopy(tile, ti, c, ci, nr);
      } else {
        for (int j = 0; j < nr; j++) {
          c[ci + j] = tile[ti + j] + beta * c[ci + j];
        }
      }
    }
  }
}
