package dev.normlab.nn.norm;

import dev.normlab.nn.Module;
import dev.normlab.nn.functional.Normalization;
import dev.normlab.tensor.Tensor;

/** {@code torch.nn.LayerNorm}: normalizes over the trailing {@code normalizedShape} dims. */
public class LayerNorm extends Module {
  private final int[] normalizedShape;
  private final double eps;
  private final boolean elementwiseAffine;
  private final Tensor weight;
  private final Tensor bias;

  /** eps 1e-5, with elementwise affine weight and bias. */
  public LayerNorm(int... normalizedShape) {
    this(normalizedShape, 1e-5, true, true);
  }

  public LayerNorm(int[] normalizedShape, double eps) {
    this(normalizedShape, eps, true, true);
  }

  public LayerNorm(int[] normalizedShape, double eps, boolean elementwiseAffine) {
    this(normalizedShape, eps, elementwiseAffine, true);
  }

  /** {@code bias=false} keeps only the weight (PyTorch 2.1+). */
  public LayerNorm(int[] normalizedShape, double eps, boolean elementwiseAffine, boolean bias) {
    this.normalizedShape = normalizedShape.clone();
    this.eps = eps;
    this.elementwiseAffine = elementwiseAffine;
    this.weight =
        registerParameter("weight", elementwiseAffine ? Tensor.ones(normalizedShape) : null);
    this.bias =
        registerParameter("bias", elementwiseAffine && bias ? Tensor.zeros(normalizedShape) : null);
  }

  @Override
  public Tensor forward(Tensor input) {
    return Normalization.layerNorm(input, normalizedShape, weight, bias, eps);
  }

  /** Weight 1, bias 0. */
  public void resetParameters() {
    if (weight != null) {
      weight.fill(1f);
    }
    if (bias != null) {
      bias.fill(0f);
    }
  }

  public int[] normalizedShape() {
    return normalizedShape.clone();
  }

  public double eps() {
    return eps;
  }

  public Tensor weight() {
    return weight;
  }

  public Tensor bias() {
    return bias;
  }

  @Override
  protected String extraRepr() {
    return pyTuple(normalizedShape)
        + ", eps="
        + pyFloat(eps)
        + ", elementwise_affine="
        + py(elementwiseAffine);
  }

  /** Python's tuple repr: (5,) or (32, 26, 26). */
  static String pyTuple(int[] s) {
    StringBuilder sb = new StringBuilder("(");
    for (int i = 0; i < s.length; i++) {
      if (i > 0) {
        sb.append(", ");
      }
      sb.append(s[i]);
    }
    if (s.length == 1) {
      sb.append(",");
    }
    return sb.append(")").toString();
  }
}
