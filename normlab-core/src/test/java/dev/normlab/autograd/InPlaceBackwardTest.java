package dev.normlab.autograd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;

import dev.normlab.nn.functional.F;
import dev.normlab.tensor.Rng;
import dev.normlab.tensor.Tensor;
import org.junit.jupiter.api.Test;

/** ReLU and dropout write their gradient into an owned incoming gradient, and only then. */
class InPlaceBackwardTest {
  /** An op whose backward hands out {@code fresh}, a gradient nothing else holds. */
  private static Tensor feeding(Tensor y, Tensor fresh) {
    return Autograd.record(
        "feed", Tensor.of(y.data().clone(), y.shape()), g -> new Tensor[] {fresh}, y);
  }

  @Test
  void reluWritesIntoAnOwnedGradient() {
    Tensor x = Tensor.of(new float[] {1, -2, 3, -4}, 4).requiresGrad(true);
    Tensor fresh = Tensor.of(new float[] {10, 20, 30, 40}, 4);
    feeding(F.relu(x), fresh).backward(Tensor.of(new float[4], 4));
    assertArrayEquals(new float[] {10, 0, 30, 0}, x.grad().data());
    assertSame(fresh.data(), x.grad().data()); // relu in place, then the leaf took it over
  }

  @Test
  void reluLeavesTheCallersGradientAlone() {
    Tensor x = Tensor.of(new float[] {1, -2, 3, -4}, 4).requiresGrad(true);
    Tensor g = Tensor.of(new float[] {10, 20, 30, 40}, 4);
    F.relu(x).backward(g);
    assertArrayEquals(new float[] {10, 20, 30, 40}, g.data());
    assertArrayEquals(new float[] {10, 0, 30, 0}, x.grad().data());
    assertNotSame(g.data(), x.grad().data());
  }

  @Test
  void aGradientSharedByTwoConsumersIsNotOverwritten() {
    // y feeds both relu and a second path: its gradient from relu must not clobber the other path's
    Tensor x = Tensor.of(new float[] {1, -2}, 2).requiresGrad(true);
    Tensor y = x.mul(1f);
    Tensor z = F.relu(y).add(y.mul(3f));
    z.sum().backward();
    assertArrayEquals(new float[] {4, 3}, x.grad().data());
  }

  @Test
  void dropoutWritesIntoAnOwnedGradientAndMatchesTheCopyingPath() {
    Tensor x = Tensor.of(new float[] {1, 2, 3, 4, 5, 6, 7, 8}, 8).requiresGrad(true);
    Tensor y = F.dropout(x, 0.5, true, new Rng(3));
    Tensor fresh = Tensor.of(new float[] {1, 1, 1, 1, 1, 1, 1, 1}, 8);
    feeding(y, fresh).backward(Tensor.of(new float[8], 8));
    float[] expected = new float[8];
    for (int i = 0; i < 8; i++) {
      expected[i] = y.data()[i] == 0 ? 0f : 2f; // the mask scaled by 1/(1-p)
    }
    assertArrayEquals(expected, x.grad().data());
    assertSame(fresh.data(), x.grad().data());
    Tensor x2 = Tensor.of(new float[] {1, 2, 3, 4, 5, 6, 7, 8}, 8).requiresGrad(true);
    Tensor y2 = F.dropout(x2, 0.5, true, new Rng(3));
    Tensor g = Tensor.of(new float[] {1, 1, 1, 1, 1, 1, 1, 1}, 8);
    y2.backward(g);
    assertArrayEquals(expected, x2.grad().data());
    assertArrayEquals(new float[] {1, 1, 1, 1, 1, 1, 1, 1}, g.data());
  }
}
