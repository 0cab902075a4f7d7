package dev.normlab.nn.init;

import dev.normlab.tensor.Rng;
import dev.normlab.tensor.Tensor;

/** Weight initialisation as {@code torch.nn.init}, filling tensors in place. */
public final class Init {
  private Init() {}

  /** fan_in and fan_out of a weight shaped [out, in, *kernel], as PyTorch computes them. */
  public static int[] fans(int[] shape) {
    if (shape.length < 2) {
      throw new IllegalArgumentException(
          "Fan in and fan out can not be computed for tensor with fewer than 2 dimensions");
    }
    int receptive = 1;
    for (int i = 2; i < shape.length; i++) {
      receptive *= shape[i];
    }
    return new int[] {shape[1] * receptive, shape[0] * receptive};
  }

  /** U(low, high) in place, as PyTorch's {@code uniform_} draws it from the same seed. */
  public static Tensor uniform(Tensor t, double low, double high, Rng rng) {
    float[] d = t.data();
    for (int i = 0; i < d.length; i++) {
      d[i] = rng.nextFloat(low, high);
    }
    return t;
  }

  /** N(mean, std) in place. */
  public static Tensor normal(Tensor t, double mean, double std, Rng rng) {
    float[] d = t.data();
    for (int i = 0; i < d.length; i++) {
      d[i] = (float) (mean + std * rng.nextGaussian());
    }
    return t;
  }

  /**
   * Kaiming-uniform with leaky-relu gain for slope {@code a}, fan-in mode: bound = gain *
   * sqrt(3/fan_in), gain = sqrt(2/(1+a^2)). Conv and Linear use a = sqrt(5), i.e. bound =
   * 1/sqrt(fan_in).
   */
  public static Tensor kaimingUniform(Tensor t, double a, Rng rng) {
    int fanIn = fans(t.shape())[0];
    double gain = Math.sqrt(2.0 / (1 + a * a));
    double bound = fanIn == 0 ? 0 : gain * Math.sqrt(3.0 / fanIn);
    return uniform(t, -bound, bound, rng);
  }

  /** PyTorch's default Conv/Linear initialisation of weight and (nullable) bias. */
  public static void defaultLayer(Tensor weight, Tensor bias, Rng rng) {
    kaimingUniform(weight, Math.sqrt(5), rng);
    if (bias != null) {
      int fanIn = fans(weight.shape())[0];
      double bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
      uniform(bias, -bound, bound, rng);
    }
  }
}
