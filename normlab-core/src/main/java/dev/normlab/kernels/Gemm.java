package dev.normlab.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Single-precision GEMM, row-major: {@code C = alpha * op(A) * op(B) + beta * C}.
 *
 * <p>Blocked and packed in the BLIS manner: B is packed into KC x NR panels, A into MR x KC panels,
 * and a register-tiled FMA micro-kernel runs over them: 5 x 2 vectors where the CPU has 16 vector
 * registers (AVX2), 8 x 3 where its vectors hold 16 floats and it has 32 (AVX-512). Work is split
 * over column panels across {@link Parallel} threads; the split depends only on the sizes and
 * thread count, so results are reproducible. {@link GemmReference} is the scalar twin.
 */
public final class Gemm {
  private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
  private static final int L = S.length();

  /**
   * Whether to use the 8 x 3-vector tile: 24 accumulators, three B loads and eight broadcasts per
   * 24 FMAs, against the 5 x 2 tile's two and five per 10. With AVX-512's 32 registers it fits, and
   * on one thread over L1-resident panels it ran 10-40% faster than 5 x 2 (a probe alternating the
   * two in one process; 6 x 4 and 12 x 2 were as fast, but 8 rows and 48 columns divide the CNN's
   * 32 and 64 channels and its 144 tiles a plane).
   */
  static final boolean WIDE = L >= 16;

  static final int MR = WIDE ? 8 : 5;
  static final int NR = (WIDE ? 3 : 2) * L;
  private static final int KC = 256;
  private static final int MC = 120;

  /** A multiple of NR: panels start on NC boundaries (the channels-last unfolding relies on it). */
  private static final int NC = 1024 / NR * NR;

  /** Below this many multiply-adds a product runs on the calling thread. */
  private static final long PARALLEL_WORK = 1L << 20;

  private static final ThreadLocal<float[]> PACK_A =
      ThreadLocal.withInitial(() -> new float[MC * KC]);
  private static final ThreadLocal<float[]> PACK_B =
      ThreadLocal.withInitial(() -> new float[KC * NC]);

  /**
   * Where the scratch tile starts in its array: 128 bytes of padding on each side keep two threads'
   * tiles, written by every micro-kernel call, off shared cache lines.
   */
  private static final int T0 = 32;

  private static final ThreadLocal<float[]> TILE =
      ThreadLocal.withInitial(() -> new float[T0 + MR * NR + T0]);

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
    int threads = work < PARALLEL_WORK ? 1 : Parallel.threads();
    PanelPacker packer =
        (pc, kc, kp, jc, nc, pb) -> packB(transB, b, bOff, ldb, pc, kc, kp, jc, nc, pb);
    int rowTiles = (m + MR - 1) / MR;
    if (threads > 1 && ceilDiv(rowTiles, threads) * panels < ceilDiv(panels, threads) * rowTiles) {
      // Too few column panels to share out (a linear layer's 128 outputs are 3 panels of 48 on 2
      // threads: one thread had twice the other's work): the threads take row tiles instead, each
      // packing all of B. Every element of C still adds its k in the same order: the same bits.
      Parallel.forRange(
          rowTiles,
          1,
          (t0, t1) -> {
            int i0 = t0 * MR;
            int rows = Math.min(m, t1 * MR) - i0;
            int ao = aOff + (transA ? i0 : i0 * lda);
            range(transA, rows, k, alpha, a, ao, lda, packer, beta, c, cOff + i0 * ldc, ldc, 0, n);
          });
      return;
    }
    int grain = work < PARALLEL_WORK ? panels : Math.max(1, panels / Parallel.threads());
    Parallel.forRange(
        panels,
        grain,
        (p0, p1) -> {
          int j0 = p0 * NR;
          int j1 = Math.min(n, p1 * NR);
          range(transA, m, k, alpha, a, aOff, lda, packer, beta, c, cOff, ldc, j0, j1);
        });
  }

  /**
   * Packs B[pc..pc+kc, jc..jc+nc] into NR-wide panels of kp rows, zero-padded (kp - kc rows and the
   * columns past nc): the layout {@link #micro} reads.
   */
  interface PanelPacker {
    void pack(int pc, int kc, int kp, int jc, int nc, float[] pb);
  }

  /**
   * {@code C[m,n] = A[m,k] * B[k,n] + beta * C} on the calling thread, with B never stored: its
   * panels come from {@code packB} (the convolution weight gradient packs its unfolded input
   * straight from the image). A is row-major and not transposed.
   */
  static void sgemmPackedB(
      int m,
      int n,
      int k,
      float[] a,
      int aOff,
      int lda,
      PanelPacker packB,
      float beta,
      float[] c,
      int cOff,
      int ldc) {
    if (m > 0 && n > 0 && k > 0) {
      range(false, m, k, 1f, a, aOff, lda, packB, beta, c, cOff, ldc, 0, n);
    }
  }

  /** Length of {@link #packA}'s output for an m x k matrix: MR-tall panels of k columns. */
  static int packedASize(int m, int k) {
    return (m + MR - 1) / MR * MR * k;
  }

  /**
   * Packs a row-major m x k matrix A (k even, at most KC) once for {@link #sgemmPackedA}: a product
   * with the same A over many right-hand sides (Winograd's transformed filters) then skips packing
   * it again.
   */
  static void packA(int m, int k, float[] a, int aOff, int lda, float[] pa, int paOff) {
    checkPrepackable(k);
    packA(false, a, aOff, lda, 0, m, 0, k, k, 1f, pa, paOff);
  }

  /**
   * {@code C[m,n] = A * B} on the calling thread, with A packed by {@link #packA(int, int, float[],
   * int, int, float[], int)} and B read in place, row-major with row stride ldb: the micro-kernel
   * reads its NR-wide panels straight from B's rows, so no copy of B is made. B's rows must hold
   * whole panels, n rounded up to a multiple of {@link #NR} columns; the values past column n only
   * reach columns of the tile that are not stored.
   */
  static void sgemmPackedA(
      int m,
      int n,
      int k,
      float[] pa,
      int paOff,
      float[] b,
      int bOff,
      int ldb,
      float[] c,
      int cOff,
      int ldc) {
    checkPrepackable(k);
    int np = (n + NR - 1) / NR * NR;
    if (ldb < np || bOff + (long) (k - 1) * ldb + np > b.length) {
      throw new IllegalArgumentException(
          "sgemmPackedA: B rows must hold " + np + " columns (ldb=" + ldb + ")");
    }
    float[] tile = TILE.get();
    // rows of tiles, as in range(): M is written along its rows
    for (int ir = 0; ir < m; ir += MR) {
      int mr = Math.min(MR, m - ir);
      for (int jr = 0; jr < n; jr += NR) {
        int nr = Math.min(NR, n - jr);
        int co = cOff + ir * ldc + jr;
        if (mr == MR && nr == NR) {
          microStrided(k, pa, paOff + ir * k, b, bOff + jr, ldb, c, co, ldc);
        } else {
          microStrided(k, pa, paOff + ir * k, b, bOff + jr, ldb, tile, T0, NR);
          storeEdge(tile, c, co, ldc, mr, nr, 0f);
        }
      }
    }
  }

  private static void checkPrepackable(int k) {
    if (!prepackable(k)) {
      throw new IllegalArgumentException("packed A needs an even k in [2, " + KC + "], got " + k);
    }
  }

  /** Whether {@link #sgemmPackedA} takes this inner dimension. */
  static boolean prepackable(int k) {
    return k > 0 && k <= KC && (k & 1) == 0;
  }

  private static void range(
      boolean transA,
      int m,
      int k,
      float alpha,
      float[] a,
      int aOff,
      int lda,
      PanelPacker packB,
      float beta,
      float[] c,
      int cOff,
      int ldc,
      int j0,
      int j1) {
    float[] pa = PACK_A.get();
    float[] pb = PACK_B.get();
    float[] tile = TILE.get();
    for (int jc = j0; jc < j1; jc += NC) {
      int nc = Math.min(NC, j1 - jc);
      for (int pc = 0; pc < k; pc += KC) {
        int kc = Math.min(KC, k - pc);
        int kp = (kc + 1) & ~1; // the micro-kernel steps k by two; packing pads with zeros
        packB.pack(pc, kc, kp, jc, nc, pb);
        float betaEff = pc == 0 ? beta : 1f;
        for (int ic = 0; ic < m; ic += MC) {
          int mc = Math.min(MC, m - ic);
          packA(transA, a, aOff, lda, ic, mc, pc, kc, kp, alpha, pa, 0);
          // rows of tiles: C is written along its rows (a stream the prefetcher follows), the A
          // panel stays in L1 and B's panels come from L2 (4-6% faster than columns of tiles,
          // whose C tiles, rows ldc apart, missed in cache)
          for (int ir = 0; ir < mc; ir += MR) {
            int mr = Math.min(MR, mc - ir);
            for (int jr = 0; jr < nc; jr += NR) {
              int nr = Math.min(NR, nc - jr);
              int co = cOff + (ic + ir) * ldc + jc + jr;
              micro(kp, pa, ir * kp, pb, jr * kp, tile);
              if (mr == MR && nr == NR) {
                storeTile(tile, c, co, ldc, betaEff);
              } else {
                storeEdge(tile, c, co, ldc, mr, nr, betaEff);
              }
            }
          }
        }
      }
    }
  }

  private static int ceilDiv(int a, int b) {
    return (a + b - 1) / b;
  }

  /** Packs B[pc..pc+kc, jc..jc+nc] into NR-wide panels of kp rows, zero-padded. */
  private static void packB(
      boolean trans,
      float[] b,
      int bOff,
      int ldb,
      int pc,
      int kc,
      int kp,
      int jc,
      int nc,
      float[] pb) {
    for (int jr = 0; jr < nc; jr += NR) {
      int w = Math.min(NR, nc - jr);
      int base = jr * kp;
      if (kp > kc) {
        java.util.Arrays.fill(pb, base + kc * NR, base + kp * NR, 0f);
      }
      if (trans) {
        // column j of the panel is row jc+jr+j of B. A vector of the panel's row p gathers element
        // p of L consecutive rows of B (2.2x faster than copying each row of B to a column of the
        // panel element by element, which left a linear layer's forward at half the speed of its
        // two gradients' products); the columns past the last whole vector go one by one.
        int[] rowsApart = gatherIndex(ldb);
        int whole = w / L * L;
        for (int j = 0; j < whole; j += L) {
          int src = bOff + (jc + jr + j) * ldb + pc;
          for (int p = 0, dst = base + j; p < kc; p++, dst += NR) {
            FloatVector.fromArray(S, b, src + p, rowsApart, 0).intoArray(pb, dst);
          }
        }
        for (int j = whole; j < w; j++) {
          int src = bOff + (jc + jr + j) * ldb + pc;
          for (int p = 0, dst = base + j; p < kc; p++, dst += NR) {
            pb[dst] = b[src + p];
          }
        }
        for (int j = w; j < NR; j++) {
          for (int p = 0, dst = base + j; p < kc; p++, dst += NR) {
            pb[dst] = 0f;
          }
        }
        continue;
      }
      for (int p = 0; p < kc; p++) {
        int dst = base + p * NR;
        if (w == NR) {
          copyPanelRow(b, bOff + (pc + p) * ldb + jc + jr, pb, dst);
        } else {
          System.arraycopy(b, bOff + (pc + p) * ldb + jc + jr, pb, dst, w);
        }
        if (w < NR) {
          java.util.Arrays.fill(pb, dst + w, dst + NR, 0f);
        }
      }
    }
  }

  private static final ThreadLocal<int[]> GATHER_INDEX = ThreadLocal.withInitial(() -> new int[L]);

  /** This thread's gather index {@code {0, ld, 2 ld, ...}} (L entries): one element per row. */
  private static int[] gatherIndex(int ld) {
    int[] index = GATHER_INDEX.get();
    if (index[1] != ld) {
      for (int l = 0; l < L; l++) {
        index[l] = l * ld;
      }
    }
    return index;
  }

  /**
   * Copies NR floats from src[from..] to a packed panel row at pb[dst..], vector by vector:
   * System.arraycopy's call costs more than a copy this short.
   */
  static void copyPanelRow(float[] src, int from, float[] pb, int dst) {
    for (int v = 0; v < NR; v += L) {
      FloatVector.fromArray(S, src, from + v).intoArray(pb, dst + v);
    }
  }

  /** Packs alpha * A[ic..ic+mc, pc..pc+kc] into MR-tall panels of kp columns, zero-padded. */
  private static void packA(
      boolean trans,
      float[] a,
      int aOff,
      int lda,
      int ic,
      int mc,
      int pc,
      int kc,
      int kp,
      float alpha,
      float[] pa,
      int paOff) {
    for (int ir = 0; ir < mc; ir += MR) {
      int h = Math.min(MR, mc - ir);
      int base = paOff + ir * kp;
      if (kp > kc || h < MR) {
        java.util.Arrays.fill(pa, base, base + kp * MR, 0f);
      }
      if (!trans) {
        // rows of A become columns of the panel (a scatter; plain stores beat AVX2's emulated one)
        for (int i = 0; i < h; i++) {
          int src = aOff + (ic + ir + i) * lda + pc;
          int dst = base + i;
          for (int p = 0; p < kc; p++) {
            pa[dst + p * MR] = alpha * a[src + p];
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
    }
  }

  /**
   * The 5 x 2-vector register tile: 10 accumulators started from zero, one pass over kc (even: the
   * packing pads it), then stored to the scratch tile; {@link #storeTile} adds beta*C. Alpha is
   * folded into the packed A. The k loop is unrolled by two as a nested loop, and C2 schedules the
   * second step's two B loads before the first step's FMAs: with 10 accumulators that still fits
   * the 16 vector registers. The 6 x 2 tile (12 accumulators) did not: C2 spilled those two B
   * vectors to the stack and reloaded them in every step, and on some call paths (SGEMM from
   * KernelBench's main thread, in most processes; the old beta branch here) that kernel ran at a
   * quarter of its speed for the whole process, the same compiled code on other threads at full
   * speed. With no spills the slow mode is gone; why a spill's cost depended on the path (the stack
   * slot's place is our guess) is not measured: this VM exposes no hardware counters. Everything
   * stays in one method so that C2 keeps the accumulators in registers (a call taking vectors would
   * box them).
   */
  private static void micro(int kc, float[] pa, int ao, float[] pb, int bo, float[] tile) {
    if (WIDE) {
      micro8x3(kc, pa, ao, pb, bo, NR, tile, T0, NR);
      return;
    }
    FloatVector c00, c01, c10, c11, c20, c21, c30, c31, c40, c41;
    FloatVector z = FloatVector.zero(S);
    c00 = z;
    c01 = z;
    c10 = z;
    c11 = z;
    c20 = z;
    c21 = z;
    c30 = z;
    c31 = z;
    c40 = z;
    c41 = z;
    for (int p = 0; p < kc; p += 2) {
      for (int q = 0; q < 2; q++) {
        int bp = bo + (p + q) * NR;
        FloatVector b0 = FloatVector.fromArray(S, pb, bp);
        FloatVector b1 = FloatVector.fromArray(S, pb, bp + L);
        int ap = ao + (p + q) * MR;
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
      }
    }
    c00.intoArray(tile, T0);
    c01.intoArray(tile, T0 + L);
    c10.intoArray(tile, T0 + NR);
    c11.intoArray(tile, T0 + NR + L);
    c20.intoArray(tile, T0 + 2 * NR);
    c21.intoArray(tile, T0 + 2 * NR + L);
    c30.intoArray(tile, T0 + 3 * NR);
    c31.intoArray(tile, T0 + 3 * NR + L);
    c40.intoArray(tile, T0 + 4 * NR);
    c41.intoArray(tile, T0 + 4 * NR + L);
  }

  /**
   * {@link #micro} for {@link #sgemmPackedA}: B read in place, its rows {@code ldb} apart, and the
   * tile stored straight into C (five rows {@code ldc} apart). A copy rather than parameters of
   * micro: with the strides as arguments C2 compiled the packed path 15-25% slower (SGEMM 1024 and
   * the conv2 weight gradient, measured against the constant-stride version in alternating runs).
   */
  private static void microStrided(
      int kc, float[] pa, int ao, float[] b, int bo, int ldb, float[] c, int co, int ldc) {
    if (WIDE) {
      micro8x3(kc, pa, ao, b, bo, ldb, c, co, ldc);
      return;
    }
    FloatVector c00, c01, c10, c11, c20, c21, c30, c31, c40, c41;
    FloatVector z = FloatVector.zero(S);
    c00 = z;
    c01 = z;
    c10 = z;
    c11 = z;
    c20 = z;
    c21 = z;
    c30 = z;
    c31 = z;
    c40 = z;
    c41 = z;
    for (int p = 0; p < kc; p += 2) {
      for (int q = 0; q < 2; q++) {
        int bp = bo + (p + q) * ldb;
        FloatVector b0 = FloatVector.fromArray(S, b, bp);
        FloatVector b1 = FloatVector.fromArray(S, b, bp + L);
        int ap = ao + (p + q) * MR;
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
      }
    }
    c00.intoArray(c, co);
    c01.intoArray(c, co + L);
    c10.intoArray(c, co + ldc);
    c11.intoArray(c, co + ldc + L);
    c20.intoArray(c, co + 2 * ldc);
    c21.intoArray(c, co + 2 * ldc + L);
    c30.intoArray(c, co + 3 * ldc);
    c31.intoArray(c, co + 3 * ldc + L);
    c40.intoArray(c, co + 4 * ldc);
    c41.intoArray(c, co + 4 * ldc + L);
  }

  /**
   * The 8 x 3-vector tile for {@link #WIDE}: B rows {@code ldb} apart, C rows {@code ldc} apart
   * (for {@link #micro}, the scratch tile). Alpha is folded into the packed A.
   */
  private static void micro8x3(
      int kc, float[] pa, int ao, float[] b, int bo, int ldb, float[] c, int co, int ldc) {
    FloatVector z = FloatVector.zero(S);
    FloatVector c00 = z, c01 = z, c02 = z;
    FloatVector c10 = z, c11 = z, c12 = z;
    FloatVector c20 = z, c21 = z, c22 = z;
    FloatVector c30 = z, c31 = z, c32 = z;
    FloatVector c40 = z, c41 = z, c42 = z;
    FloatVector c50 = z, c51 = z, c52 = z;
    FloatVector c60 = z, c61 = z, c62 = z;
    FloatVector c70 = z, c71 = z, c72 = z;
    for (int p = 0; p < kc; p++) {
      int bp = bo + p * ldb;
      FloatVector b0 = FloatVector.fromArray(S, b, bp);
      FloatVector b1 = FloatVector.fromArray(S, b, bp + L);
      FloatVector b2 = FloatVector.fromArray(S, b, bp + 2 * L);
      int ap = ao + p * MR;
      FloatVector a;
      a = FloatVector.broadcast(S, pa[ap]);
      c00 = b0.fma(a, c00);
      c01 = b1.fma(a, c01);
      c02 = b2.fma(a, c02);
      a = FloatVector.broadcast(S, pa[ap + 1]);
      c10 = b0.fma(a, c10);
      c11 = b1.fma(a, c11);
      c12 = b2.fma(a, c12);
      a = FloatVector.broadcast(S, pa[ap + 2]);
      c20 = b0.fma(a, c20);
      c21 = b1.fma(a, c21);
      c22 = b2.fma(a, c22);
      a = FloatVector.broadcast(S, pa[ap + 3]);
      c30 = b0.fma(a, c30);
      c31 = b1.fma(a, c31);
      c32 = b2.fma(a, c32);
      a = FloatVector.broadcast(S, pa[ap + 4]);
      c40 = b0.fma(a, c40);
      c41 = b1.fma(a, c41);
      c42 = b2.fma(a, c42);
      a = FloatVector.broadcast(S, pa[ap + 5]);
      c50 = b0.fma(a, c50);
      c51 = b1.fma(a, c51);
      c52 = b2.fma(a, c52);
      a = FloatVector.broadcast(S, pa[ap + 6]);
      c60 = b0.fma(a, c60);
      c61 = b1.fma(a, c61);
      c62 = b2.fma(a, c62);
      a = FloatVector.broadcast(S, pa[ap + 7]);
      c70 = b0.fma(a, c70);
      c71 = b1.fma(a, c71);
      c72 = b2.fma(a, c72);
    }
    c00.intoArray(c, co);
    c01.intoArray(c, co + L);
    c02.intoArray(c, co + 2 * L);
    c10.intoArray(c, co + ldc);
    c11.intoArray(c, co + ldc + L);
    c12.intoArray(c, co + ldc + 2 * L);
    c20.intoArray(c, co + 2 * ldc);
    c21.intoArray(c, co + 2 * ldc + L);
    c22.intoArray(c, co + 2 * ldc + 2 * L);
    c30.intoArray(c, co + 3 * ldc);
    c31.intoArray(c, co + 3 * ldc + L);
    c32.intoArray(c, co + 3 * ldc + 2 * L);
    c40.intoArray(c, co + 4 * ldc);
    c41.intoArray(c, co + 4 * ldc + L);
    c42.intoArray(c, co + 4 * ldc + 2 * L);
    c50.intoArray(c, co + 5 * ldc);
    c51.intoArray(c, co + 5 * ldc + L);
    c52.intoArray(c, co + 5 * ldc + 2 * L);
    c60.intoArray(c, co + 6 * ldc);
    c61.intoArray(c, co + 6 * ldc + L);
    c62.intoArray(c, co + 6 * ldc + 2 * L);
    c70.intoArray(c, co + 7 * ldc);
    c71.intoArray(c, co + 7 * ldc + L);
    c72.intoArray(c, co + 7 * ldc + 2 * L);
  }

  /** C[MR x NR tile at co] = tile + beta * C (C ignored when beta is 0). */
  private static void storeTile(float[] tile, float[] c, int co, int ldc, float beta) {
    for (int i = 0; i < MR; i++) {
      int ci = co + i * ldc;
      int ti = T0 + i * NR;
      for (int v = 0; v < NR; v += L) {
        FloatVector t = FloatVector.fromArray(S, tile, ti + v);
        if (beta == 0f) {
          t.intoArray(c, ci + v);
        } else {
          FloatVector.fromArray(S, c, ci + v).mul(beta).add(t).intoArray(c, ci + v);
        }
      }
    }
  }

  /**
   * A partial tile at the matrix edge: the micro-kernel ran over zero-padded panels into the full
   * scratch tile; only its valid mr x nr part goes to C.
   */
  private static void storeEdge(
      float[] tile, float[] c, int co, int ldc, int mr, int nr, float beta) {
    for (int i = 0; i < mr; i++) {
      int ci = co + i * ldc;
      int ti = T0 + i * NR;
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
