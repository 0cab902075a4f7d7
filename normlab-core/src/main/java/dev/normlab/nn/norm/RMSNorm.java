package dev.normlab.nn.norm;

import dev.normlab.nn.Module;
import dev.normlab.nn.functional.Normalization;
import dev.normlab.tensor.Tensor;

/**
 * {@code torch.nn.RMSNorm}: {@code x / sqrt(mean(x^2) + eps) * weight} over the trailing dims. A
 * null eps means the float32 machine epsilon.
 */
public class RMSNorm extends Module {
  private final int[] normalizedShape;
  private final Double eps;
  private final boolean elementwiseAffine;
  private final Tensor weight;

  /** eps = float epsilon, with a weight. */
  public RMSNorm(int... normalizedShape) {
    this(normalizedShape, null, true);
  }

  public RMSNorm(int[] normalizedShape, Double eps) {
    this(normalizedShape, eps, true);
  }

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

  public int[] normalizedShape() {
    return normalizedShape.clone();
  }

  /** The eps, or null for the float32 machine epsilon. */
  public Double eps() {
    return eps;
  }

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
