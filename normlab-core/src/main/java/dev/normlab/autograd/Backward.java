package dev.normlab.autograd;

import dev.normlab.tensor.Tensor;

/**
 * The backward rule of one recorded op: given dL/d(output), returns dL/d(input) for each input, in
 * the order the inputs were recorded, with {@code null} where an input needs no gradient.
 */
@FunctionalInterface
public interface Backward {
  Tensor[] apply(Tensor gradOutput);
}
