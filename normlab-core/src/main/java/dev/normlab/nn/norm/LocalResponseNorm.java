package dev.normlab.nn.norm;

import dev.normlab.nn.Module;
import dev.normlab.nn.functional.Normalization;
import dev.normlab.tensor.Tensor;

/** {@code torch.nn.LocalResponseNorm}: normalization across neighbouring channels. */
public class LocalResponseNorm extends Module {
  private final int size;
  private final double alpha;
  private final double beta;
  private final double k;

  /** alpha 1e-4, beta 0.75, k 1. */
  public LocalResponseNorm(int size) {
    this(size, 1e-4, 0.75, 1.0);
  }

  public LocalResponseNorm(int size, double alpha, double beta, double k) {
    this.size = size;
    this.alpha = alpha;
    this.beta = beta;
    this.k = k;
  }

  @Override
  public Tensor forward(Tensor input) {
    return Normalization.localResponseNorm(input, size, alpha, beta, k);
  }

  public int size() {
    return size;
  }

  @Override
  protected String extraRepr() {
    return size + ", alpha=" + pyFloat(alpha) + ", beta=" + pyFloat(beta) + ", k=" + pyFloat(k);
  }
}
