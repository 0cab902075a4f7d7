package dev.normlab.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Elementwise kernels over strided runs: {@code out[o + i] = a[ao + i*as] OP b[bo + i*bs]} for
 * {@code i < len}. Stride 0 means a broadcast operand. The contiguous case uses the Vector API.
 */
public final class Elementwise {
  private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
  private static final VectorSpecies<Float> HALF =
      S.length() >= 8
          ? VectorSpecies.of(float.class, VectorShape.forBitSize(S.vectorBitSize() / 2))
          : S;

  /** A binary operator. */
  public enum Op {
    ADD,
    SUB,
    MUL,
    DIV,
    MAX,
    MIN
  }

  private Elementwise() {}

  /**
   * One strided run of {@code op}. A contiguous run, or one with a broadcast side, takes the Vector
   * API: a broadcast side is read as a vector of its value from a small array, so that one loop
   * serves all three. The operator is switched on inside the loop rather than in a helper taking
   * vectors: such a helper, compiled by C2 on its own, sees only the abstract {@code FloatVector}
   * and boxes every vector (see {@code Winograd.foldInto}).
   */
  public static void binary(
      Op op, float[] a, int ao, int as, float[] b, int bo, int bs, float[] out, int oo, int len) {
    int i = 0;
    if ((as == 1 || as == 0) && (bs == 1 || bs == 0) && (as | bs) == 1) {
      float[] va = as == 1 ? a : filled(a[ao]);
      float[] vb = bs == 1 ? b : filled(b[bo]);
      int oa = as == 1 ? ao : 0;
      int ob = bs == 1 ? bo : 0;
      for (int up = S.loopBound(len); i < up; i += S.length()) {
        var x = FloatVector.fromArray(S, va, oa + i * as);
        var y = FloatVector.fromArray(S, vb, ob + i * bs);
        var r =
            switch (op) {
              case ADD -> x.add(y);
              case SUB -> x.sub(y);
              case MUL -> x.mul(y);
              case DIV -> x.div(y);
              case MAX -> x.lanewise(VectorOperators.MAX, y);
              case MIN -> x.lanewise(VectorOperators.MIN, y);
            };
        r.intoArray(out, oo + i);
      }
    }
    for (; i < len; i++) {
      out[oo + i] = scalar(op, a[ao + i * as], b[bo + i * bs]);
    }
  }

  /** A vector's worth of {@code v}. */
  private static float[] filled(float v) {
    float[] f = new float[S.length()];
    java.util.Arrays.fill(f, v);
    return f;
  }

  /** The scalar definition of each operator (also the reference for tests). */
  public static float scalar(Op op, float x, float y) {
    return switch (op) {
      case ADD -> x + y;
      case SUB -> x - y;
      case MUL -> x * y;
      case DIV -> x / y;
      case MAX -> Float.isNaN(x) || Float.isNaN(y) ? Float.NaN : Math.max(x, y);
      case MIN -> Float.isNaN(x) || Float.isNaN(y) ? Float.NaN : Math.min(x, y);
    };
  }

  /** {@code y[i] = alpha * x[i] + y[i]}. */
  public static void axpy(int n, float alpha, float[] x, int xo, float[] y, int yo) {
    int i = 0;
    var va = FloatVector.broadcast(S, alpha);
    for (int up = S.loopBound(n); i < up; i += S.length()) {
      FloatVector.fromArray(S, x, xo + i)
          .fma(va, FloatVector.fromArray(S, y, yo + i))
          .intoArray(y, yo + i);
    }
    if (n - i >= HALF.length() && HALF.length() < S.length()) {
      // a half-width step for short rows (col2im adds rows of 24 = 16 + 8)
      FloatVector.fromArray(HALF, x, xo + i)
          .fma(FloatVector.broadcast(HALF, alpha), FloatVector.fromArray(HALF, y, yo + i))
          .intoArray(y, yo + i);
      i += HALF.length();
    }
    for (; i < n; i++) {
      y[yo + i] = Math.fma(alpha, x[xo + i], y[yo + i]);
    }
  }

  /** {@code out[i] = x[i] * alpha + beta}. */
  public static void scaleShift(
      int n, float[] x, int xo, float alpha, float beta, float[] out, int oo) {
    int i = 0;
    var va = FloatVector.broadcast(S, alpha);
    var vb = FloatVector.broadcast(S, beta);
    for (int up = S.loopBound(n); i < up; i += S.length()) {
      FloatVector.fromArray(S, x, xo + i).fma(va, vb).intoArray(out, oo + i);
    }
    for (; i < n; i++) {
      out[oo + i] = x[xo + i] * alpha + beta;
    }
  }

  /** {@code out[i] = max(x[i], 0)} over {@code [from, to)}. */
  public static void relu(float[] x, float[] out, int from, int to) {
    int i = from;
    var zero = FloatVector.zero(S);
    for (int up = from + S.loopBound(to - from); i < up; i += S.length()) {
      FloatVector.fromArray(S, x, i).lanewise(VectorOperators.MAX, zero).intoArray(out, i);
    }
    for (; i < to; i++) {
      out[i] = Math.max(x[i], 0f); // the vectors' MAX: a NaN stays NaN, as PyTorch's relu
    }
  }

  /**
   * The backward of (leaky) relu: {@code gx[i] = ref[i] > 0 ? g[i] : slope * g[i]} over {@code
   * [from, to)}.
   */
  public static void reluBackward(
      float[] g, float[] ref, float slope, float[] gx, int from, int to) {
    int i = from;
    var zero = FloatVector.zero(S);
    for (int up = from + S.loopBound(to - from); i < up; i += S.length()) {
      var gv = FloatVector.fromArray(S, g, i);
      var pos = FloatVector.fromArray(S, ref, i).compare(VectorOperators.GT, zero);
      gv.mul(slope).blend(gv, pos).intoArray(gx, i);
    }
    for (; i < to; i++) {
      gx[i] = ref[i] > 0 ? g[i] : g[i] * slope;
    }
  }

  /** {@code out[i] = a[i] * b[i]} over {@code [from, to)}. */
  public static void mul(float[] a, float[] b, float[] out, int from, int to) {
    int i = from;
    for (int up = from + S.loopBound(to - from); i < up; i += S.length()) {
      FloatVector.fromArray(S, a, i).mul(FloatVector.fromArray(S, b, i)).intoArray(out, i);
    }
    for (; i < to; i++) {
      out[i] = a[i] * b[i];
    }
  }

  /**
   * The sum of {@code x[off, off+len)} in double: float vector lanes over blocks of 1024 elements
   * (short enough that float partial sums stay accurate), each block's lanes added in double.
   */
  public static double sum(float[] x, int off, int len) {
    double total = 0;
    int end = off + len;
    float[] tmp = new float[S.length()];
    for (int b = off; b < end; b += 1024) {
      int be = Math.min(end, b + 1024);
      int i = b;
      var acc = FloatVector.zero(S);
      for (int up = b + S.loopBound(be - b); i < up; i += S.length()) {
        acc = acc.add(FloatVector.fromArray(S, x, i));
      }
      acc.intoArray(tmp, 0);
      double block = Lanes.sum(tmp);
      for (; i < be; i++) {
        block += x[i];
      }
      total += block;
    }
    return total;
  }
}
