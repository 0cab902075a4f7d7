package dev.normlab.nn;

import dev.normlab.nn.functional.ConvPool;
import dev.normlab.tensor.Tensor;

/** 2-d average pooling, as {@code torch.nn.AvgPool2d}. */
public class AvgPool2d extends Module {
  private final int[] kernel;
  private final int[] stride;
  private final int[] padding;
  private final boolean ceilMode;
  private final boolean countIncludePad;

  public AvgPool2d(int kernel) {
    this(new int[] {kernel}, null, new int[] {0}, false, true);
  }

  public AvgPool2d(
      int[] kernel, int[] stride, int[] padding, boolean ceilMode, boolean countIncludePad) {
    this.kernel = ConvNd.expand(kernel, 2);
    this.stride = stride == null ? this.kernel.clone() : ConvNd.expand(stride, 2);
    this.padding = ConvNd.expand(padding, 2);
    this.ceilMode = ceilMode;
    this.countIncludePad = countIncludePad;
  }

  @Override
  public Tensor forward(Tensor input) {
    return ConvPool.avgPool2d(input, kernel, stride, padding, ceilMode, countIncludePad);
  }

  @Override
  protected String extraRepr() {
    return "kernel_size="
        + ConvNd.tuple(kernel)
        + ", stride="
        + ConvNd.tuple(stride)
        + ", padding="
        + ConvNd.tuple(padding);
  }
}
