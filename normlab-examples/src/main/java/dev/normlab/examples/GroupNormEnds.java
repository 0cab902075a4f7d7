package dev.normlab.examples;

import dev.normlab.nn.functional.Normalization;
import dev.normlab.tensor.Rng;
import dev.normlab.tensor.Tensor;

/**
 * Instance and Layer Normalization as the two ends of Group Normalization: with one channel per
 * group GroupNorm is InstanceNorm; with one group for all channels it is LayerNorm over (C, H, W)
 * followed by GroupNorm's per-channel affine.
 */
public final class GroupNormEnds {
  private GroupNormEnds() {}

  /** The two printed maximum absolute differences. */
  public record Result(double groupsEqualChannelsVsInstance, double oneGroupVsLayer) {}

  public static Result run() {
    // doc:groupnorm-ends begin
    Rng rng = new Rng(0);
    Tensor x = Tensor.randn(rng, 4, 6, 5, 5).mul(3f).add(1f); // (N, C, H, W) with C = 6
    Tensor w = Tensor.randn(rng, 6); // GroupNorm's affine is per channel: (C)
    Tensor b = Tensor.randn(rng, 6);

    // G = C: each group is one channel -> InstanceNorm (statistics per sample and channel)
    Tensor gnC = Normalization.groupNorm(x, 6, w, b, 1e-5);
    Tensor in = Normalization.instanceNorm(x, null, null, w, b, true, 0.1, 1e-5);

    // G = 1: one group holds all channels -> LayerNorm over (C, H, W), then per-channel affine
    Tensor gn1 = Normalization.groupNorm(x, 1, w, b, 1e-5);
    Tensor ln =
        Normalization.layerNorm(x, new int[] {6, 5, 5}, null, null, 1e-5)
            .mul(w.reshape(1, 6, 1, 1))
            .add(b.reshape(1, 6, 1, 1));

    double dIn = gnC.sub(in).abs().max().item();
    double dLn = gn1.sub(ln).abs().max().item();
    System.out.printf("max |GroupNorm(G=C) - InstanceNorm| = %.3g%n", dIn);
    System.out.printf("max |GroupNorm(G=1) - LayerNorm|    = %.3g%n", dLn);
    // doc:groupnorm-ends end
    return new Result(dIn, dLn);
  }

  public static void main(String[] args) {
    run();
  }
}
