package dev.normlab.nn.norm;

import dev.normlab.tensor.Tensor;

/** {@code torch.nn.BatchNorm3d}: input 5D. */
public class BatchNorm3d extends BatchNormBase {
  /** eps 1e-5, momentum 0.1, affine, tracking running statistics. */
  public BatchNorm3d(int numFeatures) {
    this(numFeatures, 1e-5, 0.1, true, true);
  }

  public BatchNorm3d(int numFeatures, double eps) {
    this(numFeatures, eps, 0.1, true, true);
  }

  /** A null momentum means a cumulative moving average. */
  public BatchNorm3d(int numFeatures, double eps, Double momentum) {
    this(numFeatures, eps, momentum, true, true);
  }

  public BatchNorm3d(int numFeatures, double eps, Double momentum, boolean affine) {
    this(numFeatures, eps, momentum, affine, true);
  }

  public BatchNorm3d(
      int numFeatures, double eps, Double momentum, boolean affine, boolean trackRunningStats) {
    super(numFeatures, eps, momentum, affine, trackRunningStats);
  }

  @Override
  protected void checkInputDim(Tensor input) {
    int d = input.dim();
    if (!(d == 5)) {
      throw new IllegalArgumentException("expected 5D input (got " + d + "D input)");
    }
  }
}
