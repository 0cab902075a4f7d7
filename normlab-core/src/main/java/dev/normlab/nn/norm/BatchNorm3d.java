package dev.normlab.nn.norm;

import dev.normlab.tensor.Tensor;

/**
 * Batch Normalization over a 5D input (a batch of volumes), as {@code torch.nn.BatchNorm3d}.
 *
 * <pre>
 * y = (x - mean[c]) / sqrt(var[c] + eps) * weight[c] + bias[c]
 * </pre>
 *
 * <p>In training mode {@code mean[c]} and the biased {@code var[c]} are computed per channel over
 * {@code (N, D, H, W)}, so a sample's output depends on the rest of its batch; the running
 * statistics are updated as {@code running = (1 - momentum) * running + momentum * batchStat} (the
 * unbiased variance for {@code running_var}), or as a cumulative average when {@code momentum} is
 * null. In eval mode the running statistics are used instead, and the output of a sample no longer
 * depends on its batch. Without running statistics ({@code trackRunningStats=false}) batch
 * statistics are used in both modes.
 *
 * <ul>
 *   <li>Input: {@code (N, C, D, H, W)}; output: the same shape.
 *   <li>Parameters (when {@code affine}): {@code weight} {@code (C)} = 1, {@code bias} {@code (C)}
 *       = 0.
 *   <li>Buffers (when {@code trackRunningStats}): {@code running_mean} {@code (C)} = 0, {@code
 *       running_var} {@code (C)} = 1, {@code num_batches_tracked} (INT64 scalar) = 0.
 *   <li>Defaults: {@code eps=1e-5, momentum=0.1, affine=true, trackRunningStats=true}.
 *   <li>Training needs more than one value per channel ({@code N * spatial > 1}).
 * </ul>
 *
 * <p>PyTorch: {@code torch.nn.BatchNorm3d(num_features, eps=1e-05, momentum=0.1, affine=True,
 * track_running_stats=True)} is {@code new BatchNorm3d(numFeatures, 1e-5, 0.1, true, true)};
 * functional form {@link dev.normlab.nn.functional.Normalization#batchNorm}.
 */
public class BatchNorm3d extends BatchNormBase {
  /**
   * Eps 1e-5, momentum 0.1, affine, tracking running statistics (PyTorch's defaults).
   *
   * @param numFeatures C, the number of channels
   */
  public BatchNorm3d(int numFeatures) {
    this(numFeatures, 1e-5, 0.1, true, true);
  }

  /** The given eps; momentum 0.1, affine, tracking running statistics. */
  public BatchNorm3d(int numFeatures, double eps) {
    this(numFeatures, eps, 0.1, true, true);
  }

  /**
   * The given eps and momentum (null means a cumulative moving average, PyTorch's {@code
   * momentum=None}); affine, tracking running statistics.
   */
  public BatchNorm3d(int numFeatures, double eps, Double momentum) {
    this(numFeatures, eps, momentum, true, true);
  }

  /** The given eps, momentum and affine; tracking running statistics. */
  public BatchNorm3d(int numFeatures, double eps, Double momentum, boolean affine) {
    this(numFeatures, eps, momentum, affine, true);
  }

  /**
   * @param numFeatures C, the number of channels
   * @param eps added to the variance for numerical stability
   * @param momentum the running statistics' update factor, or null for a cumulative average
   * @param affine whether to learn a per-channel {@code weight} and {@code bias}
   * @param trackRunningStats whether to keep running statistics (used in eval mode)
   */
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
