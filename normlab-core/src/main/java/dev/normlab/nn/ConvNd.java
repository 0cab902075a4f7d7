package dev.normlab.nn;

import dev.normlab.nn.functional.ConvPool;
import dev.normlab.nn.init.Init;
import dev.normlab.tensor.Rng;
import dev.normlab.tensor.Tensor;

/**
 * N-d convolution module, as {@code torch.nn.Conv1d/2d/3d}: weight [out, in/groups, *kernel]
 * (Kaiming-uniform), bias [out] (uniform in ±1/sqrt(fan_in)).
 */
public abstract class ConvNd extends Module {
  private final int nd;
  private final int in;
  private final int out;
  private final int[] kernel;
  private final int[] stride;
  private final int[] padding;
  private final int[] dilation;
  private final int groups;
  private final Tensor weight;
  private final Tensor bias;

  protected ConvNd(
      int nd,
      int in,
      int out,
      int[] kernel,
      int[] stride,
      int[] padding,
      int[] dilation,
      int groups,
      boolean bias,
      Rng rng) {
    if (in <= 0 || out <= 0) {
      throw new IllegalArgumentException(
          "in_channels and out_channels must be positive, got " + in + " and " + out);
    }
    if (groups <= 0 || in % groups != 0) {
      throw new IllegalArgumentException("in_channels must be divisible by groups");
    }
    if (out % groups != 0) {
      throw new IllegalArgumentException("out_channels must be divisible by groups");
    }
    this.nd = nd;
    this.in = in;
    this.out = out;
    this.kernel = expand(kernel, nd);
    this.stride = expand(stride, nd);
    this.padding = expand(padding, nd);
    this.dilation = expand(dilation, nd);
    this.groups = groups;
    int[] ws = new int[nd + 2];
    ws[0] = out;
    ws[1] = in / groups;
    System.arraycopy(this.kernel, 0, ws, 2, nd);
    this.weight = registerParameter("weight", Tensor.zeros(ws));
    this.bias = registerParameter("bias", bias ? Tensor.zeros(out) : null);
    Init.defaultLayer(weight, this.bias, rng);
  }

  static int[] expand(int[] v, int nd) {
    if (v.length == nd) {
      return v.clone();
    }
    if (v.length == 1) {
      int[] r = new int[nd];
      java.util.Arrays.fill(r, v[0]);
      return r;
    }
    throw new IllegalArgumentException(
        "expected 1 or " + nd + " values, got " + java.util.Arrays.toString(v));
  }

  public Tensor weight() {
    return weight;
  }

  public Tensor bias() {
    return bias;
  }

  @Override
  public Tensor forward(Tensor input) {
    return ConvPool.conv(nd, input, weight, bias, stride, padding, dilation, groups);
  }

  static String tuple(int[] v) {
    if (v.length == 1) {
      return "(" + v[0] + ",)";
    }
    StringBuilder sb = new StringBuilder("(");
    for (int i = 0; i < v.length; i++) {
      sb.append(i > 0 ? ", " : "").append(v[i]);
    }
    return sb.append(')').toString();
  }

  private static boolean all(int[] v, int x) {
    for (int e : v) {
      if (e != x) {
        return false;
      }
    }
    return true;
  }

  @Override
  protected String extraRepr() {
    StringBuilder sb = new StringBuilder();
    sb.append(in).append(", ").append(out).append(", kernel_size=").append(tuple(kernel));
    sb.append(", stride=").append(tuple(stride));
    if (!all(padding, 0)) {
      sb.append(", padding=").append(tuple(padding));
    }
    if (!all(dilation, 1)) {
      sb.append(", dilation=").append(tuple(dilation));
    }
    if (groups != 1) {
      sb.append(", groups=").append(groups);
    }
    if (bias == null) {
      sb.append(", bias=False");
    }
    return sb.toString();
  }
}
