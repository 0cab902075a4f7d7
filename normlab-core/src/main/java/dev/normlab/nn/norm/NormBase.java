package dev.normlab.nn.norm;

import dev.normlab.nn.Module;
import dev.normlab.tensor.Tensor;

/**
 * The common state of BatchNorm and InstanceNorm, as PyTorch's {@code _NormBase}: optional
 * per-channel {@code weight}/{@code bias} parameters ({@code (C)}, initialized to 1 and 0) and
 * optional {@code running_mean} ({@code (C)}, 0), {@code running_var} ({@code (C)}, 1) and {@code
 * num_batches_tracked} (INT64 scalar, 0) buffers. The state-dict keys are PyTorch's, so a
 * checkpoint loads in either library. Subclasses: {@link BatchNormBase} ({@link BatchNorm1d},
 * {@link BatchNorm2d}, {@link BatchNorm3d}) and {@link InstanceNormBase} ({@link InstanceNorm1d},
 * {@link InstanceNorm2d}, {@link InstanceNorm3d}).
 */
public abstract class NormBase extends Module {
  protected final int numFeatures;
  protected final double eps;
  protected final Double momentum;
  protected final boolean affine;
  protected final boolean trackRunningStats;
  protected final Tensor weight;
  protected final Tensor bias;
  protected final Tensor runningMean;
  protected final Tensor runningVar;
  protected final Tensor numBatchesTracked;

  /**
   * @param numFeatures C, the number of channels
   * @param eps added to the variance for numerical stability
   * @param momentum the running statistics' update factor; null has a subclass-specific meaning
   * @param affine whether to learn a per-channel {@code weight} and {@code bias}
   * @param trackRunningStats whether to keep running-statistics buffers
   */
  protected NormBase(
      int numFeatures, double eps, Double momentum, boolean affine, boolean trackRunningStats) {
    if (numFeatures < 0) {
      throw new IllegalArgumentException("num_features must be non-negative, got " + numFeatures);
    }
    this.numFeatures = numFeatures;
    this.eps = eps;
    this.momentum = momentum;
    this.affine = affine;
    this.trackRunningStats = trackRunningStats;
    this.weight = registerParameter("weight", affine ? Tensor.ones(numFeatures) : null);
    this.bias = registerParameter("bias", affine ? Tensor.zeros(numFeatures) : null);
    this.runningMean =
        registerBuffer("running_mean", trackRunningStats ? Tensor.zeros(numFeatures) : null);
    this.runningVar =
        registerBuffer("running_var", trackRunningStats ? Tensor.ones(numFeatures) : null);
    this.numBatchesTracked =
        registerBuffer("num_batches_tracked", trackRunningStats ? longScalar(0) : null);
  }

  /** Running mean 0, running variance 1, batch counter 0 (no-op without running stats). */
  public void resetRunningStats() {
    if (trackRunningStats) {
      runningMean.fill(0f);
      runningVar.fill(1f);
      numBatchesTracked.fill(0f);
    }
  }

  /** Resets the running statistics and sets weight to 1 and bias to 0. */
  public void resetParameters() {
    resetRunningStats();
    if (affine) {
      weight.fill(1f);
      bias.fill(0f);
    }
  }

  /** C, the number of channels. */
  public int numFeatures() {
    return numFeatures;
  }

  /** The eps added to the variance. */
  public double eps() {
    return eps;
  }

  /** The momentum, or null for a cumulative moving average. */
  public Double momentum() {
    return momentum;
  }

  /** Whether there is a per-channel weight and bias. */
  public boolean affine() {
    return affine;
  }

  /** Whether running statistics are kept. */
  public boolean trackRunningStats() {
    return trackRunningStats;
  }

  /** The weight parameter, or null without affine. */
  public Tensor weight() {
    return weight;
  }

  /** The bias parameter, or null without affine. */
  public Tensor bias() {
    return bias;
  }

  /** The running mean buffer {@code (C)}, or null without running statistics. */
  public Tensor runningMean() {
    return runningMean;
  }

  /** The running (unbiased) variance buffer {@code (C)}, or null without running statistics. */
  public Tensor runningVar() {
    return runningVar;
  }

  /** The INT64 0-dim batch counter, or null without running statistics. */
  public Tensor numBatchesTracked() {
    return numBatchesTracked;
  }

  @Override
  protected String extraRepr() {
    return numFeatures
        + ", eps="
        + pyFloat(eps)
        + ", momentum="
        + (momentum == null ? "None" : pyFloat(momentum))
        + ", affine="
        + py(affine)
        + ", track_running_stats="
        + py(trackRunningStats);
  }
}
