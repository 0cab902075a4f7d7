package dev.normlab.nn;

import dev.normlab.tensor.Tensor;

/**
 * Sees a model's intermediate outputs during one forward, by name: what {@code --watch} records (as
 * PyTorch's forward hooks do). The tensor is only valid during the call; a probe reads it and must
 * not change it.
 */
@FunctionalInterface
public interface ActivationProbe {
  /** A probe that looks at nothing. */
  ActivationProbe NONE = (point, activation, beforeRelu) -> {};

  /**
   * @param point the output's name, such as {@code norm1} or, in a {@link Sequential}, the child's
   *     index
   * @param beforeRelu whether a ReLU comes next, so that units at or below zero for the whole batch
   *     are dead ones
   */
  void observe(String point, Tensor activation, boolean beforeRelu);

  /** This probe with {@code prefix + "."} before every point: a nested module's view. */
  default ActivationProbe nested(String prefix) {
    return this == NONE ? NONE : (p, a, r) -> observe(prefix + "." + p, a, r);
  }
}
