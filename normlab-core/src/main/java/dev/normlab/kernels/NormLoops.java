package dev.normlab.kernels;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The vector loops {@link NormKernels} is made of: one pass over one row, channel or block of
 * columns each, no threads. Their arithmetic is what the norms' results are pinned to: sums of
 * {@code x - K} in float blocks of {@link #FLUSH} vectors whose lanes are added into double in lane
 * and block order (or in any order where that is provably exact, {@link #sumBlocks}), and y and dx
 * from the mean split in two floats. Loops that do two things in one pass (this row's y and the
 * next row's sums; four rows under one weight) give each result the bits of the single loops, so
 * that the strategy choosing them never moves a bit ({@code NormKernelsTest}, {@code
 * NormSumsArithmeticTest}).
 */
final class NormLoops {
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

  private NormLoops() {}

  /**
   * Scratch for {@link #sums} and {@link #gradSums} over rows of up to {@code len} floats: two
   * vectors of partial sums per block of {@link #FLUSH} vectors.
   */
  static float[] partials(int len) {
    return new float[partialsLength(len)];
  }

  private static int partialsLength(int len) {
    return 2 * L * (len / (FLUSH * L) + 1);
  }

  /**
   * How many scratch arrays a thread keeps: four rows' sums at once ({@link #elemGradSumsQuad}).
   */
  static final int SCRATCH_SLOTS = 4;

  /** The scratch arrays each thread keeps for {@link #threadPartials}, by slot. */
  private static final ThreadLocal<float[][]> ROW_SCRATCH =
      ThreadLocal.withInitial(() -> new float[SCRATCH_SLOTS][]);

  /**
   * {@link #partials} for rows of up to {@code len}, kept by the calling thread in {@code slot}
   * (below {@link #SCRATCH_SLOTS}) for its next call, for the sums of rows too long for cache
   * (Layer Norm over 64×128×128: 512 KB of scratch a row), which otherwise take a fresh array,
   * zeroed, each call: 3–5 % off that forward and about 5 % off its forward+backward, whose four
   * rows' sums took four such arrays (both versions in one process, 2026-12-04). One loop at a time
   * per slot on this thread; what it holds is whatever the last one left, and the sums write each
   * block's lanes before they read them. Scratch longer than {@link #KEPT_SCRATCH_MAX} is not kept.
   */
  static float[] threadPartials(int len, int slot) {
    int need = partialsLength(len);
    if (need > KEPT_SCRATCH_MAX) {
      return new float[need];
    }
    float[][] kept = ROW_SCRATCH.get();
    if (kept[slot] == null || kept[slot].length < need) {
      kept[slot] = new float[need];
    }
    return kept[slot];
  }

  /**
   * The longest scratch a thread keeps, in floats (4 MB: rows of up to 8M values): a thread holds
   * up to {@link #SCRATCH_SLOTS} of them for as long as it lives.
   */
  static final int KEPT_SCRATCH_MAX = 1 << 20;

  /**
   * acc[0] += sum(d), acc[1] += sum(d^2) with d = (x - hi) - lo. {@code part} is scratch from
   * {@link #partials} for at least {@code len}.
   */
  static void sums(float[] x, int off, int len, float hi, float lo, double[] acc, float[] part) {
    var vh = FloatVector.broadcast(S, hi);
    int up2 = len - 2 * L + 1;
    int up = S.loopBound(len);
    // Each block's two lane vectors go to part and are added into double after the last block:
    // the vector loop no longer waits on the eight dependent additions of each block (the same
    // additions in the same order, so the same bits; 15% off the sums of a Group Norm group).
    // Whole blocks go two at a time first, each with its own chains (the same bits again).
    int i = sumsBlockPairs(x, off, len, vh, part);
    int p = i / (FLUSH * L) * 2 * L;
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
   * {@link #sums}' blocks two at a time, from the row's start while both are whole and followed by
   * at least two more vectors (so that neither takes the row's odd last vector): each block keeps
   * its own two chains, so its lane vectors are bit for bit those of {@link #sums}' loop, but the
   * core has four independent chains to overlap instead of two — 15 % off Layer Norm's forward over
   * 8×64×128×128, whose statistics pass had run at half a bare read's speed; no change on Group and
   * Instance Norm's short rows (2026-12-04). The same pairing in {@link #gradSums}, over Group
   * Norm's 576- and 676-value planes, was 7–14 % slower. Returns where it stopped, a multiple of
   * the block length; the blocks' lanes are at {@code part[0, 2L * stop / block)}.
   */
  private static int sumsBlockPairs(float[] x, int off, int len, FloatVector vh, float[] part) {
    final int block = FLUSH * L;
    int i = 0;
    int p = 0;
    for (; i + 2 * block <= len - 2 * L; i += 2 * block, p += 4 * L) {
      int j = off + i;
      int k = j + block;
      var a1 = FloatVector.zero(S);
      var a2 = FloatVector.zero(S);
      var b1 = FloatVector.zero(S);
      var b2 = FloatVector.zero(S);
      var c1 = FloatVector.zero(S);
      var c2 = FloatVector.zero(S);
      var e1 = FloatVector.zero(S);
      var e2 = FloatVector.zero(S);
      for (int t = 0; t < block; t += 2 * L) {
        var d = FloatVector.fromArray(S, x, j + t).sub(vh);
        var e = FloatVector.fromArray(S, x, j + t + L).sub(vh);
        var f = FloatVector.fromArray(S, x, k + t).sub(vh);
        var g = FloatVector.fromArray(S, x, k + t + L).sub(vh);
        a1 = a1.add(d);
        a2 = d.fma(d, a2);
        b1 = b1.add(e);
        b2 = e.fma(e, b2);
        c1 = c1.add(f);
        c2 = f.fma(f, c2);
        e1 = e1.add(g);
        e2 = g.fma(g, e2);
      }
      a1.add(b1).intoArray(part, p);
      a2.add(b2).intoArray(part, p + L);
      c1.add(e1).intoArray(part, p + 2 * L);
      c2.add(e2).intoArray(part, p + 3 * L);
    }
    return i;
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
  static void channelScales(
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
    int p = gradSumsBlocks(dy, x, off, len, hi, part, 0);
    finishGradSums(dy, x, off, len, S.loopBound(len), hi, lo, acc, part, p);
  }

  /**
   * {@link #gradSums}' vector loop: each block's two lane vectors (dy's and dy * (x - hi)'s) into
   * {@code part} from {@code base}; returns where the blocks end in part. The loop stops at {@code
   * S.loopBound(len)}, the scalar tail left to the caller.
   */
  private static int gradSumsBlocks(
      float[] dy, float[] x, int off, int len, float hi, float[] part, int base) {
    // hi as a float, broadcast here: a vector argument to a call C2 does not inline is boxed
    var vh = FloatVector.broadcast(S, hi);
    int i = 0;
    int up2 = len - 2 * L + 1;
    int up = S.loopBound(len);
    int p = base;
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
    return p;
  }

  /**
   * Scratch for {@link #channelGradSums} over {@code channels} channels of {@code inner} values:
   * each channel's blocks at a multiple of {@code partials(inner)}'s length.
   */
  static float[] channelPartials(int channels, int inner) {
    return new float[channels * partialsLength(inner)];
  }

  /**
   * {@link #gradSums} of each of a row's {@code channels} channels — channel j at {@code off + j *
   * inner}, {@code inner} values — into {@code s1[at + j]} (sum of dy) and {@code s2[at + j]} (sum
   * of dy * d), bitwise what {@code gradSums} into a zeroed acc gives. Group Norm's backward takes
   * a group's channels so: {@link #sumBlocks}' exactness test, two lane reductions per sum, is made
   * once for the row's lanes instead of once per channel. The row's largest and smallest lane bound
   * each channel's, so where the row's lanes pass the test (for one channel's lane count) every
   * channel's would, and each channel's lanes go in as vectors of doubles as sumBlocks would add
   * them; where not, each channel goes through sumBlocks itself. {@code part} is from {@link
   * #channelPartials}.
   */
  static void channelGradSums(
      float[] dy,
      float[] x,
      int off,
      int channels,
      int inner,
      float hi,
      float lo,
      float[] part,
      double[] s1,
      double[] s2,
      int at) {
    int stride = partialsLength(inner);
    int end = 0; // the blocks' end in each channel's part, the same for all
    for (int j = 0; j < channels; j++) {
      end = gradSumsBlocks(dy, x, off + j * inner, inner, hi, part, j * stride) - j * stride;
    }
    int lanes = end / 2;
    boolean exact1 = rowExact(part, channels, stride, end, 0, lanes);
    boolean exact2 = rowExact(part, channels, stride, end, L, lanes);
    int tail = S.loopBound(inner);
    for (int j = 0; j < channels; j++) {
      int base = j * stride;
      double t1 = exact1 ? laneSum(part, base + end, base) : sumBlocks(part, base + end, base);
      double t2 =
          exact2 ? laneSum(part, base + end, base + L) : sumBlocks(part, base + end, base + L);
      int o = off + j * inner;
      for (int i = tail; i < inner; i++) {
        double g = dy[o + i];
        t1 += g;
        t2 += g * (x[o + i] - hi);
      }
      // added into zeros, as gradSums adds into a zeroed acc (a -0.0 sum comes out +0.0)
      double acc0 = 0;
      double acc1 = 0;
      acc0 += t1;
      acc1 += t2 - lo * t1;
      s1[at + j] = acc0;
      s2[at + j] = acc1;
    }
  }

  /**
   * Whether the lanes of every channel's blocks at {@code part[j * stride + at + q]} (q = 0, 2L,
   * ... below {@code end}) pass {@link #sumBlocks}' exactness test as one set, for a channel's
   * {@code lanes}: finite, not all zero, and close enough in magnitude to add up exactly in any
   * order.
   */
  private static boolean rowExact(
      float[] part, int channels, int stride, int end, int at, int lanes) {
    var top = IntVector.zero(IS);
    var bottom = IntVector.broadcast(IS, Integer.MAX_VALUE);
    for (int j = 0; j < channels; j++) {
      for (int q = j * stride + at, e = j * stride + end; q < e; q += 2 * L) {
        var bits = FloatVector.fromArray(S, part, q).reinterpretAsInts().and(Integer.MAX_VALUE);
        top = top.max(bits);
        bottom = bottom.min(bits.sub(1).and(Integer.MAX_VALUE));
      }
    }
    int topBits = top.reduceLanes(VectorOperators.MAX);
    return topBits != 0
        && topBits < 0x7f800000
        && exactInAnyOrder(topBits, bottom.reduceLanes(VectorOperators.MIN) + 1, lanes);
  }

  /**
   * The lane vectors at {@code part[q]} for q = at, at + 2L, ... below {@code end} added as vectors
   * of doubles: {@link #sumBlocks}' result where its exactness test has passed. sumBlocks keeps its
   * own copy of this sum inside its one pass over the lanes: built from rowExact and this (two
   * passes), Instance Norm 64×32×26×26, whose rows are three blocks, ran 5–10 % slower
   * (2026-12-05).
   */
  private static double laneSum(float[] part, int end, int at) {
    var lower = DoubleVector.zero(DS);
    var upper = DoubleVector.zero(DS);
    for (int q = at; q < end; q += 2 * L) {
      var v = FloatVector.fromArray(S, part, q);
      lower = lower.add((DoubleVector) v.convertShape(VectorOperators.F2D, DS, 0));
      upper = upper.add((DoubleVector) v.convertShape(VectorOperators.F2D, DS, 1));
    }
    return lower.add(upper).reduceLanes(VectorOperators.ADD);
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
  static float foldedShift(float sh, float lo, float a) {
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
