package dev.normlab.nn.norm;

/** {@code torch.nn.InstanceNorm2d}: input 4-D (batched) or 3-D (unbatched). */
public class InstanceNorm2d extends InstanceNormBase {
  /** eps 1e-5, momentum 0.1, no affine, no running statistics. */
  public InstanceNorm2d(int numFeatures) {
    this(numFeatures, 1e-5, 0.1, false, false);
  }

  public InstanceNorm2d(int numFeatures, double eps) {
    this(numFeatures, eps, 0.1, false, false);
  }

  /** A null momentum means the running statistics are never updated. */
  public InstanceNorm2d(int numFeatures, double eps, Double momentum) {
    this(numFeatures, eps, momentum, false, false);
  }

  public InstanceNorm2d(int numFeatures, double eps, Double momentum, boolean affine) {
    this(numFeatures, eps, momentum, affine, false);
  }

  public InstanceNorm2d(
      int numFeatures, double eps, Double momentum, boolean affine, boolean trackRunningStats) {
    super(numFeatures, eps, momentum, affine, trackRunningStats);
  }

  @Override
  protected int noBatchDim() {
    return 3;
  }
}
