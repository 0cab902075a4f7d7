package dev.normlab.nn.norm;

/**
 * Instance Normalization over a 5D input (a batch of volumes), as {@code torch.nn.InstanceNorm3d}
 * (Ulyanov et al., 2016).
 *
 * <pre>
 * y = (x - mean[n, c]) / sqrt(var[n, c] + eps) * weight[c] + bias[c]
 * </pre>
 *
 * <p>{@code mean[n, c]} and the biased {@code var[n, c]} are computed for each sample {@code n} and
 * channel {@code c} separately, over the spatial dims {@code (D, H, W)}: a sample's output never
 * depends on the other samples of its batch, and the layer behaves the same in train and eval mode.
 * With {@code trackRunningStats=true} training also updates running statistics (the batch mean of
 * the per-instance means and unbiased variances, with {@code momentum}) and eval mode normalizes
 * with them instead, as PyTorch does.
 *
 * <ul>
 *   <li>Input: {@code (N, C, D, H, W)} or unbatched {@code (C, D, H, W)}; output: the same shape.
 *   <li>Parameters (when {@code affine}): {@code weight} {@code (C)} = 1, {@code bias} {@code (C)}
 *       = 0.
 *   <li>Buffers (when {@code trackRunningStats}): {@code running_mean} {@code (C)} = 0, {@code
 *       running_var} {@code (C)} = 1, {@code num_batches_tracked} = 0.
 *   <li>Defaults (unlike BatchNorm's): {@code eps=1e-5, momentum=0.1, affine=false,
 *       trackRunningStats=false}.
 *   <li>Training needs more than one spatial element per channel.
 * </ul>
 *
 * <p>PyTorch: {@code torch.nn.InstanceNorm3d(num_features, eps=1e-05, momentum=0.1, affine=False,
 * track_running_stats=False)} is {@code new InstanceNorm3d(numFeatures, 1e-5, 0.1, false, false)};
 * functional form {@link dev.normlab.nn.functional.Normalization#instanceNorm}. {@code GroupNorm(C,
 * C)} computes the same normalization (with an affine).
 */
public class InstanceNorm3d extends InstanceNormBase {
  /**
   * Eps 1e-5, momentum 0.1, no affine, no running statistics (PyTorch's defaults).
   *
   * @param numFeatures C, the number of channels
   */
  public InstanceNorm3d(int numFeatures) {
    this(numFeatures, 1e-5, 0.1, false, false);
  }

  /** The given eps; no affine, no running statistics. */
  public InstanceNorm3d(int numFeatures, double eps) {
    this(numFeatures, eps, 0.1, false, false);
  }

  /**
   * The given eps and momentum (only used with running statistics; null means they are never
   * updated); no affine, no running statistics.
   */
  public InstanceNorm3d(int numFeatures, double eps, Double momentum) {
    this(numFeatures, eps, momentum, false, false);
  }

  /** The given eps, momentum and affine; no running statistics. */
  public InstanceNorm3d(int numFeatures, double eps, Double momentum, boolean affine) {
    this(numFeatures, eps, momentum, affine, false);
  }

  /**
   * @param numFeatures C, the number of channels
   * @param eps added to the variance for numerical stability
   * @param momentum the running statistics' update factor (null: never updated)
   * @param affine whether to learn a per-channel {@code weight} and {@code bias}
   * @param trackRunningStats whether to keep running statistics and use them in eval mode
   */
  public InstanceNorm3d(
      int numFeatures, double eps, Double momentum, boolean affine, boolean trackRunningStats) {
    super(numFeatures, eps, momentum, affine, trackRunningStats);
  }

  @Override
  protected int noBatchDim() {
    return 4;
  }
}
