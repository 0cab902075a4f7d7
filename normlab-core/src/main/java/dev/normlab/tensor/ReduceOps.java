package dev.normlab.tensor;

import dev.normlab.autograd.Autograd;
import dev.normlab.kernels.Buffers;
import dev.normlab.kernels.Elementwise;

/** Reductions over any set of dims, accumulated in double. */
final class ReduceOps {
  private ReduceOps() {}

  /** The reduced dims as a boolean mask (normalized, duplicates rejected). */
  private static boolean[] mask(int[] dims, int rank) {
    boolean[] m = new boolean[rank];
    for (int d : dims) {
      int n = Shapes.dim(d, rank);
      if (rank == 0) {
        continue;
      }
      if (m[n]) {
        throw new IllegalArgumentException(
            "dim " + n + " appears multiple times in the list of dims");
      }
      m[n] = true;
    }
    return m;
  }

  private static int[] keepShape(int[] shape, boolean[] m) {
    int[] k = shape.clone();
    for (int i = 0; i < k.length; i++) {
      if (m[i]) {
        k[i] = 1;
      }
    }
    return k;
  }

  private static int[] dropShape(int[] shape, boolean[] m) {
    int c = 0;
    for (boolean b : m) {
      if (!b) {
        c++;
      }
    }
    int[] r = new int[c];
    for (int i = 0, j = 0; i < shape.length; i++) {
      if (!m[i]) {
        r[j++] = shape[i];
      }
    }
    return r;
  }

  /**
   * Sums {@code x} into {@code acc} (keepdim layout); returns the number of elements per output.
   */
  private static int accumulate(float[] x, int[] shape, boolean[] m, double[] acc, double[] shift) {
    int r = shape.length;
    int[] keep = keepShape(shape, m);
    int[] ks = Shapes.strides(keep);
    int[] os = new int[r];
    for (int i = 0; i < r; i++) {
      os[i] = m[i] ? 0 : ks[i];
    }
    int per = 1;
    for (int i = 0; i < r; i++) {
      if (m[i]) {
        per *= shape[i];
      }
    }
    if (x.length == 0) {
      return per;
    }
    if (r == 0) {
      double v = x[0] - (shift == null ? 0 : shift[0]);
      acc[0] += shift == null ? v : v * v;
      return per;
    }
    int inner = shape[r - 1];
    int innerStride = os[r - 1];
    int[] idx = new int[r - 1];
    int o = 0;
    for (int base = 0; base < x.length; base += inner) {
      if (shift == null) {
        if (innerStride == 0) {
          double s = 0;
          for (int i = 0; i < inner; i++) {
            s += x[base + i];
          }
          acc[o] += s;
        } else {
          for (int i = 0; i < inner; i++) {
            acc[o + i] += x[base + i];
          }
        }
      } else {
        for (int i = 0; i < inner; i++) {
          int oi = o + i * innerStride;
          double dv = x[base + i] - shift[oi];
          acc[oi] += dv * dv;
        }
      }
      for (int d = r - 2; d >= 0; d--) {
        idx[d]++;
        o += os[d];
        if (idx[d] < shape[d]) {
          break;
        }
        o -= os[d] * shape[d];
        idx[d] = 0;
      }
    }
    return per;
  }

  private static Tensor expandTo(Tensor g, int[] keep, int[] shape) {
    return ElementwiseOps.broadcastBinary(Elementwise.Op.ADD, g.reshape(keep), Tensor.zeros(shape));
  }

  static Tensor sum(Tensor x, int[] dims, boolean keepdim) {
    return sumOrMean(x, dims, keepdim, false);
  }

  static Tensor mean(Tensor x, int[] dims, boolean keepdim) {
    return sumOrMean(x, dims, keepdim, true);
  }

  private static Tensor sumOrMean(Tensor x, int[] dims, boolean keepdim, boolean mean) {
    int[] shape = x.shape();
    boolean[] m = mask(dims.length == 0 ? x.allDims() : dims, shape.length);
    int[] keep = keepShape(shape, m);
    double[] acc = new double[Shapes.numel(keep)];
    int per = accumulate(x.data(), shape, m, acc, null);
    float[] out = new float[acc.length];
    for (int i = 0; i < out.length; i++) {
      out[i] = (float) (mean ? acc[i] / per : acc[i]);
    }
    int[] outShape = keepdim ? keep : dropShape(shape, m);
    float scale = mean ? 1f / per : 1f;
    return Autograd.record(
        mean ? "mean" : "sum",
        Tensor.fresh(out, outShape),
        g -> new Tensor[] {expandTo(scale == 1f ? g : g.mul(scale), keep, shape)},
        x);
  }

  /** Variance with {@code correction} subtracted from the count (1 = unbiased). */
  static Tensor var(Tensor x, int[] dims, int correction, boolean keepdim) {
    int[] shape = x.shape();
    boolean[] m = mask(dims.length == 0 ? x.allDims() : dims, shape.length);
    int[] keep = keepShape(shape, m);
    double[] sum = new double[Shapes.numel(keep)];
    int per = accumulate(x.data(), shape, m, sum, null);
    double[] mean = new double[sum.length];
    for (int i = 0; i < sum.length; i++) {
      mean[i] = sum[i] / per;
    }
    double[] sq = new double[sum.length];
    accumulate(x.data(), shape, m, sq, mean);
    double denom = Math.max(0, per - correction);
    float[] out = new float[sq.length];
    for (int i = 0; i < out.length; i++) {
      out[i] = (float) (sq[i] / denom);
    }
    float[] meanF = new float[mean.length];
    for (int i = 0; i < mean.length; i++) {
      meanF[i] = (float) mean[i];
    }
    Tensor meanT = Tensor.fresh(meanF, keep);
    Tensor xd = x.detach();
    return Autograd.record(
        "var",
        Tensor.fresh(out, keepdim ? keep : dropShape(shape, m)),
        g -> new Tensor[] {xd.sub(meanT).mul(expandTo(g, keep, shape)).mul((float) (2 / denom))},
        x);
  }

  /** Max over one dim; also returns (through {@code argOut}) the argmax. */
  private static float[] maxAlong(Tensor x, int dim, int[] argOut) {
    int[] shape = x.shape();
    int outer = 1, inner = 1;
    for (int i = 0; i < dim; i++) {
      outer *= shape[i];
    }
    for (int i = dim + 1; i < shape.length; i++) {
      inner *= shape[i];
    }
    int n = shape.length == 0 ? 1 : shape[dim];
    if (n == 0) {
      throw new IllegalArgumentException(
          "max(): Expected reduction dim " + dim + " to have non-zero size.");
    }
    float[] d = x.data();
    float[] out = new float[outer * inner];
    for (int o = 0; o < outer; o++) {
      for (int i = 0; i < inner; i++) {
        int best = 0;
        float bv = d[o * n * inner + i];
        for (int k = 1; k < n && !Float.isNaN(bv); k++) {
          float v = d[(o * n + k) * inner + i];
          if (v > bv || Float.isNaN(v)) {
            bv = v;
            best = k;
          }
        }
        out[o * inner + i] = bv;
        argOut[o * inner + i] = best;
      }
    }
    return out;
  }

  private static int[] reducedShape(int[] shape, int dim, boolean keepdim) {
    if (shape.length == 0) {
      return shape;
    }
    boolean[] m = new boolean[shape.length];
    m[dim] = true;
    return keepdim ? keepShape(shape, m) : dropShape(shape, m);
  }

  static Tensor max(Tensor x, int dim, boolean keepdim) {
    int[] shape = x.shape();
    int d = Shapes.dim(dim, shape.length);
    int[] arg = new int[Math.max(1, x.numel() / Math.max(1, shape.length == 0 ? 1 : shape[d]))];
    float[] out = maxAlong(x, d, arg);
    int[] outShape = reducedShape(shape, d, keepdim);
    return Autograd.record(
        "max",
        Tensor.fresh(out, outShape),
        g -> {
          float[] gi = Buffers.zeroed(x.numel());
          float[] gd = g.data();
          int n = shape.length == 0 ? 1 : shape[d];
          int inner = 1;
          for (int i = d + 1; i < shape.length; i++) {
            inner *= shape[i];
          }
          for (int j = 0; j < gd.length; j++) {
            int o = j / inner, i = j % inner;
            gi[(o * n + arg[j]) * inner + i] += gd[j];
          }
          return new Tensor[] {Tensor.fresh(gi, shape)};
        },
        x);
  }

  static Tensor argmax(Tensor x, int dim, boolean keepdim) {
    int[] shape = x.shape();
    int d = Shapes.dim(dim, shape.length);
    int[] arg = new int[Math.max(1, x.numel() / Math.max(1, shape.length == 0 ? 1 : shape[d]))];
    maxAlong(x, d, arg);
    int[] outShape = reducedShape(shape, d, keepdim);
    return Tensor.ofInts(java.util.Arrays.copyOf(arg, Shapes.numel(outShape)), outShape);
  }
}
