package dev.normlab.nn;

import dev.normlab.nn.functional.F;
import dev.normlab.tensor.Tensor;
import java.util.function.UnaryOperator;

/** Parameter-free activation modules ({@code ReLU()}, {@code GELU()}, ...). */
public final class Activation extends Module {
  private final String name;
  private final String extra;
  private final UnaryOperator<Tensor> fn;

  private Activation(String name, String extra, UnaryOperator<Tensor> fn) {
    this.name = name;
    this.extra = extra;
    this.fn = fn;
  }

  public static Activation relu() {
    return new Activation("ReLU", "", F::relu);
  }

  public static Activation leakyRelu(float slope) {
    return new Activation(
        "LeakyReLU", "negative_slope=" + pyFloat(slope), x -> F.leakyRelu(x, slope));
  }

  public static Activation gelu() {
    return new Activation("GELU", "approximate='none'", F::gelu);
  }

  public static Activation sigmoid() {
    return new Activation("Sigmoid", "", F::sigmoid);
  }

  public static Activation tanh() {
    return new Activation("Tanh", "", F::tanh);
  }

  /** Whether this is {@code ReLU()} (its zero outputs have zero gradient). */
  public boolean isRelu() {
    return name.equals("ReLU");
  }

  @Override
  public Tensor forward(Tensor input) {
    return fn.apply(input);
  }

  @Override
  public String toString() {
    return name + "(" + extra + ")";
  }
}
