package dev.normlab.nn.norm;

import dev.normlab.nn.Module;
import dev.normlab.nn.functional.Normalization;
import dev.normlab.tensor.Tensor;

/**
 * Group Normalization, as {@code torch.nn.GroupNorm} (Wu and He, 2018): the C channels are split
 * into G groups of C/G consecutive channels, and each (sample, group) is normalized by its own
 * statistics.
 *
 * <pre>
 * y = (x - mean[n, g]) / sqrt(var[n, g] + eps) * weight[c] + bias[c]      g = c / (C / G)
 * </pre>
 *
 * <p>{@code mean[n, g]} and the biased {@code var[n, g]} are computed over the group's channels and
 * all spatial positions, {@code (C/G, *)}. Like Instance and Layer Normalization it never uses
 * other samples and has no running statistics, so train and eval mode are the same. Its two ends:
 * {@code G = C} is Instance Normalization, {@code G = 1} is Layer Normalization over {@code (C, *)}
 * with a per-channel (not per-element) affine.
 *
 * <ul>
 *   <li>Input: {@code (N, C, *)}, e.g. {@code (N, C, H, W)}; output: the same shape.
 *   <li>Parameters (when {@code affine}): {@code weight} {@code (C)} = 1, {@code bias} {@code (C)}
 *       = 0.
 *   <li>Defaults: {@code eps=1e-5, affine=true}; C must be divisible by G.
 * </ul>
 *
 * <p>PyTorch: {@code torch.nn.GroupNorm(num_groups, num_channels, eps=1e-05, affine=True)} is
 * {@code new GroupNorm(numGroups, numChannels, 1e-5, true)}; functional form {@link
 * Normalization#groupNorm}.
 */
public class GroupNorm extends Module {
  private final int numGroups;
  private final int numChannels;
  private final double eps;
  private final boolean affine;
  private final Tensor weight;
  private final Tensor bias;

  /**
   * Eps 1e-5, affine (PyTorch's defaults).
   *
   * @param numGroups G, the number of groups; must divide {@code numChannels}
   * @param numChannels C, the number of channels
   */
  public GroupNorm(int numGroups, int numChannels) {
    this(numGroups, numChannels, 1e-5, true);
  }

  /** The given eps; affine. */
  public GroupNorm(int numGroups, int numChannels, double eps) {
    this(numGroups, numChannels, eps, true);
  }

  /**
   * @param numGroups G, the number of groups; must divide {@code numChannels}
   * @param numChannels C, the number of channels
   * @param eps added to the variance for numerical stability
   * @param affine whether to learn a per-channel {@code weight} and {@code bias}
   * @throws IllegalArgumentException if G is not positive or does not divide C
   */
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

  /** G, the number of groups. */
  public int numGroups() {
    return numGroups;
  }

  /** C, the number of channels. */
  public int numChannels() {
    return numChannels;
  }

  /** The eps added to the variance. */
  public double eps() {
    return eps;
  }

  /** The per-channel weight {@code (C)}, or null without affine. */
  public Tensor weight() {
    return weight;
  }

  /** The per-channel bias {@code (C)}, or null without affine. */
  public Tensor bias() {
    return bias;
  }

  @Override
  protected String extraRepr() {
    return numGroups + ", " + numChannels + ", eps=" + pyFloat(eps) + ", affine=" + py(affine);
  }
}
