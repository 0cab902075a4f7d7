package dev.normlab.nn.norm;

import dev.normlab.nn.Module;
import dev.normlab.nn.functional.Normalization;
import dev.normlab.tensor.Tensor;

/**
 * Root-mean-square normalization, as {@code torch.nn.RMSNorm} (Zhang and Sennrich, 2019): like
 * LayerNorm without the centring and without a bias.
 *
 * <pre>
 * y = x / sqrt(mean(x^2) + eps) * weight
 * </pre>
 *
 * <p>The mean of squares is taken over the trailing {@code normalizedShape} dims, for every leading
 * index. No running statistics.
 *
 * <ul>
 *   <li>Input: {@code (*, normalizedShape...)}; output: the same shape.
 *   <li>Parameter (when {@code elementwiseAffine}): {@code weight} of shape {@code normalizedShape}
 *       = 1.
 *   <li>Defaults: {@code eps=null} (the float32 machine epsilon, {@code Math.ulp(1f)}, as PyTorch's
 *       {@code eps=None}), {@code elementwiseAffine=true}.
 * </ul>
 *
 * <p>PyTorch: {@code torch.nn.RMSNorm(normalized_shape, eps=None, elementwise_affine=True)} is
 * {@code new RMSNorm(new int[] {...}, null, true)}; functional form {@link Normalization#rmsNorm}.
 */
public class RMSNorm extends Module {
  private final int[] normalizedShape;
  private final Double eps;
  private final boolean elementwiseAffine;
  private final Tensor weight;

  /**
   * Eps = the float32 machine epsilon, with a weight (PyTorch's defaults).
   *
   * @param normalizedShape the trailing dims to normalize over
   */
  public RMSNorm(int... normalizedShape) {
    this(normalizedShape, null, true);
  }

  /** The given eps (null: float32 machine epsilon); with a weight. */
  public RMSNorm(int[] normalizedShape, Double eps) {
    this(normalizedShape, eps, true);
  }

  /**
   * @param normalizedShape the trailing dims to normalize over
   * @param eps added to the mean of squares; null means the float32 machine epsilon
   * @param elementwiseAffine whether to learn a {@code weight} of shape {@code normalizedShape}
   */
  public RMSNorm(int[] normalizedShape, Double eps, boolean elementwiseAffine) {
    this.normalizedShape = normalizedShape.clone();
    this.eps = eps;
    this.elementwiseAffine = elementwiseAffine;
    this.weight =
        registerParameter("weight", elementwiseAffine ? Tensor.ones(normalizedShape) : null);
  }

  @Override
  public Tensor forward(Tensor input) {
    return Normalization.rmsNorm(input, normalizedShape, weight, eps);
  }

  /** Weight 1. */
  public void resetParameters() {
    if (weight != null) {
      weight.fill(1f);
    }
  }

  /** A copy of the normalized trailing shape. */
  public int[] normalizedShape() {
    return normalizedShape.clone();
  }

  /** The eps, or null for the float32 machine epsilon. */
  public Double eps() {
    return eps;
  }

  /** The weight (shape {@code normalizedShape}), or null without elementwise affine. */
  public Tensor weight() {
    return weight;
  }

  @Override
  protected String extraRepr() {
    return LayerNorm.pyTuple(normalizedShape)
        + ", eps="
        + (eps == null ? "None" : pyFloat(eps))
        + ", elementwise_affine="
        + py(elementwiseAffine);
  }
}
