package dev.normlab.autograd;

import dev.normlab.kernels.Buffers;
import dev.normlab.tensor.Tensor;

/**
 * A backward rule that may write its result into the incoming gradient's storage when the engine
 * says it is {@code owned} — no other tensor shares it — as elementwise rules (ReLU, dropout) can:
 * one fresh activation-sized array less per op and step. Given a gradient it does not own, it must
 * leave it untouched.
 */
@FunctionalInterface
public interface InPlaceBackward extends Backward {
  Tensor[] apply(Tensor gradOutput, boolean owned);

  @Override
  default Tensor[] apply(Tensor gradOutput) {
    return apply(gradOutput, false);
  }

  /**
   * Where a rule that writes every element writes its input gradient: the incoming gradient's own
   * storage when {@code owned}, else a fresh array of the same length.
   */
  static float[] target(Tensor gradOutput, boolean owned) {
    return owned ? gradOutput.data() : Buffers.uninitialized(gradOutput.data().length);
  }
}
