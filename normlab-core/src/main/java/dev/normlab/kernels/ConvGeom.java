package dev.normlab.kernels;

import java.util.Arrays;

/**
 * The geometry of an N-d convolution: input [n, cin, *in], weight [cout, cin/groups, *kernel],
 * output [n, cout, *out] with out = floor((in + 2*pad - dil*(k-1) - 1) / stride) + 1.
 */
public record ConvGeom(
    int n,
    int cin,
    int[] in,
    int cout,
    int[] kernel,
    int[] stride,
    int[] padding,
    int[] dilation,
    int groups) {

  public ConvGeom {
    int nd = in.length;
    if (kernel.length != nd
        || stride.length != nd
        || padding.length != nd
        || dilation.length != nd) {
      throw new IllegalArgumentException(
          "conv geometry: all spatial arrays need " + nd + " entries");
    }
    in = in.clone();
    kernel = kernel.clone();
    stride = stride.clone();
    padding = padding.clone();
    dilation = dilation.clone();
  }

  public int nd() {
    return in.length;
  }

  public int[] outSpatial() {
    int[] o = new int[in.length];
    for (int i = 0; i < o.length; i++) {
      o[i] =
          Math.floorDiv(in[i] + 2 * padding[i] - dilation[i] * (kernel[i] - 1) - 1, stride[i]) + 1;
    }
    return o;
  }

  public int inSize() {
    return prod(in);
  }

  public int outSize() {
    return prod(outSpatial());
  }

  public int kernelSize() {
    return prod(kernel);
  }

  /** Rows of the unfolded (im2col) matrix of one group: cin/groups * prod(kernel). */
  public int colRows() {
    return cin / groups * kernelSize();
  }

  /** True for 1x1 (x1) kernels with unit stride and no padding: the input is its own im2col. */
  public boolean isPointwise() {
    for (int i = 0; i < in.length; i++) {
      if (kernel[i] != 1 || stride[i] != 1 || padding[i] != 0) {
        return false;
      }
    }
    return true;
  }

  static int prod(int[] a) {
    int p = 1;
    for (int v : a) {
      p *= v;
    }
    return p;
  }

  @Override
  public String toString() {
    return "ConvGeom[n="
        + n
        + ", cin="
        + cin
        + ", in="
        + Arrays.toString(in)
        + ", cout="
        + cout
        + ", kernel="
        + Arrays.toString(kernel)
        + ", stride="
        + Arrays.toString(stride)
        + ", padding="
        + Arrays.toString(padding)
        + ", dilation="
        + Arrays.toString(dilation)
        + ", groups="
        + groups
        + "]";
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ConvGeom g
        && n == g.n
        && cin == g.cin
        && cout == g.cout
        && groups == g.groups
        && Arrays.equals(in, g.in)
        && Arrays.equals(kernel, g.kernel)
        && Arrays.equals(stride, g.stride)
        && Arrays.equals(padding, g.padding)
        && Arrays.equals(dilation, g.dilation);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(in) * 31 + n * 7 + cin * 5 + cout * 3 + groups;
  }
}
