package dev.normlab.tensor;

import static org.junit.jupiter.api.Assertions.*;

import dev.normlab.autograd.GradMode;
import dev.normlab.testing.GradCheck;
import org.junit.jupiter.api.Test;

class TensorOpsTest {
  private final Rng rng = new Rng(42);

  private Tensor randn(int... shape) {
    return Tensor.randn(rng, shape);
  }

  @Test
  void broadcastShapesFollowPyTorchRules() {
    // Examples from PyTorch's broadcasting semantics notes.
    assertArrayEquals(
        new int[] {5, 3, 4, 1}, Shapes.broadcast(new int[] {5, 3, 4, 1}, new int[] {3, 1, 1}));
    assertArrayEquals(
        new int[] {5, 3, 4, 1}, Shapes.broadcast(new int[] {5, 1, 4, 1}, new int[] {3, 1, 1}));
    assertArrayEquals(
        new int[] {5, 7, 3}, Shapes.broadcast(new int[] {5, 7, 3}, new int[] {5, 7, 3}));
    assertArrayEquals(new int[] {2, 3}, Shapes.broadcast(new int[] {}, new int[] {2, 3}));
    var e =
        assertThrows(
            IllegalArgumentException.class,
            () -> Shapes.broadcast(new int[] {5, 2, 4, 1}, new int[] {3, 1, 1}));
    assertTrue(
        e.getMessage().contains("The size of tensor a (2) must match the size of tensor b (3)"),
        e.getMessage());
  }

  @Test
  void broadcastAddMatchesLoops() {
    Tensor a = randn(4, 1, 5);
    Tensor b = randn(3, 1);
    Tensor c = a.add(b);
    assertArrayEquals(new int[] {4, 3, 5}, c.shape());
    for (int i = 0; i < 4; i++) {
      for (int j = 0; j < 3; j++) {
        for (int k = 0; k < 5; k++) {
          assertEquals(a.get(i, 0, k) + b.get(j, 0), c.get(i, j, k), 0f);
        }
      }
    }
  }

  @Test
  void elementwiseGradients() {
    GradCheck.check(x -> x[0].add(x[1]), randn(3, 4), randn(4));
    GradCheck.check(x -> x[0].sub(x[1]), randn(2, 3, 1), randn(1, 5));
    GradCheck.check(x -> x[0].mul(x[1]), randn(3, 4), randn(3, 1));
    GradCheck.check(x -> x[0].div(x[1]), randn(3, 4), Tensor.uniform(rng, 1, 2, 4));
    GradCheck.check(x -> x[0].exp(), randn(5));
    GradCheck.check(x -> x[0].log(), Tensor.uniform(rng, 0.5, 2, 6));
    GradCheck.check(x -> x[0].sqrt(), Tensor.uniform(rng, 0.5, 2, 6));
    GradCheck.check(
        x -> x[0].abs(),
        Tensor.uniform(rng, 0.2, 1, 6).mul(Tensor.vector(1, -1, 1, -1, 1, -1)).detach());
    GradCheck.check(x -> x[0].pow(3f), randn(6));
    GradCheck.check(
        x -> x[0].pow(x[1]), Tensor.uniform(rng, 0.5, 2, 3, 2), Tensor.uniform(rng, 0.5, 2, 2));
    GradCheck.check(x -> x[0].clamp(-0.5f, 0.5f), Tensor.vector(-0.9f, -0.2f, 0.1f, 0.7f));
    GradCheck.check(x -> x[0].mul(2.5f).add(1f).neg(), randn(7));
  }

  @Test
  void comparisonsGiveZeroOne() {
    Tensor a = Tensor.vector(1, 2, 3);
    Tensor b = Tensor.vector(2, 2, 2);
    assertArrayEquals(new float[] {0, 1, 0}, a.eq(b).data());
    assertArrayEquals(new float[] {1, 0, 1}, a.ne(b).data());
    assertArrayEquals(new float[] {1, 0, 0}, a.lt(b).data());
    assertArrayEquals(new float[] {1, 1, 0}, a.le(b).data());
    assertArrayEquals(new float[] {0, 0, 1}, a.gt(b).data());
    assertArrayEquals(new float[] {0, 1, 1}, a.ge(b).data());
  }

  @Test
  void reductionsOverAnyDims() {
    Tensor x = Tensor.arange(24).reshape(2, 3, 4);
    assertEquals(276f, x.sum().item());
    Tensor s = x.sum(new int[] {0, 2}, true);
    assertArrayEquals(new int[] {1, 3, 1}, s.shape());
    // dim 1 index j: sum over i,k of (12i + 4j + k) = 2*(4*4j + 6) + 12*4 = 32j + 60
    assertArrayEquals(new float[] {60, 92, 124}, s.data());
    assertArrayEquals(new int[] {2, 4}, x.mean(1).shape());
    assertEquals(4f, x.mean(1).get(0, 0));
    Tensor v = Tensor.vector(1, 2, 3, 4);
    assertEquals(1.6666666f, v.var().item(), 1e-6);
    assertEquals(1.25f, v.var(new int[] {0}, false, false).item(), 1e-6);
    Tensor m = Tensor.vector(3, 9, 9, 1).reshape(2, 2);
    assertArrayEquals(new float[] {9, 9}, m.max(1, false).data());
    assertArrayEquals(new float[] {1, 0}, m.argmax(1, false).data());
    assertEquals(DType.INT64, m.argmax(1, false).dtype());
    assertEquals(1f, Tensor.vector(1, 5, 5).argmax().item());
  }

  @Test
  void varianceKeepsPrecisionWithLargeOffset() {
    Tensor x = Tensor.randn(rng, 1000).mul(0.01f).add(1e4f);
    double[] d = new double[1000];
    double mean = 0;
    for (int i = 0; i < 1000; i++) {
      d[i] = x.data()[i];
      mean += d[i];
    }
    mean /= 1000;
    double ss = 0;
    for (double v : d) {
      ss += (v - mean) * (v - mean);
    }
    assertEquals(ss / 999, x.var().item(), 1e-6 * (ss / 999) + 1e-9);
  }

  @Test
  void reductionGradients() {
    GradCheck.check(x -> x[0].sum(new int[] {1}, false), randn(3, 4, 2));
    GradCheck.check(x -> x[0].mean(new int[] {0, 2}, true), randn(3, 4, 2));
    GradCheck.check(x -> x[0].var(new int[] {1}, true, false), randn(3, 5));
    GradCheck.check(x -> x[0].var(new int[] {0, 1}, false, true), randn(3, 5));
    GradCheck.check(x -> x[0].max(1, false), Tensor.vector(1, 5, 2, 8, 3, 0).reshape(2, 3));
  }

  @Test
  void shapeOps() {
    Tensor x = Tensor.arange(6).reshape(2, 3);
    assertArrayEquals(new int[] {3, 2}, x.transpose(0, 1).shape());
    assertArrayEquals(new float[] {0, 3, 1, 4, 2, 5}, x.transpose(0, 1).data());
    assertArrayEquals(new int[] {2, 1, 3}, x.unsqueeze(1).shape());
    assertArrayEquals(new int[] {2, 3}, x.unsqueeze(1).squeeze().shape());
    assertArrayEquals(new int[] {6}, x.flatten().shape());
    assertArrayEquals(new int[] {3, 2}, x.reshape(-1, 2).shape());
    assertArrayEquals(new float[] {1, 4}, x.select(1, 1).data());
    assertArrayEquals(new float[] {0, 2, 3, 5}, x.slice(1, 0, 3, 2).data());
    assertArrayEquals(new float[] {3, 4, 5, 0, 1, 2}, x.indexSelect(0, new int[] {1, 0}).data());
    Tensor c = Tensor.cat(1, x, x.slice(1, 0, 1));
    assertArrayEquals(new int[] {2, 4}, c.shape());
    assertArrayEquals(new float[] {0, 1, 2, 0, 3, 4, 5, 3}, c.data());
    Tensor s = Tensor.stack(0, x, x);
    assertArrayEquals(new int[] {2, 2, 3}, s.shape());
    var e = assertThrows(IllegalArgumentException.class, () -> x.reshape(4, 2));
    assertEquals("shape '[4, 2]' is invalid for input of size 6", e.getMessage());
    Tensor p = Tensor.arange(24).reshape(2, 3, 4).permute(2, 0, 1);
    assertArrayEquals(new int[] {4, 2, 3}, p.shape());
    assertEquals(13f, p.get(1, 1, 0));
  }

  @Test
  void shapeOpGradients() {
    GradCheck.check(x -> x[0].permute(2, 0, 1), randn(2, 3, 4));
    GradCheck.check(x -> x[0].slice(1, 1, 4, 2), randn(2, 5));
    GradCheck.check(x -> x[0].indexSelect(0, new int[] {2, 0, 2}), randn(3, 2));
    GradCheck.check(x -> Tensor.cat(0, x[0], x[1]), randn(2, 3), randn(1, 3));
    GradCheck.check(x -> Tensor.stack(1, x[0], x[1]), randn(2, 3), randn(2, 3));
    GradCheck.check(x -> x[0].reshape(6).unsqueeze(0).flatten(), randn(2, 3));
  }

  @Test
  void matmulMatchesNaiveLoopsAndBroadcasts() {
    Tensor a = randn(2, 1, 3, 4);
    Tensor b = randn(5, 4, 2);
    Tensor c = a.matmul(b);
    assertArrayEquals(new int[] {2, 5, 3, 2}, c.shape());
    for (int i = 0; i < 2; i++) {
      for (int j = 0; j < 5; j++) {
        for (int r = 0; r < 3; r++) {
          for (int q = 0; q < 2; q++) {
            double s = 0;
            for (int k = 0; k < 4; k++) {
              s += a.get(i, 0, r, k) * b.get(j, k, q);
            }
            assertEquals(s, c.get(i, j, r, q), 1e-5);
          }
        }
      }
    }
    assertArrayEquals(new int[] {}, Tensor.vector(1, 2).matmul(Tensor.vector(3, 4)).shape());
    assertEquals(11f, Tensor.vector(1, 2).matmul(Tensor.vector(3, 4)).item());
    assertArrayEquals(new int[] {3}, randn(3, 4).matmul(randn(4)).shape());
    var e = assertThrows(IllegalArgumentException.class, () -> randn(2, 3).matmul(randn(4, 2)));
    assertTrue(
        e.getMessage().startsWith("mat1 and mat2 shapes cannot be multiplied (2x3 and 4x2)"));
    GradCheck.check(x -> x[0].matmul(x[1]), randn(2, 1, 3, 4), randn(3, 4, 2));
    GradCheck.check(x -> x[0].matmul(x[1]), randn(4), randn(4, 3));
  }

  @Test
  void autogradAccumulatesAndFreesGraph() {
    Tensor x = Tensor.vector(1, 2, 3).requiresGrad(true);
    Tensor y = x.mul(x).sum();
    y.backward();
    assertArrayEquals(new float[] {2, 4, 6}, x.grad().data());
    x.mul(3f).sum().backward();
    assertArrayEquals(new float[] {5, 7, 9}, x.grad().data(), "gradients accumulate");
    var e = assertThrows(IllegalStateException.class, y::backward);
    assertTrue(e.getMessage().startsWith("Trying to backward through the graph a second time"));
    // a used-twice input gets both contributions
    Tensor z = Tensor.vector(2).requiresGrad(true);
    z.mul(z).add(z).sum().backward();
    assertEquals(5f, z.grad().item());
  }

  @Test
  void noGradAndDetachStopRecording() {
    Tensor x = Tensor.vector(1, 2).requiresGrad(true);
    try (var g = GradMode.noGrad()) {
      assertFalse(x.mul(2f).requiresGrad());
    }
    assertTrue(x.mul(2f).requiresGrad());
    assertFalse(x.detach().requiresGrad());
    assertSame(x.data(), x.detach().data());
    Tensor c = Tensor.vector(1);
    assertThrows(IllegalStateException.class, () -> c.mul(2f).sum().backward());
  }

  @Test
  void creationAndSeededRandomness() {
    assertArrayEquals(new float[] {0, 1, 2}, Tensor.arange(3).data());
    assertArrayEquals(new float[] {1, 1.5f}, Tensor.arange(1, 2, 0.5).data());
    assertArrayEquals(new float[] {7, 7}, Tensor.full(7, 2).data());
    assertArrayEquals(Tensor.randn(new Rng(3), 10).data(), Tensor.randn(new Rng(3), 10).data());
    Tensor r = Tensor.randint(new Rng(1), 2, 5, 1000);
    for (float v : r.data()) {
      assertTrue(v >= 2 && v < 5);
    }
    Tensor u = Tensor.rand(new Rng(1), 10000);
    double mean = u.mean().item();
    assertEquals(0.5, mean, 0.02);
    Tensor n = Tensor.randn(new Rng(2), 20000);
    assertEquals(1.0, n.var().item(), 0.05);
    var e = assertThrows(IllegalArgumentException.class, () -> Tensor.of(new float[3], 2, 2));
    assertTrue(e.getMessage().contains("[2, 2]"));
  }
}
