package dev.normlab.nn;

import dev.normlab.nn.functional.F;
import dev.normlab.tensor.Rng;
import dev.normlab.tensor.Tensor;

/** Inverted dropout, as {@code torch.nn.Dropout}: active only in training. */
public class Dropout extends Module {
  private final double p;
  private final Rng rng;

  public Dropout(double p, Rng rng) {
    if (p < 0 || p > 1) {
      throw new IllegalArgumentException(
          "dropout probability has to be between 0 and 1, but got " + p);
    }
    this.p = p;
    this.rng = rng;
  }

  public Dropout(double p) {
    this(p, Rng.global());
  }

  @Override
  public Tensor forward(Tensor input) {
    return F.dropout(input, p, isTraining(), rng);
  }

  @Override
  protected String extraRepr() {
    return "p=" + pyFloat(p) + ", inplace=False";
  }
}
