package dev.normlab.nn;

import dev.normlab.tensor.Rng;

/** 3-D convolution, as {@code torch.nn.Conv3d}. */
public class Conv3d extends ConvNd {
  public Conv3d(int in, int out, int kernel) {
    this(in, out, kernel, Rng.global());
  }

  public Conv3d(int in, int out, int kernel, Rng rng) {
    this(in, out, new int[] {kernel}, new int[] {1}, new int[] {0}, new int[] {1}, 1, true, rng);
  }

  public Conv3d(
      int in,
      int out,
      int[] kernel,
      int[] stride,
      int[] padding,
      int[] dilation,
      int groups,
      boolean bias,
      Rng rng) {
    super(3, in, out, kernel, stride, padding, dilation, groups, bias, rng);
  }
}
