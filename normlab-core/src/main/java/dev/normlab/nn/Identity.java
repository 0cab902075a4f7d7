package dev.normlab.nn;

import dev.normlab.tensor.Tensor;

/** Returns its input, as {@code torch.nn.Identity} (the "no normalization" choice). */
public class Identity extends Module {
  @Override
  public Tensor forward(Tensor input) {
    return input;
  }
}
