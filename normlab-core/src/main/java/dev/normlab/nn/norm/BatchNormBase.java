package dev.normlab.nn.norm;

import dev.normlab.nn.functional.Normalization;
import dev.normlab.tensor.Tensor;

/**
 * PyTorch's {@code _BatchNorm}: statistics per channel over the batch and spatial dims, batch
 * statistics in training and running statistics in eval (see {@link BatchNorm2d} for the formula,
 * shapes and defaults). The subclasses only check the input rank.
 */
public abstract class BatchNormBase extends NormBase {
  /** See {@link NormBase#NormBase}. */
  protected BatchNormBase(
      int numFeatures, double eps, Double momentum, boolean affine, boolean trackRunningStats) {
    super(numFeatures, eps, momentum, affine, trackRunningStats);
  }

  /** Throws PyTorch's "expected ...D input" error for a wrong rank. */
  protected abstract void checkInputDim(Tensor input);

  @Override
  public Tensor forward(Tensor input) {
    checkInputDim(input);
    double factor = momentum == null ? 0.0 : momentum;
    if (isTraining() && trackRunningStats) {
      numBatchesTracked.data()[0] += 1;
      factor = momentum == null ? 1.0 / numBatchesTracked.data()[0] : momentum;
    }
    boolean bnTraining = isTraining() || (runningMean == null && runningVar == null);
    boolean useBuffers = !isTraining() || trackRunningStats;
    return Normalization.batchNorm(
        input,
        useBuffers ? runningMean : null,
        useBuffers ? runningVar : null,
        weight,
        bias,
        bnTraining,
        factor,
        eps);
  }
}
