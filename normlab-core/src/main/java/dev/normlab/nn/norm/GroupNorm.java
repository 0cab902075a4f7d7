package dev.normlab.nn.norm;

import dev.normlab.nn.Module;
import dev.normlab.nn.functional.Normalization;
import dev.normlab.tensor.Tensor;

/** {@code torch.nn.GroupNorm}: statistics per (sample, group of channels), per-channel affine. */
public class GroupNorm extends Module {
  private final int numGroups;
  private final int numChannels;
  private final double eps;
  private final boolean affine;
  private final Tensor weight;
  private final Tensor bias;

  /** eps 1e-5, affine. */
  public GroupNorm(int numGroups, int numChannels) {
    this(numGroups, numChannels, 1e-5, true);
  }

  public GroupNorm(int numGroups, int numChannels, double eps) {
    this(numGroups, numChannels, eps, true);
  }

  public GroupNorm(int numGroups, int numChannels, double eps, boolean affine) {
    if (numGroups <= 0 || numChannels % numGroups != 0) {
      throw new IllegalArgumentException("num_channels must be divisible by num_groups");
    }
    this.numGroups = numGroups;
    this.numChannels = numChannels;
    this.eps = eps;
    this.affine = affine;
    this.weight = registerParameter("weight", affine ? Tensor.ones(numChannels) : null);
    this.bias = registerParameter("bias", affine ? Tensor.zeros(numChannels) : null);
  }

  @Override
  public Tensor forward(Tensor input) {
    return Normalization.groupNorm(input, numGroups, weight, bias, eps);
  }

  /** Weight 1, bias 0. */
  public void resetParameters() {
    if (affine) {
      weight.fill(1f);
      bias.fill(0f);
    }
  }

  public int numGroups() {
    return numGroups;
  }

  public int numChannels() {
    return numChannels;
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
    return numGroups + ", " + numChannels + ", eps=" + pyFloat(eps) + ", affine=" + py(affine);
  }
}
