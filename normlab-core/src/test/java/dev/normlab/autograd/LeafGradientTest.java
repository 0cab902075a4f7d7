package dev.normlab.autograd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;

import dev.normlab.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * A leaf takes over its first gradient without a copy only when nothing else shares that storage:
 * these are the cases where it must copy, and one where it may not.
 */
class LeafGradientTest {
  private static Tensor leaf(float... v) {
    return Tensor.of(v.clone(), v.length).requiresGrad(true);
  }

  @Test
  void theCallersGradientIsCopiedIntoALeaf() {
    Tensor x = leaf(1, 2, 3);
    Tensor g = Tensor.of(new float[] {1, 1, 1}, 3);
    x.backward(g);
    x.backward(g); // accumulates into x.grad: must not write into g
    assertArrayEquals(new float[] {1, 1, 1}, g.data());
    assertArrayEquals(new float[] {2, 2, 2}, x.grad().data());
    assertNotSame(g.data(), x.grad().data());
  }

  @Test
  void aViewOfTheCallersGradientIsCopied() {
    Tensor x = leaf(1, 2, 3, 4);
    Tensor g = Tensor.of(new float[] {1, 2, 3, 4}, 2, 2);
    x.reshape(2, 2).backward(g);
    assertNotSame(g.data(), x.grad().data());
    x.reshape(2, 2).backward(g);
    assertArrayEquals(new float[] {1, 2, 3, 4}, g.data());
    assertArrayEquals(new float[] {2, 4, 6, 8}, x.grad().data());
  }

  @Test
  void oneGradientPassedToTwoLeavesIsCopiedForEach() {
    Tensor a = leaf(1, 2), b = leaf(3, 4);
    Tensor y = a.add(b).mul(2f);
    y.sum().backward();
    assertNotSame(a.grad().data(), b.grad().data());
    y = a.add(b).mul(2f);
    y.sum().backward(); // a second accumulation into a must leave b alone
    assertArrayEquals(new float[] {4, 4}, a.grad().data());
    assertArrayEquals(new float[] {4, 4}, b.grad().data());
  }

  @Test
  void aTensorUsedTwiceGetsTheSumOfBothGradients() {
    Tensor x = leaf(1, 2);
    x.add(x).sum().backward();
    assertArrayEquals(new float[] {2, 2}, x.grad().data());
  }

  @Test
  void aFreshUnsharedGradientIsTakenOverWithoutACopy() {
    Tensor x = leaf(1, -2, 3);
    Tensor fresh = Tensor.of(new float[] {5, 6, 7}, 3);
    Tensor y = Autograd.record("custom", Tensor.of(new float[3], 3), g -> new Tensor[] {fresh}, x);
    y.backward(Tensor.of(new float[] {1, 1, 1}, 3));
    assertSame(fresh.data(), x.grad().data());
    assertArrayEquals(new float[] {5, 6, 7}, x.grad().data());
  }
}
