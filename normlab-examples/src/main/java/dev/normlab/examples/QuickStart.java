package dev.normlab.examples;

import dev.normlab.nn.norm.InstanceNorm2d;
import dev.normlab.tensor.Rng;
import dev.normlab.tensor.Tensor;

/** The guide's five-line example: InstanceNorm2d on a random (N, C, H, W) batch. */
public final class QuickStart {
  private QuickStart() {}

  /** Returns the normalized batch so that the test can check it. */
  public static Tensor run() {
    // doc:quickstart begin
    Tensor x = Tensor.randn(new Rng(0), 8, 3, 32, 32).mul(5f).add(2f); // (N, C, H, W)
    InstanceNorm2d norm = new InstanceNorm2d(3); // eps 1e-5, no affine, no running stats
    Tensor y = norm.forward(x); // same shape; each (n, c) plane now has mean 0, variance 1
    Tensor plane = y.select(0, 0).select(0, 0); // sample 0, channel 0: a 32 x 32 plane
    System.out.printf(
        "mean %.4f  var %.4f%n",
        plane.mean().item(), plane.var(new int[] {0, 1}, false, false).item());
    // doc:quickstart end
    return y;
  }

  public static void main(String[] args) {
    run();
  }
}
