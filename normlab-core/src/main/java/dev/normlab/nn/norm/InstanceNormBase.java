package dev.normlab.nn.norm;

import dev.normlab.nn.functional.Normalization;
import dev.normlab.tensor.Tensor;

/**
 * PyTorch's {@code _InstanceNorm}: statistics per (sample, channel) over the spatial dims (see
 * {@link InstanceNorm2d} for the formula, shapes and defaults). Accepts the unbatched form (one
 * rank less) and returns the same rank; the subclasses only give that rank.
 */
public abstract class InstanceNormBase extends NormBase {
  /** See {@link NormBase#NormBase}. */
  protected InstanceNormBase(
      int numFeatures, double eps, Double momentum, boolean affine, boolean trackRunningStats) {
    super(numFeatures, eps, momentum, affine, trackRunningStats);
  }

  /** The rank of an unbatched input (2 for InstanceNorm1d). */
  protected abstract int noBatchDim();

  @Override
  public Tensor forward(Tensor input) {
    int d = input.dim();
    int nb = noBatchDim();
    if (d != nb && d != nb + 1) {
      throw new IllegalArgumentException(
          "expected " + nb + "D or " + (nb + 1) + "D input (got " + d + "D input)");
    }
    int featureDim = d - nb;
    if (input.size(featureDim) != numFeatures && affine) {
      throw new IllegalArgumentException(
          "expected input's size at dim="
              + featureDim
              + " to match num_features ("
              + numFeatures
              + "), but got: "
              + input.size(featureDim)
              + ".");
    }
    if (d == nb) {
      return run(input.unsqueeze(0)).squeeze(0);
    }
    return run(input);
  }

  private Tensor run(Tensor input) {
    boolean useInputStats = isTraining() || !trackRunningStats;
    return Normalization.instanceNorm(
        input,
        runningMean,
        runningVar,
        weight,
        bias,
        useInputStats,
        momentum == null ? 0.0 : momentum,
        eps);
  }
}
