package dev.normlab.bench;

import dev.normlab.kernels.Parallel;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The least time a normalization's forward+backward can take on this machine for its memory traffic
 * alone: whatever the layer, training reads x and writes y, then reads x and dy and writes dx. This
 * times exactly that traffic as two plain streams, each element touched once ({@code y = a*x + b},
 * then {@code dx = a*dy + (b*x + c)}), on the same number of elements, threads and reuse of arrays
 * as {@link NormBench}, and the forward's stream alone, called again and again as the cases'
 * forwards are. A real layer also needs its statistics and gradient sums, which read x (and dy)
 * once more; how far a layer's time is above this floor is what its kernels could still gain, and
 * half of PyTorch's time below it is a target the memory cannot meet.
 *
 * <p>{@link #twoPass} times that second read too: the shape every exact row normalization has
 * (Group, Instance and Layer Norm), with no arithmetic beyond plain sums. A row's values must all
 * be summed before any of its y (or dx) can be written, so each row is read once for its sums and
 * once more, from cache where the row fits, for its output.
 */
final class TrafficFloor {
  private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

  private TrafficFloor() {}

  /**
   * Milliseconds of the forward stream alone and of the forward stream plus the backward stream. A
   * forward cannot take less than the first: it must read x and write y, and Java's only stores
   * that skip the line's read for ownership are those of {@code System.arraycopy} calls over about
   * 2 MB, which cannot compute. Where PyTorch's forward takes less than twice it, no kernel on this
   * machine can be 2x PyTorch's. {@code twoPass}: {@link #twoPass}'s time, -1 for a case without
   * rows.
   */
  record Millis(double forward, double forwardBackward, double twoPass) {
    /** Each floor's lower time of the two measurements. */
    Millis lower(Millis other) {
      return new Millis(
          Math.min(forward, other.forward),
          Math.min(forwardBackward, other.forwardBackward),
          Math.min(twoPass, other.twoPass));
    }
  }

  /** A floor's inputs x and dy, filled, and its outputs y and dx, of n elements each. */
  private record Operands(float[] x, float[] dy, float[] y, float[] dx) {
    static Operands of(int n) {
      var a = new Operands(new float[n], new float[n], new float[n], new float[n]);
      for (int i = 0; i < n; i++) {
        a.x[i] = (i % 97) * 0.01f;
        a.dy[i] = (i % 89) * 0.01f - 0.4f;
      }
      return a;
    }

    /** Keeps the floors' results live: whatever wrote them cannot be left out. */
    void check(float extra) {
      if (Float.isNaN(y[y.length / 2] + dx[dx.length / 3] + extra)) {
        throw new AssertionError();
      }
    }
  }

  /**
   * The floors of {@code numel} elements, each the best of {@code reps} timed calls after 20
   * untimed ones; the two-pass floor for rows of {@code rowLen} values, or none (-1) where rowLen
   * is 0.
   */
  static Millis measure(int numel, int rowLen, int reps) {
    int n = S.loopBound(numel);
    Operands a = Operands.of(n);
    int vectors = n / S.length();
    int grain = (1 << 15) / S.length(); // vectors per work item: 32K elements, as the norm kernels
    Runnable forwardStream =
        () -> Parallel.forRange(vectors, grain, (f, t) -> forward(a.x, a.y, f, t));
    // the forward stream alone, call after call, as the cases' forwards are timed (x and y then
    // stay in cache between calls as theirs do); then the two streams in turn, as a training step
    double bestForward = bestMillis(reps, forwardStream);
    double best =
        bestMillis(
            reps,
            () -> {
              forwardStream.run();
              Parallel.forRange(vectors, grain, (f, t) -> backward(a.x, a.dy, a.dx, f, t));
            });
    a.check(0f);
    return new Millis(bestForward, best, rowLen > 0 ? twoPass(numel, rowLen, reps) : -1);
  }

  /**
   * Milliseconds of the least work a row normalization's forward+backward does in two passes, rows
   * of {@code rowLen} values ({@code numel} in all) split over the threads as the norm kernels
   * split them (each row cut to whole vectors): per row, the plain float sums of x and x², then y =
   * a·x + c; per row, the plain sums of dy and dy·x, then dx = a·dy + (b·x + c). The best of {@code
   * reps} timed calls after 20 untimed. The kernels' sums are exact to more digits (a shift, blocks
   * added into double) and their passes overlap where that was faster; this is the form without any
   * of it.
   */
  private static double twoPass(int numel, int rowLen, int reps) {
    int len = S.loopBound(rowLen);
    int rows = numel / rowLen;
    Operands a = Operands.of(rows * len);
    float[] rowSums = new float[2 * rows];
    int grain = Math.max(1, (1 << 15) / len); // rows per work item, as the norm kernels
    double best =
        bestMillis(
            reps,
            () -> {
              Parallel.forRange(rows, grain, (f, t) -> rowsForward(a.x, a.y, len, rowSums, f, t));
              Parallel.forRange(
                  rows, grain, (f, t) -> rowsBackward(a.x, a.dy, a.dx, len, rowSums, f, t));
            });
    a.check(rowSums[rows]);
    return best;
  }

  /** Per row in [from, to): sums of x and x², then y = a·x + c with a and c from them. */
  private static void rowsForward(float[] x, float[] y, int len, float[] rs, int from, int to) {
    float[] sums = new float[2];
    for (int r = from; r < to; r++) {
      int off = r * len;
      plainSums(x, x, off, len, sums);
      float mean = sums[0] / len;
      float var = sums[1] / len - mean * mean;
      float a = 1f / (float) Math.sqrt(Math.max(var, 0f) + 1e-5f);
      rs[2 * r] = mean;
      rs[2 * r + 1] = a;
      var va = FloatVector.broadcast(S, a);
      var vc = FloatVector.broadcast(S, -mean * a);
      for (int i = off; i < off + len; i += S.length()) {
        FloatVector.fromArray(S, x, i).fma(va, vc).intoArray(y, i);
      }
    }
  }

  /** Per row in [from, to): sums of dy and dy·x, then dx = a·dy + (b·x + c) from them. */
  private static void rowsBackward(
      float[] x, float[] dy, float[] dx, int len, float[] rs, int from, int to) {
    float[] sums = new float[2];
    for (int r = from; r < to; r++) {
      int off = r * len;
      plainSums(dy, x, off, len, sums);
      float a = rs[2 * r + 1];
      float b = -a * a * a * sums[1] / len;
      float c = -b * rs[2 * r] - a * sums[0] / len;
      var va = FloatVector.broadcast(S, a);
      var vb = FloatVector.broadcast(S, b);
      var vc = FloatVector.broadcast(S, c);
      for (int i = off; i < off + len; i += S.length()) {
        FloatVector.fromArray(S, dy, i)
            .fma(va, FloatVector.fromArray(S, x, i).fma(vb, vc))
            .intoArray(dx, i);
      }
    }
  }

  /**
   * sums[0] = the sum of u and sums[1] = the sum of u·v over [off, off + len), len whole vectors,
   * in plain float: two chains each, so that the loop is not held up by one addition's latency.
   */
  private static void plainSums(float[] u, float[] v, int off, int len, float[] sums) {
    var s1 = FloatVector.zero(S);
    var s2 = FloatVector.zero(S);
    var t1 = FloatVector.zero(S);
    var t2 = FloatVector.zero(S);
    int i = off;
    for (int end = off + len - S.length(); i < end; i += 2 * S.length()) {
      var g = FloatVector.fromArray(S, u, i);
      var h = FloatVector.fromArray(S, u, i + S.length());
      s1 = s1.add(g);
      s2 = g.fma(FloatVector.fromArray(S, v, i), s2);
      t1 = t1.add(h);
      t2 = h.fma(FloatVector.fromArray(S, v, i + S.length()), t2);
    }
    if (i < off + len) {
      var g = FloatVector.fromArray(S, u, i);
      s1 = s1.add(g);
      s2 = g.fma(FloatVector.fromArray(S, v, i), s2);
    }
    sums[0] = s1.add(t1).reduceLanes(VectorOperators.ADD);
    sums[1] = s2.add(t2).reduceLanes(VectorOperators.ADD);
  }

  /** Milliseconds of the fastest of {@code reps} timed calls of {@code body} after 20 untimed. */
  private static double bestMillis(int reps, Runnable body) {
    double best = Double.POSITIVE_INFINITY;
    for (int r = 0; r < 20 + reps; r++) {
      long t0 = System.nanoTime();
      body.run();
      long t1 = System.nanoTime();
      if (r >= 20) {
        best = Math.min(best, (t1 - t0) / 1e6);
      }
    }
    return best;
  }

  /** y = 1.1 x + 0.1 over vectors [from, to). */
  private static void forward(float[] x, float[] y, int from, int to) {
    var a = FloatVector.broadcast(S, 1.1f);
    var b = FloatVector.broadcast(S, 0.1f);
    for (int i = from * S.length(), end = to * S.length(); i < end; i += S.length()) {
      FloatVector.fromArray(S, x, i).fma(a, b).intoArray(y, i);
    }
  }

  /** dx = 1.1 dy + (0.1 x + 0.01) over vectors [from, to). */
  private static void backward(float[] x, float[] dy, float[] dx, int from, int to) {
    var a = FloatVector.broadcast(S, 1.1f);
    var b = FloatVector.broadcast(S, 0.1f);
    var c = FloatVector.broadcast(S, 0.01f);
    for (int i = from * S.length(), end = to * S.length(); i < end; i += S.length()) {
      FloatVector.fromArray(S, dy, i)
          .fma(a, FloatVector.fromArray(S, x, i).fma(b, c))
          .intoArray(dx, i);
    }
  }
}
