package dev.normlab.nn;

import dev.normlab.nn.functional.ConvPool;
import dev.normlab.tensor.Tensor;

/** 2-d max pooling, as {@code torch.nn.MaxPool2d} (stride defaults to the kernel size). */
public class MaxPool2d extends Module {
  private final int[] kernel;
  private final int[] stride;
  private final int[] padding;
  private final int[] dilation;
  private final boolean ceilMode;

  public MaxPool2d(int kernel) {
    this(new int[] {kernel}, null, new int[] {0}, new int[] {1}, false);
  }

  public MaxPool2d(int[] kernel, int[] stride, int[] padding, int[] dilation, boolean ceilMode) {
    this.kernel = ConvNd.expand(kernel, 2);
    this.stride = stride == null ? this.kernel.clone() : ConvNd.expand(stride, 2);
    this.padding = ConvNd.expand(padding, 2);
    this.dilation = ConvNd.expand(dilation, 2);
    this.ceilMode = ceilMode;
  }

  @Override
  public Tensor forward(Tensor input) {
    return ConvPool.maxPool2d(input, kernel, stride, padding, dilation, ceilMode);
  }

  @Override
  protected String extraRepr() {
    String k = kernel[0] == kernel[1] ? String.valueOf(kernel[0]) : ConvNd.tuple(kernel);
    String s = stride[0] == stride[1] ? String.valueOf(stride[0]) : ConvNd.tuple(stride);
    String p = padding[0] == padding[1] ? String.valueOf(padding[0]) : ConvNd.tuple(padding);
    String d = dilation[0] == dilation[1] ? String.valueOf(dilation[0]) : ConvNd.tuple(dilation);
    return "kernel_size="
        + k
        + ", stride="
        + s
        + ", padding="
        + p
        + ", dilation="
        + d
        + ", ceil_mode="
        + py(ceilMode);
  }
}
