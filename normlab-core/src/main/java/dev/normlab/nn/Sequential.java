package dev.normlab.nn;

import dev.normlab.tensor.Tensor;

/** Applies its children in order; children are named {@code 0, 1, 2, ...} as in PyTorch. */
public class Sequential extends Module {
  private final java.util.List<Module> layers = new java.util.ArrayList<>();

  public Sequential(Module... modules) {
    for (Module m : modules) {
      add(m);
    }
  }

  public Sequential add(Module m) {
    registerModule(String.valueOf(layers.size()), m);
    layers.add(m);
    return this;
  }

  public Module get(int i) {
    return layers.get(i);
  }

  public int size() {
    return layers.size();
  }

  @Override
  public Tensor forward(Tensor input) {
    Tensor x = input;
    for (Module m : layers) {
      x = m.forward(x);
    }
    return x;
  }

  /**
   * Shows {@code probe} each child's output, named by the child's index (a nested one's inside).
   */
  @Override
  public Tensor forward(Tensor input, ActivationProbe probe) {
    Tensor x = input;
    for (int i = 0; i < layers.size(); i++) {
      String name = String.valueOf(i);
      x = layers.get(i).forward(x, probe.nested(name));
      boolean beforeRelu =
          i + 1 < layers.size() && layers.get(i + 1) instanceof Activation a && a.isRelu();
      probe.observe(name, x, beforeRelu);
    }
    return x;
  }
}
