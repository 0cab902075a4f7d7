package dev.normlab.testing;

import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.normlab.autograd.Autograd;
import dev.normlab.tensor.Tensor;
import org.junit.jupiter.api.Test;

class GradCheckTest {
  @Test
  void rejectsAWrongBackward() {
    // y = 2x with a backward that claims dy/dx = 3: the check must catch it.
    assertThrows(
        AssertionError.class,
        () ->
            GradCheck.check(
                x ->
                    Autograd.record(
                        "bad", x[0].detach().mul(2f), g -> new Tensor[] {g.mul(3f)}, x[0]),
                Tensor.vector(1, 2, 3)));
  }
}
