package dev.normlab.nn.functional;

import dev.normlab.autograd.Autograd;
import dev.normlab.autograd.InPlaceBackward;
import dev.normlab.kernels.Buffers;
import dev.normlab.kernels.NormKernels;
import dev.normlab.tensor.Shapes;
import dev.normlab.tensor.Tensor;
import java.util.Arrays;

/**
 * The normalization family as functions, with PyTorch's semantics ({@code torch.nn.functional}).
 * Every function is differentiable with respect to its input, weight and bias through one fused
 * backward kernel. Running statistics are updated in place, as PyTorch does. A null {@code weight}
 * or {@code bias} means none (PyTorch's {@code None}).
 *
 * <p>Which elements share one mean and variance, for an input {@code (N, C, H, W)}:
 *
 * <table>
 *   <caption>Statistics of each function</caption>
 *   <tr><th>function</th><th>one statistic per</th><th>averaged over</th><th>PyTorch</th></tr>
 *   <tr><td>{@link #batchNorm}</td><td>channel</td><td>(N, H, W)</td>
 *       <td>{@code F.batch_norm}</td></tr>
 *   <tr><td>{@link #instanceNorm}</td><td>sample, channel</td><td>(H, W)</td>
 *       <td>{@code F.instance_norm}</td></tr>
 *   <tr><td>{@link #layerNorm}</td><td>sample (leading index)</td><td>the trailing dims</td>
 *       <td>{@code F.layer_norm}</td></tr>
 *   <tr><td>{@link #groupNorm}</td><td>sample, group</td><td>(C/G, H, W)</td>
 *       <td>{@code F.group_norm}</td></tr>
 *   <tr><td>{@link #rmsNorm}</td><td>sample (no centring)</td><td>the trailing dims</td>
 *       <td>{@code F.rms_norm}</td></tr>
 *   <tr><td>{@link #localResponseNorm}</td><td>element</td><td>neighbouring channels</td>
 *       <td>{@code F.local_response_norm}</td></tr>
 *   <tr><td>{@link #adaptiveInstanceNorm}</td><td>sample, channel</td><td>(H, W)</td>
 *       <td>none (AdaIN, written by hand in PyTorch)</td></tr>
 * </table>
 */
public final class Normalization {
  /** PyTorch's default eps. */
  public static final double DEFAULT_EPS = 1e-5;

  private Normalization() {}

  // ---------------------------------------------------------------- batch norm

  /**
   * Batch normalization, {@code F.batch_norm(input, running_mean, running_var, weight, bias,
   * training, momentum, eps)}: {@code y = (x - mean[c]) / sqrt(var[c] + eps) * weight[c] +
   * bias[c]}.
   *
   * <p>With {@code training} uses the batch statistics per channel over {@code (N, *)} (biased
   * variance) and, when running buffers are given, updates them with {@code momentum} ({@code
   * running = (1 - m) * running + m * stat}, unbiased variance); otherwise normalizes with the
   * running statistics.
   *
   * @param input {@code (N, C, *)}, at least 2 dims; the output has the same shape
   * @param runningMean {@code (C)}, updated in place when training; may be null when training
   * @param runningVar {@code (C)}, updated in place when training; may be null when training
   * @param weight {@code (C)} or null
   * @param bias {@code (C)} or null
   * @param training batch statistics (true) or running statistics (false)
   * @param momentum the running update factor (PyTorch's default 0.1)
   * @param eps added to the variance (PyTorch's default 1e-5, {@link #DEFAULT_EPS})
   * @throws IllegalArgumentException on a wrong size, or with one value per channel when training
   */
  public static Tensor batchNorm(
      Tensor input,
      Tensor runningMean,
      Tensor runningVar,
      Tensor weight,
      Tensor bias,
      boolean training,
      double momentum,
      double eps) {
    if (input.dim() < 2) {
      throw new IllegalArgumentException(
          "batch_norm expects an input of at least 2 dimensions, got " + input.dim() + "D");
    }
    int[] shape = input.shape();
    int n = shape[0];
    int c = shape[1];
    int inner = inner(shape, 2);
    checkParam("running_mean", runningMean, c);
    checkParam("running_var", runningVar, c);
    checkParam("weight", weight, c);
    checkParam("bias", bias, c);
    if (!training && (runningMean == null || runningVar == null)) {
      throw new IllegalArgumentException(
          "running_mean and running_var must be defined in evaluation mode");
    }
    if (training && (long) n * inner == 1) {
      throw new IllegalArgumentException(
          "Expected more than 1 value per channel when training, got input size "
              + Shapes.str(shape));
    }
    float[] x = input.data();
    float[] w = weight == null ? null : weight.data();
    float[] b = bias == null ? null : bias.data();
    float[] y = Buffers.uninitialized(x.length);
    double[] mean = new double[c];
    double[] var = new double[c];
    double[] rstd = new double[c];
    boolean empty = x.length == 0;
    if (training && !empty) {
      NormKernels.batchNormForward(x, y, n, c, inner, w, b, eps, true, mean, var, rstd);
      if (runningMean != null) {
        long total = (long) n * inner;
        updateRunning(runningMean.data(), runningVar.data(), mean, var, total, momentum);
      }
    } else if (!empty) {
      float[] rm = runningMean.data();
      float[] rv = runningVar.data();
      for (int i = 0; i < c; i++) {
        mean[i] = rm[i];
        rstd[i] = NormKernels.bnInvStd(rv[i], eps);
      }
      NormKernels.batchNormForward(x, y, n, c, inner, w, b, eps, false, mean, var, rstd);
    }
    Tensor out = Tensor.of(y, shape);
    if (!Autograd.needsGrad(input, weight, bias)) {
      return out;
    }
    final boolean statsConstant = !training;
    return Autograd.record(
        "batch_norm",
        out,
        (InPlaceBackward)
            (g, owned) -> {
              float[] dy = g.data();
              float[] dx = input.requiresGrad() ? InPlaceBackward.target(g, owned) : null;
              float[] dw = weight != null && weight.requiresGrad() ? Buffers.zeroed(c) : null;
              float[] db = bias != null && bias.requiresGrad() ? Buffers.zeroed(c) : null;
              if (!empty) {
                NormKernels.batchNormBackward(
                    dy, x, n, c, inner, mean, rstd, w, statsConstant, dx, dw, db);
              }
              return new Tensor[] {
                dx == null ? null : Tensor.of(dx, shape),
                dw == null ? null : Tensor.of(dw, c),
                db == null ? null : Tensor.of(db, c)
              };
            },
        input,
        weight,
        bias);
  }

  // ---------------------------------------------------------------- instance norm

  /**
   * Instance normalization, {@code F.instance_norm(input, running_mean, running_var, weight, bias,
   * use_input_stats, momentum, eps)}: {@code y = (x - mean[n, c]) / sqrt(var[n, c] + eps) *
   * weight[c] + bias[c]}.
   *
   * <p>With {@code useInputStats} normalizes each (sample, channel) by its own statistics over the
   * spatial dims (biased variance) and, when running buffers are given, updates them with the batch
   * mean of the per-instance mean and unbiased variance; otherwise uses the running statistics
   * (exactly {@link #batchNorm} in eval mode).
   *
   * @param input {@code (N, C, *)}, at least 2 dims; the output has the same shape
   * @param runningMean {@code (C)} or null; updated in place when given and {@code useInputStats}
   * @param runningVar {@code (C)} or null; updated in place when given and {@code useInputStats}
   * @param weight {@code (C)} or null
   * @param bias {@code (C)} or null
   * @param useInputStats per-instance statistics (true, PyTorch's default) or running ones
   * @param momentum the running update factor (PyTorch's default 0.1)
   * @param eps added to the variance (PyTorch's default 1e-5)
   * @throws IllegalArgumentException on a wrong size, or with one spatial element and input stats
   */
  public static Tensor instanceNorm(
      Tensor input,
      Tensor runningMean,
      Tensor runningVar,
      Tensor weight,
      Tensor bias,
      boolean useInputStats,
      double momentum,
      double eps) {
    if (input.dim() < 2) {
      throw new IllegalArgumentException(
          "instance_norm expects an input of at least 2 dimensions, got " + input.dim() + "D");
    }
    int[] shape = input.shape();
    int n = shape[0];
    int c = shape[1];
    int inner = inner(shape, 2);
    if (!useInputStats && (runningMean == null || runningVar == null)) {
      throw new IllegalArgumentException(
          "Expected running_mean and running_var to be defined when use_input_stats is false");
    }
    checkParam("running_mean", runningMean, c);
    checkParam("running_var", runningVar, c);
    checkParam("weight", weight, c);
    checkParam("bias", bias, c);
    if (useInputStats && inner == 1) {
      throw new IllegalArgumentException(
          "Expected more than 1 spatial element when training, got input size "
              + Shapes.str(shape));
    }
    if (!useInputStats) {
      // Running statistics: exactly batch norm in eval mode.
      return batchNorm(input, runningMean, runningVar, weight, bias, false, momentum, eps);
    }
    float[] x = input.data();
    float[] w = weight == null ? null : weight.data();
    float[] b = bias == null ? null : bias.data();
    float[] y = Buffers.uninitialized(x.length);
    int rows = n * c;
    double[] mean = new double[rows];
    double[] rstd = new double[rows];
    boolean empty = x.length == 0;
    if (!empty) {
      NormKernels.rowNormForward(x, y, rows, c, 1, inner, w, b, eps, false, true, mean, rstd);
      if (runningMean != null && n > 0) {
        double[] bm = new double[c];
        double[] bv = new double[c];
        for (int i = 0; i < n; i++) {
          for (int ch = 0; ch < c; ch++) {
            int r = i * c + ch;
            bm[ch] += mean[r];
            bv[ch] += varFromRstd(rstd[r], eps, inner, x, r);
          }
        }
        for (int ch = 0; ch < c; ch++) {
          bm[ch] /= n;
          bv[ch] /= n;
        }
        // bv already holds the unbiased per-instance variances averaged over the batch
        updateRunning(runningMean.data(), runningVar.data(), bm, bv, 0, momentum);
      }
    }
    Tensor out = Tensor.of(y, shape);
    if (!Autograd.needsGrad(input, weight, bias)) {
      return out;
    }
    return Autograd.record(
        "instance_norm",
        out,
        (InPlaceBackward)
            (g, owned) -> {
              float[] dx = input.requiresGrad() ? InPlaceBackward.target(g, owned) : null;
              float[] dw = weight != null && weight.requiresGrad() ? Buffers.zeroed(c) : null;
              float[] db = bias != null && bias.requiresGrad() ? Buffers.zeroed(c) : null;
              if (!empty) {
                NormKernels.rowNormBackward(
                    g.data(), x, rows, c, 1, inner, mean, rstd, w, false, dx, dw, db);
              }
              return new Tensor[] {
                dx == null ? null : Tensor.of(dx, shape),
                dw == null ? null : Tensor.of(dw, c),
                db == null ? null : Tensor.of(db, c)
              };
            },
        input,
        weight,
        bias);
  }

  /** The unbiased variance of row r, recomputed exactly (two-pass) for the running update. */
  private static double varFromRstd(double rstd, double eps, int inner, float[] x, int r) {
    int off = r * inner;
    double m = 0;
    for (int i = 0; i < inner; i++) {
      m += x[off + i];
    }
    m /= inner;
    double v = 0;
    for (int i = 0; i < inner; i++) {
      double d = x[off + i] - m;
      v += d * d;
    }
    return inner > 1 ? v / (inner - 1) : Double.NaN;
  }

  // ---------------------------------------------------------------- group norm

  /**
   * Group normalization, {@code F.group_norm(input, num_groups, weight, bias, eps)}: {@code y = (x
   * - mean[n, g]) / sqrt(var[n, g] + eps) * weight[c] + bias[c]}, statistics per (sample, group of
   * C/G consecutive channels) over {@code (C/G, *)}, biased variance. {@code numGroups = C} is
   * {@link #instanceNorm}; {@code numGroups = 1} is {@link #layerNorm} over {@code (C, *)} with a
   * per-channel affine.
   *
   * @param input {@code (N, C, *)}, at least 2 dims; the output has the same shape
   * @param numGroups G; must divide C
   * @param weight {@code (C)} or null
   * @param bias {@code (C)} or null
   * @param eps added to the variance (PyTorch's default 1e-5)
   * @throws IllegalArgumentException if G does not divide C or a parameter has the wrong size
   */
  public static Tensor groupNorm(
      Tensor input, int numGroups, Tensor weight, Tensor bias, double eps) {
    if (input.dim() < 2) {
      throw new IllegalArgumentException(
          "Expected at least 2 dimensions for input tensor but received " + input.dim());
    }
    int[] shape = input.shape();
    int n = shape[0];
    int c = shape[1];
    if (numGroups <= 0 || c % numGroups != 0) {
      throw new IllegalArgumentException(
          "Expected number of channels in input to be divisible by num_groups, but got input of"
              + " shape "
              + Shapes.str(shape)
              + " and num_groups="
              + numGroups);
    }
    checkParam("weight", weight, c);
    checkParam("bias", bias, c);
    int inner = inner(shape, 2);
    int cpg = c / numGroups;
    return rowNorm(
        "native_group_norm", input, weight, bias, n * numGroups, numGroups, cpg, inner, eps, false);
  }

  // ---------------------------------------------------------------- layer norm / rms norm

  /**
   * Layer normalization, {@code F.layer_norm(input, normalized_shape, weight, bias, eps)}: {@code y
   * = (x - mean) / sqrt(var + eps) * weight + bias}, statistics over the trailing {@code
   * normalizedShape} dims for every leading index, biased variance; weight and bias are
   * elementwise.
   *
   * @param input {@code (*, normalizedShape...)}; the output has the same shape
   * @param normalizedShape the trailing dims, e.g. {@code {C, H, W}}
   * @param weight of shape {@code normalizedShape}, or null
   * @param bias of shape {@code normalizedShape}, or null
   * @param eps added to the variance (PyTorch's default 1e-5)
   * @throws IllegalArgumentException if the input does not end with {@code normalizedShape}
   */
  public static Tensor layerNorm(
      Tensor input, int[] normalizedShape, Tensor weight, Tensor bias, double eps) {
    int d = checkTrailing(input, normalizedShape, weight, bias);
    int rows = d == 0 ? 0 : input.numel() / d;
    return rowNorm("native_layer_norm", input, weight, bias, rows, 1, d, 1, eps, false);
  }

  /**
   * Root-mean-square normalization, {@code F.rms_norm(input, normalized_shape, weight, eps)}:
   * {@code y = x / sqrt(mean(x^2) + eps) * weight} over the trailing dims.
   *
   * @param input {@code (*, normalizedShape...)}; the output has the same shape
   * @param normalizedShape the trailing dims
   * @param weight of shape {@code normalizedShape}, or null
   * @param eps added to the mean of squares; null means the float32 machine epsilon ({@code
   *     Math.ulp(1f)}), as PyTorch's {@code eps=None}
   */
  public static Tensor rmsNorm(Tensor input, int[] normalizedShape, Tensor weight, Double eps) {
    int d = checkTrailing(input, normalizedShape, weight, null);
    int rows = d == 0 ? 0 : input.numel() / d;
    double e = eps == null ? Math.ulp(1f) : eps;
    return rowNorm("rms_norm", input, weight, null, rows, 1, d, 1, e, true);
  }

  private static int checkTrailing(Tensor input, int[] ns, Tensor weight, Tensor bias) {
    int[] shape = input.shape();
    boolean ok = shape.length >= ns.length;
    for (int i = 0; ok && i < ns.length; i++) {
      ok = shape[shape.length - ns.length + i] == ns[i];
    }
    if (!ok || ns.length == 0) {
      StringBuilder sb = new StringBuilder("[*");
      for (int s : ns) {
        sb.append(", ").append(s);
      }
      sb.append("]");
      throw new IllegalArgumentException(
          "Given normalized_shape="
              + Shapes.str(ns)
              + ", expected input with shape "
              + sb
              + ", but got input of size"
              + Shapes.str(shape));
    }
    for (Tensor p : new Tensor[] {weight, bias}) {
      if (p != null && !Arrays.equals(p.shape(), ns)) {
        throw new IllegalArgumentException(
            "Expected weight to be of same shape as normalized_shape, but got weight of shape "
                + Shapes.str(p.shape())
                + " and normalized_shape = "
                + Shapes.str(ns));
      }
    }
    int d = 1;
    for (int s : ns) {
      d *= s;
    }
    return d;
  }

  /** Shared forward/backward of LayerNorm, GroupNorm and RMSNorm (row layout). */
  private static Tensor rowNorm(
      String op,
      Tensor input,
      Tensor weight,
      Tensor bias,
      int rows,
      int groups,
      int cpg,
      int inner,
      double eps,
      boolean rms) {
    int[] shape = input.shape();
    float[] x = input.data();
    float[] w = weight == null ? null : weight.data();
    float[] b = bias == null ? null : bias.data();
    float[] y = Buffers.uninitialized(x.length);
    double[] mean = new double[rows];
    double[] rstd = new double[rows];
    NormKernels.rowNormForward(x, y, rows, groups, cpg, inner, w, b, eps, rms, false, mean, rstd);
    Tensor out = Tensor.of(y, shape);
    if (!Autograd.needsGrad(input, weight, bias)) {
      return out;
    }
    int nch = groups * cpg;
    return Autograd.record(
        op,
        out,
        (InPlaceBackward)
            (g, owned) -> {
              float[] dx = input.requiresGrad() ? InPlaceBackward.target(g, owned) : null;
              // rowNormBackward zeroes dw and db itself before it sums into them
              float[] dw =
                  weight != null && weight.requiresGrad() ? Buffers.uninitialized(nch) : null;
              float[] db = bias != null && bias.requiresGrad() ? Buffers.uninitialized(nch) : null;
              NormKernels.rowNormBackward(
                  g.data(), x, rows, groups, cpg, inner, mean, rstd, w, rms, dx, dw, db);
              return new Tensor[] {
                dx == null ? null : Tensor.of(dx, shape),
                dw == null ? null : Tensor.of(dw, weight.shape()),
                db == null ? null : Tensor.of(db, bias.shape())
              };
            },
        input,
        weight,
        bias);
  }

  // ---------------------------------------------------------------- local response norm

  /**
   * Local response normalization, {@code F.local_response_norm(input, size, alpha, beta, k)}:
   * {@code y = x / (k + alpha / size * sum of x^2 over size neighbouring channels)^beta}.
   *
   * @param input {@code (N, C, *)} with at least 3 dims; the output has the same shape
   * @param size the number of neighbouring channels (zero-padded at the edges)
   * @param alpha PyTorch's default 1e-4
   * @param beta PyTorch's default 0.75
   * @param k PyTorch's default 1
   */
  public static Tensor localResponseNorm(
      Tensor input, int size, double alpha, double beta, double k) {
    if (input.dim() < 3) {
      throw new IllegalArgumentException(
          "Expected 3D or higher dimensionality input (got " + input.dim() + " dimensions)");
    }
    if (size <= 0) {
      throw new IllegalArgumentException("size must be positive, got " + size);
    }
    int[] shape = input.shape();
    int n = shape[0];
    int c = shape[1];
    int inner = inner(shape, 2);
    float[] x = input.data();
    float[] y = Buffers.uninitialized(x.length);
    float[] den = Buffers.uninitialized(x.length);
    if (x.length > 0) {
      NormKernels.lrnForward(x, y, den, n, c, inner, size, alpha, beta, k);
    }
    Tensor out = Tensor.of(y, shape);
    if (!Autograd.needsGrad(input)) {
      return out;
    }
    return Autograd.record(
        "local_response_norm",
        out,
        g -> {
          float[] dx = Buffers.uninitialized(x.length); // lrnBackward writes every element
          if (x.length > 0) {
            NormKernels.lrnBackward(g.data(), x, den, dx, n, c, inner, size, alpha, beta);
          }
          return new Tensor[] {Tensor.of(dx, shape)};
        },
        input);
  }

  // ---------------------------------------------------------------- AdaIN

  /**
   * {@link #adaptiveInstanceNorm(Tensor, Tensor, double)} with eps 1e-5.
   *
   * @param content {@code (N, C, *)}
   * @param style {@code (N, C, *)}, any spatial size
   * @return the content with the style's per-channel statistics, shaped like {@code content}
   */
  public static Tensor adaptiveInstanceNorm(Tensor content, Tensor style) {
    return adaptiveInstanceNorm(content, style, DEFAULT_EPS);
  }

  /**
   * Adaptive instance normalization (Huang and Belongie, 2017): {@code content} {@code (N, C, *)}
   * normalized per instance (biased variance, {@code eps}), then scaled by the style's per-channel
   * std {@code sqrt(var_biased + eps)} and shifted by its per-channel mean. {@code style} is {@code
   * (N, C, *)} with any spatial size. Differentiable with respect to both inputs.
   *
   * <pre>
   * y = (x - mean_x[n, c]) / sqrt(var_x[n, c] + eps) * sqrt(var_s[n, c] + eps) + mean_s[n, c]
   * </pre>
   *
   * <p>PyTorch has no built-in: AdaIN is written by hand from per-channel means and standard
   * deviations of {@code x.view(N, C, -1)}. Note that many such versions use the unbiased variance
   * ({@code torch.var}'s default); this one uses the biased variance for content and style, so the
   * output's per-channel biased std matches the style's.
   *
   * @param content {@code (N, C, *)}, at least 3 dims
   * @param style {@code (N, C, *)} with the same N and C, any spatial size
   * @param eps added to both variances
   * @return shaped like {@code content}
   */
  public static Tensor adaptiveInstanceNorm(Tensor content, Tensor style, double eps) {
    if (content.dim() < 3 || style.dim() < 3) {
      throw new IllegalArgumentException(
          "adaptive_instance_norm expects (N, C, *) inputs with at least 3 dims, got content "
              + Shapes.str(content.shape())
              + " and style "
              + Shapes.str(style.shape()));
    }
    int n = content.size(0);
    int c = content.size(1);
    if (style.size(0) != n || style.size(1) != c) {
      throw new IllegalArgumentException(
          "content and style must agree in batch and channels, got "
              + Shapes.str(content.shape())
              + " and "
              + Shapes.str(style.shape()));
    }
    Tensor normalized = instanceNorm(content, null, null, null, null, true, 0.1, eps);
    int[] statShape = new int[content.dim()];
    Arrays.fill(statShape, 1);
    statShape[0] = n;
    statShape[1] = c;
    int si = inner(style.shape(), 2);
    Tensor flat = style.reshape(n, c, si);
    Tensor mean = flat.mean(new int[] {2}, true);
    Tensor std = flat.var(new int[] {2}, false, true).add((float) eps).sqrt();
    return normalized.mul(std.reshape(statShape)).add(mean.reshape(statShape));
  }

  // ---------------------------------------------------------------- helpers

  private static int inner(int[] shape, int from) {
    int s = 1;
    for (int i = from; i < shape.length; i++) {
      s *= shape[i];
    }
    return s;
  }

  private static void checkParam(String name, Tensor t, int c) {
    if (t != null && t.numel() != c) {
      throw new IllegalArgumentException(
          name + " should contain " + c + " elements not " + t.numel());
    }
  }

  /**
   * running = (1 - m) * running + m * stat; the variance is made unbiased with {@code total /
   * (total - 1)} when {@code total > 0} (already unbiased when {@code total == 0}).
   */
  private static void updateRunning(
      float[] rm, float[] rv, double[] mean, double[] var, long total, double momentum) {
    for (int i = 0; i < rm.length; i++) {
      double unbiased = total > 0 ? var[i] * total / (total - 1.0) : var[i];
      rm[i] = (float) (momentum * mean[i] + (1 - momentum) * rm[i]);
      rv[i] = (float) (momentum * unbiased + (1 - momentum) * rv[i]);
    }
  }
}
