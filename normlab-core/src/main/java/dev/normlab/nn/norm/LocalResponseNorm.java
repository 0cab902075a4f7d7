package dev.normlab.nn.norm;

import dev.normlab.nn.Module;
import dev.normlab.nn.functional.Normalization;
import dev.normlab.tensor.Tensor;

/**
 * Local Response Normalization, as {@code torch.nn.LocalResponseNorm} (Krizhevsky et al., 2012):
 * each element is divided by a power of the sum of squares of the same position in {@code size}
 * neighbouring channels.
 *
 * <pre>
 * y[n, c] = x[n, c] / (k + alpha / size * sum_{c' in window(c)} x[n, c']^2)^beta
 * </pre>
 *
 * <p>The window spans channels {@code c - size/2 .. c + (size-1)/2}, zero-padded at the edges. No
 * parameters, no statistics; train and eval are the same.
 *
 * <ul>
 *   <li>Input: {@code (N, C, *)} with at least 3 dims; output: the same shape.
 *   <li>Defaults: {@code alpha=1e-4, beta=0.75, k=1}.
 * </ul>
 *
 * <p>PyTorch: {@code torch.nn.LocalResponseNorm(size, alpha=0.0001, beta=0.75, k=1.0)} is {@code
 * new LocalResponseNorm(size, 1e-4, 0.75, 1.0)}; functional form {@link
 * Normalization#localResponseNorm}.
 */
public class LocalResponseNorm extends Module {
  private final int size;
  private final double alpha;
  private final double beta;
  private final double k;

  /**
   * Alpha 1e-4, beta 0.75, k 1 (PyTorch's defaults).
   *
   * @param size the number of neighbouring channels in the window
   */
  public LocalResponseNorm(int size) {
    this(size, 1e-4, 0.75, 1.0);
  }

  /**
   * @param size the number of neighbouring channels in the window
   * @param alpha the multiplicative factor of the sum of squares
   * @param beta the exponent
   * @param k the additive constant
   */
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

  /** The number of neighbouring channels in the window. */
  public int size() {
    return size;
  }

  @Override
  protected String extraRepr() {
    return size + ", alpha=" + pyFloat(alpha) + ", beta=" + pyFloat(beta) + ", k=" + pyFloat(k);
  }
}
