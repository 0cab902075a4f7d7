package dev.normlab.nn;

import dev.normlab.tensor.Rng;

/** 2-D convolution, as {@code torch.nn.Conv2d}. */
public class Conv2d extends ConvNd {
  public Conv2d(int in, int out, int kernel) {
    this(in, out, kernel, Rng.global());
  }

  public Conv2d(int in, int out, int kernel, Rng rng) {
    this(in, out, new int[] {kernel}, new int[] {1}, new int[] {0}, new int[] {1}, 1, true, rng);
  }

  public Conv2d(
      int in,
      int out,
      int[] kernel,
      int[] stride,
      int[] padding,
      int[] dilation,
      int groups,
      boolean bias,
      Rng rng) {
    super(2, in, out, kernel, stride, padding, dilation, groups, bias, rng);
  }
}
