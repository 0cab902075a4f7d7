package dev.normlab.nn.norm;

import dev.normlab.nn.Module;
import dev.normlab.nn.functional.Normalization;
import dev.normlab.tensor.Tensor;

/**
 * Layer Normalization, as {@code torch.nn.LayerNorm} (Ba et al., 2016): each sample is normalized
 * by the statistics of its trailing {@code normalizedShape} dims.
 *
 * <pre>
 * y = (x - mean) / sqrt(var + eps) * weight + bias
 * </pre>
 *
 * <p>{@code mean} and the biased {@code var} are computed over the last {@code
 * normalizedShape.length} dims, separately for every leading index (e.g. per sample for {@code
 * normalizedShape = (C, H, W)}, per token for {@code (D)} on {@code (N, T, D)}). {@code weight} and
 * {@code bias} have the shape {@code normalizedShape}: one value per element, not per channel (this
 * is where it differs from {@code GroupNorm(1, C)}). No running statistics: train and eval are the
 * same.
 *
 * <ul>
 *   <li>Input: {@code (*, normalizedShape...)}; output: the same shape.
 *   <li>Parameters (when {@code elementwiseAffine}): {@code weight} = 1 and {@code bias} = 0, both
 *       of shape {@code normalizedShape}; {@code bias=false} keeps only the weight.
 *   <li>Defaults: {@code eps=1e-5, elementwiseAffine=true, bias=true}.
 * </ul>
 *
 * <p>PyTorch: {@code torch.nn.LayerNorm(normalized_shape, eps=1e-05, elementwise_affine=True,
 * bias=True)} is {@code new LayerNorm(new int[] {...}, 1e-5, true, true)} (or {@code new
 * LayerNorm(C, H, W)}); functional form {@link Normalization#layerNorm}.
 */
public class LayerNorm extends Module {
  private final int[] normalizedShape;
  private final double eps;
  private final boolean elementwiseAffine;
  private final Tensor weight;
  private final Tensor bias;

  /**
   * Eps 1e-5, with elementwise affine weight and bias (PyTorch's defaults).
   *
   * @param normalizedShape the trailing dims to normalize over, e.g. {@code 32, 26, 26}
   */
  public LayerNorm(int... normalizedShape) {
    this(normalizedShape, 1e-5, true, true);
  }

  /** The given eps; elementwise affine weight and bias. */
  public LayerNorm(int[] normalizedShape, double eps) {
    this(normalizedShape, eps, true, true);
  }

  /** The given eps; weight and bias if {@code elementwiseAffine}. */
  public LayerNorm(int[] normalizedShape, double eps, boolean elementwiseAffine) {
    this(normalizedShape, eps, elementwiseAffine, true);
  }

  /**
   * @param normalizedShape the trailing dims to normalize over
   * @param eps added to the variance for numerical stability
   * @param elementwiseAffine whether to learn {@code weight} (and {@code bias})
   * @param bias whether to learn a bias too; {@code false} keeps only the weight (PyTorch 2.1+)
   */
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

  /** A copy of the normalized trailing shape. */
  public int[] normalizedShape() {
    return normalizedShape.clone();
  }

  /** The eps added to the variance. */
  public double eps() {
    return eps;
  }

  /** The weight (shape {@code normalizedShape}), or null without elementwise affine. */
  public Tensor weight() {
    return weight;
  }

  /** The bias (shape {@code normalizedShape}), or null. */
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
