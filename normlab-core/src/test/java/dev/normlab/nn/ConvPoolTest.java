package dev.normlab.nn;

import static org.junit.jupiter.api.Assertions.*;

import dev.normlab.nn.functional.ConvPool;
import dev.normlab.tensor.Rng;
import dev.normlab.tensor.Tensor;
import dev.normlab.testing.GradCheck;
import org.junit.jupiter.api.Test;

class ConvPoolTest {
  private final Rng rng = new Rng(11);

  @Test
  void convGradients() {
    GradCheck.check(
        a ->
            ConvPool.conv2d(
                a[0], a[1], a[2], new int[] {2, 1}, new int[] {1, 0}, new int[] {1, 2}, 2),
        Tensor.randn(rng, 2, 4, 6, 7),
        Tensor.randn(rng, 4, 2, 3, 2),
        Tensor.randn(rng, 4));
    GradCheck.check(
        a -> ConvPool.conv1d(a[0], a[1], a[2], 2, 1, 1, 1),
        Tensor.randn(rng, 2, 3, 9),
        Tensor.randn(rng, 2, 3, 3),
        Tensor.randn(rng, 2));
    GradCheck.check(
        a -> ConvPool.conv3d(a[0], a[1], null, new int[] {1}, new int[] {1}, new int[] {1}, 1),
        Tensor.randn(rng, 1, 2, 3, 4, 3),
        Tensor.randn(rng, 2, 2, 2, 2, 2));
  }

  @Test
  void unbatchedConvAndShapeErrors() {
    Conv2d c = new Conv2d(3, 4, 3, rng);
    assertArrayEquals(new int[] {4, 3, 3}, c.forward(Tensor.randn(rng, 3, 5, 5)).shape());
    var e =
        assertThrows(
            IllegalArgumentException.class, () -> c.forward(Tensor.randn(rng, 2, 2, 5, 5)));
    assertEquals(
        "Given groups=1, weight of size [4, 3, 3, 3], expected input[2, 2, 5, 5] to have 3 channels,"
            + " but got 2 channels instead",
        e.getMessage());
    assertEquals("Conv2d(3, 4, kernel_size=(3, 3), stride=(1, 1))", c.toString());
    assertEquals(
        java.util.List.of("weight", "bias"), java.util.List.copyOf(c.stateDict().keySet()));
    var e2 =
        assertThrows(
            IllegalArgumentException.class, () -> c.forward(Tensor.randn(rng, 1, 3, 2, 2)));
    assertTrue(e2.getMessage().contains("Kernel size can't be greater than actual input size"));
  }

  /** Distinct values at least 0.1 apart, so finite differences never cross a max's kink. */
  private Tensor distinct(int... shape) {
    Tensor t = Tensor.zeros(shape);
    int[] perm = rng.permutation(t.numel());
    for (int i = 0; i < perm.length; i++) {
      t.data()[i] = perm[i] * 0.1f - perm.length * 0.05f;
    }
    return t;
  }

  @Test
  void maxPoolValuesAndGradient() {
    Tensor x = Tensor.of(new float[] {1, 5, 2, 0, 3, 4, 8, 1, 0, 2, 9, 9, 7, 1, 3, 6}, 1, 1, 4, 4);
    Tensor y = ConvPool.maxPool2d(x, 2);
    assertArrayEquals(new float[] {5, 8, 7, 9}, y.data());
    GradCheck.check(
        a ->
            ConvPool.maxPool2d(
                a[0], new int[] {3, 2}, new int[] {2, 1}, new int[] {1, 1}, new int[] {1, 1}, true),
        distinct(2, 2, 5, 6));
    GradCheck.check(a -> ConvPool.maxPool1d(a[0], 2, 2, 0, 2, false), distinct(2, 3, 9));
    // the fast 2x2 path's backward, odd sizes (a column and a row outside every window)
    GradCheck.check(a -> ConvPool.maxPool2d(a[0], 2), distinct(2, 3, 5, 19));
    assertEquals(
        "MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)",
        new MaxPool2d(2).toString());
  }

  /**
   * With ceil_mode an odd size gives a last window hanging over the edge: PyTorch pools what is
   * inside (values from PyTorch 1.13: {@code F.max_pool2d(torch.arange(50.).reshape(1, 2, 5, 5), 2,
   * 2, ceil_mode=True)}); the 2x2 fast path once read past the row and the plane there.
   */
  @Test
  void maxPool2x2WithCeilModeOnOddSizes() {
    Tensor x = Tensor.arange(50).reshape(1, 2, 5, 5);
    Tensor y =
        ConvPool.maxPool2d(
            x, new int[] {2, 2}, new int[] {2, 2}, new int[] {0, 0}, new int[] {1, 1}, true);
    assertArrayEquals(new int[] {1, 2, 3, 3}, y.shape());
    assertArrayEquals(
        new float[] {6, 8, 9, 16, 18, 19, 21, 23, 24, 31, 33, 34, 41, 43, 44, 46, 48, 49},
        y.data());
    GradCheck.check(
        a ->
            ConvPool.maxPool2d(
                a[0], new int[] {2, 2}, new int[] {2, 2}, new int[] {0, 0}, new int[] {1, 1}, true),
        distinct(2, 2, 5, 7));
  }

  @Test
  void avgPoolValuesAndGradient() {
    Tensor x = Tensor.arange(16).reshape(1, 1, 4, 4);
    assertArrayEquals(
        new float[] {2.5f, 4.5f, 10.5f, 12.5f},
        ConvPool.avgPool2d(x, new int[] {2, 2}, null, new int[] {0, 0}, false, true).data());
    // padding=1 with count_include_pad: corner window holds only x[0,0]=0 plus 3 pads -> 0/4
    Tensor p1 =
        ConvPool.avgPool2d(x, new int[] {2, 2}, new int[] {2, 2}, new int[] {1, 1}, false, true);
    assertArrayEquals(new int[] {1, 1, 3, 3}, p1.shape());
    assertEquals(0f, p1.data()[0]);
    assertEquals(15f / 4, p1.data()[8]);
    Tensor p2 =
        ConvPool.avgPool2d(x, new int[] {2, 2}, new int[] {2, 2}, new int[] {1, 1}, false, false);
    assertEquals(15f, p2.data()[8]);
    GradCheck.check(
        a ->
            ConvPool.avgPool2d(
                a[0], new int[] {3, 3}, new int[] {2, 2}, new int[] {1, 1}, true, false),
        Tensor.randn(rng, 1, 2, 6, 5));
    GradCheck.check(a -> ConvPool.avgPool1d(a[0], 3, 1, 1, false, true), Tensor.randn(rng, 2, 7));
    var e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                ConvPool.maxPool2d(
                    x, new int[] {2, 2}, null, new int[] {2, 2}, new int[] {1, 1}, false));
    assertTrue(e.getMessage().startsWith("pad should be at most half of effective kernel size"));
  }
}
