package dev.normlab.optim;

import dev.normlab.tensor.Tensor;
import java.util.List;

/**
 * Adam with decoupled weight decay, as {@code torch.optim.AdamW}: the parameters shrink by {@code 1
 * - lr * weight_decay} before the Adam update, and the gradient is left alone. The default weight
 * decay is 0.01, as in PyTorch.
 */
public final class AdamW extends Adam {
  public AdamW(List<Tensor> params, double lr) {
    this(params, lr, 0.9, 0.999, 1e-8, 1e-2, false);
  }

  public AdamW(
      List<Tensor> params,
      double lr,
      double beta1,
      double beta2,
      double eps,
      double weightDecay,
      boolean amsgrad) {
    super(params, lr, beta1, beta2, eps, weightDecay, amsgrad, true);
  }
}
