package dev.normlab.nn;

import dev.normlab.nn.functional.F;
import dev.normlab.nn.init.Init;
import dev.normlab.tensor.Rng;
import dev.normlab.tensor.Tensor;

/** {@code y = x W^T + b}, as {@code torch.nn.Linear}; weight [out, in], Kaiming-uniform init. */
public class Linear extends Module {
  private final int inFeatures;
  private final int outFeatures;
  private final Tensor weight;
  private final Tensor bias;

  public Linear(int inFeatures, int outFeatures) {
    this(inFeatures, outFeatures, true, Rng.global());
  }

  public Linear(int inFeatures, int outFeatures, boolean bias, Rng rng) {
    if (inFeatures < 0 || outFeatures < 0) {
      throw new IllegalArgumentException(
          "Linear features must be non-negative, got in=" + inFeatures + ", out=" + outFeatures);
    }
    this.inFeatures = inFeatures;
    this.outFeatures = outFeatures;
    this.weight = registerParameter("weight", Tensor.zeros(outFeatures, inFeatures));
    this.bias = registerParameter("bias", bias ? Tensor.zeros(outFeatures) : null);
    Init.defaultLayer(weight, this.bias, rng);
  }

  public Tensor weight() {
    return weight;
  }

  public Tensor bias() {
    return bias;
  }

  @Override
  public Tensor forward(Tensor input) {
    return F.linear(input, weight, bias);
  }

  @Override
  protected String extraRepr() {
    return "in_features="
        + inFeatures
        + ", out_features="
        + outFeatures
        + ", bias="
        + py(bias != null);
  }
}
