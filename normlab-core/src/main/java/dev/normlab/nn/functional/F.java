package dev.normlab.nn.functional;

import dev.normlab.autograd.Autograd;
import dev.normlab.autograd.InPlaceBackward;
import dev.normlab.kernels.Buffers;
import dev.normlab.kernels.Elementwise;
import dev.normlab.kernels.Gemm;
import dev.normlab.kernels.Parallel;
import dev.normlab.tensor.DType;
import dev.normlab.tensor.Rng;
import dev.normlab.tensor.Shapes;
import dev.normlab.tensor.Tensor;
import java.util.Arrays;

/**
 * Functional forms of activations, dropout, linear and losses, as {@code torch.nn.functional}.
 * Convolution and pooling live in {@link ConvPool}; normalization in {@code Normalization}.
 */
public final class F {
  private F() {}

  /** How a loss reduces over the batch. */
  public enum Reduction {
    NONE,
    MEAN,
    SUM
  }

  private static final int GRAIN = 1 << 14;

  // ------------------------------------------------------------------ activations

  public static Tensor relu(Tensor x) {
    float[] in = x.data();
    float[] out = Buffers.uninitialized(in.length);
    Parallel.forRange(in.length, GRAIN, (from, to) -> Elementwise.relu(in, out, from, to));
    Tensor y = Tensor.of(out, x.shape());
    return Autograd.record(
        "relu", y, (InPlaceBackward) (g, owned) -> new Tensor[] {maskGrad(g, owned, out, 0f)}, x);
  }

  /**
   * dL/dx = g where the reference activation was positive, else slope*g; written into g's storage
   * when the engine owns g.
   */
  private static Tensor maskGrad(Tensor g, boolean owned, float[] ref, float slope) {
    float[] gd = g.data();
    float[] gi = InPlaceBackward.target(g, owned);
    Parallel.forRange(
        gd.length, GRAIN, (from, to) -> Elementwise.reluBackward(gd, ref, slope, gi, from, to));
    return Tensor.of(gi, g.shape());
  }

  public static Tensor leakyRelu(Tensor x, float negativeSlope) {
    float[] in = x.data();
    float[] out = Buffers.uninitialized(in.length);
    for (int i = 0; i < in.length; i++) {
      out[i] = in[i] > 0 ? in[i] : in[i] * negativeSlope;
    }
    return Autograd.record(
        "leaky_relu",
        Tensor.of(out, x.shape()),
        (InPlaceBackward) (g, owned) -> new Tensor[] {maskGrad(g, owned, in, negativeSlope)},
        x);
  }

  public static Tensor leakyRelu(Tensor x) {
    return leakyRelu(x, 0.01f);
  }

  /** Exact GELU: x * Phi(x) with the normal CDF through erf. */
  public static Tensor gelu(Tensor x) {
    float[] in = x.data();
    float[] out = Buffers.uninitialized(in.length);
    for (int i = 0; i < in.length; i++) {
      double v = in[i];
      out[i] = (float) (0.5 * v * (1 + erf(v / Math.sqrt(2))));
    }
    return Autograd.record(
        "gelu",
        Tensor.of(out, x.shape()),
        g -> {
          float[] gd = g.data();
          float[] gi = Buffers.uninitialized(in.length);
          for (int i = 0; i < in.length; i++) {
            double v = in[i];
            double cdf = 0.5 * (1 + erf(v / Math.sqrt(2)));
            double pdf = Math.exp(-0.5 * v * v) / Math.sqrt(2 * Math.PI);
            gi[i] = (float) (gd[i] * (cdf + v * pdf));
          }
          return new Tensor[] {Tensor.of(gi, g.shape())};
        },
        x);
  }

  /**
   * erf to about 1e-15 relative: Taylor series near 0, continued fraction for erfc in the tails.
   */
  public static double erf(double x) {
    double ax = Math.abs(x);
    if (ax < 2.5) {
      // Maclaurin series: 2/sqrt(pi) * sum (-1)^n x^(2n+1) / (n! (2n+1))
      double term = ax, sum = ax, x2 = ax * ax;
      for (int n = 1; n < 80; n++) {
        term *= -x2 / n;
        double add = term / (2 * n + 1);
        sum += add;
        if (Math.abs(add) < 1e-17 * Math.abs(sum)) {
          break;
        }
      }
      double r = 2 / Math.sqrt(Math.PI) * sum;
      return x < 0 ? -r : r;
    }
    if (ax > 6) {
      return x < 0 ? -1 : 1;
    }
    // Lentz continued fraction for erfc(ax) = exp(-x^2)/sqrt(pi) * 1/(x + 1/2/(x + 1/(x + 3/2/(x +
    // ...
    double f = ax, c = ax, d = 0;
    for (int n = 1; n < 200; n++) {
      double an = n / 2.0;
      d = ax + an * d;
      d = 1 / d;
      c = ax + an / c;
      double delta = c * d;
      f *= delta;
      if (Math.abs(delta - 1) < 1e-16) {
        break;
      }
    }
    double erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / f;
    return x < 0 ? erfc - 1 : 1 - erfc;
  }

  public static Tensor sigmoid(Tensor x) {
    float[] in = x.data();
    float[] out = Buffers.uninitialized(in.length);
    for (int i = 0; i < in.length; i++) {
      out[i] = (float) (1 / (1 + Math.exp(-in[i])));
    }
    return Autograd.record(
        "sigmoid",
        Tensor.of(out, x.shape()),
        g -> {
          float[] gd = g.data();
          float[] gi = Buffers.uninitialized(out.length);
          for (int i = 0; i < out.length; i++) {
            gi[i] = gd[i] * out[i] * (1 - out[i]);
          }
          return new Tensor[] {Tensor.of(gi, g.shape())};
        },
        x);
  }

  public static Tensor tanh(Tensor x) {
    float[] in = x.data();
    float[] out = Buffers.uninitialized(in.length);
    for (int i = 0; i < in.length; i++) {
      out[i] = (float) Math.tanh(in[i]);
    }
    return Autograd.record(
        "tanh",
        Tensor.of(out, x.shape()),
        g -> {
          float[] gd = g.data();
          float[] gi = Buffers.uninitialized(out.length);
          for (int i = 0; i < out.length; i++) {
            gi[i] = gd[i] * (1 - out[i] * out[i]);
          }
          return new Tensor[] {Tensor.of(gi, g.shape())};
        },
        x);
  }

  /** Sizes (outer, n, inner) for an op along {@code dim}. */
  private static int[] around(int[] shape, int dim) {
    int outer = 1, inner = 1;
    for (int i = 0; i < dim; i++) {
      outer *= shape[i];
    }
    for (int i = dim + 1; i < shape.length; i++) {
      inner *= shape[i];
    }
    return new int[] {outer, shape.length == 0 ? 1 : shape[dim], inner};
  }

  public static Tensor softmax(Tensor x, int dim) {
    return softmaxImpl(x, dim, false);
  }

  public static Tensor logSoftmax(Tensor x, int dim) {
    return softmaxImpl(x, dim, true);
  }

  private static Tensor softmaxImpl(Tensor x, int dim, boolean log) {
    int[] shape = x.shape();
    int d = Shapes.dim(dim, shape.length);
    int[] s = around(shape, d);
    int outer = s[0], n = s[1], inner = s[2];
    float[] in = x.data();
    float[] out = Buffers.uninitialized(in.length);
    for (int o = 0; o < outer; o++) {
      for (int i = 0; i < inner; i++) {
        int base = o * n * inner + i;
        float max = Float.NEGATIVE_INFINITY;
        for (int k = 0; k < n; k++) {
          max = Math.max(max, in[base + k * inner]);
        }
        double sum = 0;
        for (int k = 0; k < n; k++) {
          sum += Math.exp(in[base + k * inner] - max);
        }
        double lse = Math.log(sum);
        for (int k = 0; k < n; k++) {
          double z = in[base + k * inner] - max;
          out[base + k * inner] = (float) (log ? z - lse : Math.exp(z - lse));
        }
      }
    }
    return Autograd.record(
        log ? "log_softmax" : "softmax",
        Tensor.of(out, shape),
        g -> {
          float[] gd = g.data();
          float[] gi = Buffers.uninitialized(out.length);
          for (int o = 0; o < outer; o++) {
            for (int i = 0; i < inner; i++) {
              int base = o * n * inner + i;
              double dot = 0;
              for (int k = 0; k < n; k++) {
                int j = base + k * inner;
                dot += log ? gd[j] : gd[j] * out[j];
              }
              for (int k = 0; k < n; k++) {
                int j = base + k * inner;
                gi[j] =
                    log
                        ? (float) (gd[j] - Math.exp(out[j]) * dot)
                        : (float) (out[j] * (gd[j] - dot));
              }
            }
          }
          return new Tensor[] {Tensor.of(gi, shape)};
        },
        x);
  }

  // ------------------------------------------------------------------ dropout

  /**
   * Zeroes each element with probability {@code p} and scales the rest by 1/(1-p) in training; the
   * identity otherwise.
   */
  public static Tensor dropout(Tensor x, double p, boolean training, Rng rng) {
    if (p < 0 || p > 1) {
      throw new IllegalArgumentException(
          "dropout probability has to be between 0 and 1, but got " + p);
    }
    if (!training || p == 0) {
      return x;
    }
    float[] in = x.data();
    float[] mask = Buffers.uninitialized(in.length);
    if (p == 1) {
      Arrays.fill(mask, 0f); // PyTorch multiplies by zero without drawing
    } else {
      // PyTorch's bernoulli_(1 - p) then div_(1 - p): one serial stream, so the masks are
      // PyTorch's for the same seed
      rng.bernoulli(mask, 1 - p, 1f / (float) (1 - p));
    }
    float[] out = Buffers.uninitialized(in.length);
    Parallel.forRange(in.length, 1 << 15, (from, to) -> Elementwise.mul(in, mask, out, from, to));
    return Autograd.record(
        "dropout",
        Tensor.of(out, x.shape()),
        (InPlaceBackward)
            (g, owned) -> {
              float[] gd = g.data();
              float[] gi = InPlaceBackward.target(g, owned);
              Parallel.forRange(
                  gd.length, 1 << 15, (from, to) -> Elementwise.mul(gd, mask, gi, from, to));
              return new Tensor[] {Tensor.of(gi, g.shape())};
            },
        x);
  }

  // ------------------------------------------------------------------ linear

  /** {@code y = x W^T + b} for x of shape [*, in], weight [out, in], bias [out] or null. */
  public static Tensor linear(Tensor x, Tensor weight, Tensor bias) {
    int[] xs = x.shape();
    int[] ws = weight.shape();
    if (ws.length != 2) {
      throw new IllegalArgumentException(
          "linear weight must be 2-D [out, in], got " + Shapes.str(ws));
    }
    int in = ws[1], outF = ws[0];
    if (xs.length == 0 || xs[xs.length - 1] != in) {
      int rows = xs.length == 0 ? 1 : x.numel() / Math.max(1, xs[xs.length - 1]);
      throw new IllegalArgumentException(
          "mat1 and mat2 shapes cannot be multiplied ("
              + rows
              + "x"
              + (xs.length == 0 ? 1 : xs[xs.length - 1])
              + " and "
              + in
              + "x"
              + outF
              + ")");
    }
    if (bias != null && (bias.dim() != 1 || bias.size(0) != outF)) {
      throw new IllegalArgumentException(
          "linear bias: expected shape [" + outF + "] but got " + Shapes.str(bias.shape()));
    }
    int rows = x.numel() / Math.max(1, in);
    int[] outShape = xs.clone();
    outShape[outShape.length - 1] = outF;
    float[] y = Buffers.uninitialized(rows * outF);
    float[] xd = x.data(), wd = weight.data();
    if (bias != null) {
      float[] bd = bias.data();
      for (int r = 0; r < rows; r++) {
        System.arraycopy(bd, 0, y, r * outF, outF);
      }
    }
    Gemm.sgemm(
        false, true, rows, outF, in, 1f, xd, 0, in, wd, 0, in, bias == null ? 0f : 1f, y, 0, outF);
    return Autograd.record(
        "linear",
        Tensor.of(y, outShape),
        g -> {
          float[] gd = g.data();
          Tensor gx = null, gw = null, gb = null;
          if (x.requiresGrad()) {
            float[] gxd = Buffers.uninitialized(xd.length);
            Gemm.sgemm(false, false, rows, in, outF, 1f, gd, 0, outF, wd, 0, in, 0f, gxd, 0, in);
            gx = Tensor.of(gxd, xs);
          }
          if (weight.requiresGrad()) {
            float[] gwd = Buffers.uninitialized(wd.length);
            Gemm.sgemm(true, false, outF, in, rows, 1f, gd, 0, outF, xd, 0, in, 0f, gwd, 0, in);
            gw = Tensor.of(gwd, ws);
          }
          if (bias != null && bias.requiresGrad()) {
            float[] gbd = Buffers.zeroed(outF);
            for (int r = 0; r < rows; r++) {
              for (int j = 0; j < outF; j++) {
                gbd[j] += gd[r * outF + j];
              }
            }
            gb = Tensor.of(gbd, outF);
          }
          return new Tensor[] {gx, gw, gb};
        },
        x,
        weight,
        bias);
  }

  // ------------------------------------------------------------------ losses

  /** Cross entropy over class indices with mean reduction and no smoothing. */
  public static Tensor crossEntropy(Tensor logits, Tensor target) {
    return crossEntropy(logits, target, Reduction.MEAN, 0.0, -100);
  }

  /**
   * Cross entropy between logits [N, C] (or [N, C, d1...]) and class indices [N] (or [N, d1...]),
   * fused log-softmax + NLL, as {@code F.cross_entropy(..., reduction, ignore_index,
   * label_smoothing)}.
   */
  public static Tensor crossEntropy(
      Tensor logits, Tensor target, Reduction reduction, double labelSmoothing, int ignoreIndex) {
    if (labelSmoothing < 0 || labelSmoothing > 1) {
      throw new IllegalArgumentException(
          "label_smoothing must be between 0.0 and 1.0. Got: " + labelSmoothing);
    }
    Tensor logp = logSoftmax(logits, logits.dim() == 1 ? 0 : 1);
    return nllImpl(logp, target, reduction, labelSmoothing, ignoreIndex, "cross_entropy");
  }

  /** Negative log likelihood of log-probabilities [N, C, *] at class indices [N, *]. */
  public static Tensor nllLoss(
      Tensor logProbs, Tensor target, Reduction reduction, int ignoreIndex) {
    return nllImpl(logProbs, target, reduction, 0.0, ignoreIndex, "nll_loss");
  }

  public static Tensor nllLoss(Tensor logProbs, Tensor target) {
    return nllLoss(logProbs, target, Reduction.MEAN, -100);
  }

  private static Tensor nllImpl(
      Tensor logp, Tensor target, Reduction reduction, double eps, int ignoreIndex, String op) {
    int[] ls = logp.shape();
    int[] ts = target.shape();
    boolean unbatched = ls.length == 1;
    int n = unbatched ? 1 : ls[0];
    int c = unbatched ? ls[0] : ls[1];
    int inner = 1;
    for (int i = 2; i < ls.length; i++) {
      inner *= ls[i];
    }
    int[] expected = new int[unbatched ? 0 : ls.length - 1];
    if (!unbatched) {
      expected[0] = n;
      System.arraycopy(ls, 2, expected, 1, ls.length - 2);
    }
    if (!Arrays.equals(expected, ts)) {
      throw new IllegalArgumentException(
          "Expected target of shape "
              + Shapes.str(expected)
              + " for input of shape "
              + Shapes.str(ls)
              + ", but got target of shape "
              + Shapes.str(ts));
    }
    if (target.dtype() != DType.INT64) {
      throw new IllegalArgumentException(
          "expected scalar type Long for class-index targets but found Float");
    }
    float[] lp = logp.data();
    float[] td = target.data();
    int m = n * inner;
    float[] per = new float[m];
    double[] weightOf = new double[m];
    double count = 0;
    for (int s = 0; s < n; s++) {
      for (int i = 0; i < inner; i++) {
        int t = (int) td[s * inner + i];
        int idx = s * inner + i;
        if (t == ignoreIndex) {
          continue;
        }
        if (t < 0 || t >= c) {
          throw new IndexOutOfBoundsException(
              "Target " + t + " is out of bounds (" + c + " classes).");
        }
        int base = s * c * inner + i;
        double loss = -(1 - eps) * lp[base + t * inner];
        if (eps > 0) {
          double all = 0;
          for (int k = 0; k < c; k++) {
            all += lp[base + k * inner];
          }
          loss -= eps / c * all;
        }
        per[idx] = (float) loss;
        weightOf[idx] = 1;
        count++;
      }
    }
    Tensor out;
    double scale;
    switch (reduction) {
      case NONE -> {
        out = Tensor.of(per, ts);
        scale = 1;
      }
      case SUM -> {
        double s = 0;
        for (float v : per) {
          s += v;
        }
        out = Tensor.scalar((float) s);
        scale = 1;
      }
      default -> {
        double s = 0;
        for (float v : per) {
          s += v;
        }
        out = Tensor.scalar((float) (s / count));
        scale = 1 / count;
      }
    }
    final int inner0 = inner;
    final double scale0 = scale;
    return Autograd.record(
        op,
        out,
        g -> {
          int inner1 = inner0;
          float[] gd = g.data();
          float[] gi = Buffers.zeroed(lp.length);
          for (int s = 0; s < n; s++) {
            for (int i = 0; i < inner1; i++) {
              int idx = s * inner1 + i;
              if (weightOf[idx] == 0) {
                continue;
              }
              double go = (reduction == Reduction.NONE ? gd[idx] : gd[0]) * scale0;
              int base = s * c * inner1 + i;
              int t = (int) td[idx];
              gi[base + t * inner1] += (float) (-(1 - eps) * go);
              if (eps > 0) {
                for (int k = 0; k < c; k++) {
                  gi[base + k * inner1] += (float) (-eps / c * go);
                }
              }
            }
          }
          return new Tensor[] {Tensor.of(gi, ls)};
        },
        logp);
  }

  /** Mean squared error, as {@code F.mse_loss}. */
  public static Tensor mseLoss(Tensor input, Tensor target, Reduction reduction) {
    Shapes.check("mse_loss target", input.shape(), target.shape());
    Tensor d = input.sub(target);
    Tensor sq = d.mul(d);
    return switch (reduction) {
      case NONE -> sq;
      case SUM -> sq.sum();
      case MEAN -> sq.mean();
    };
  }

  public static Tensor mseLoss(Tensor input, Tensor target) {
    return mseLoss(input, target, Reduction.MEAN);
  }
}
