package dev.normlab.nn;

import static org.junit.jupiter.api.Assertions.*;

import dev.normlab.nn.functional.F;
import dev.normlab.nn.functional.F.Reduction;
import dev.normlab.tensor.Rng;
import dev.normlab.tensor.Tensor;
import dev.normlab.testing.GradCheck;
import org.junit.jupiter.api.Test;

class FunctionalTest {
  private final Rng rng = new Rng(7);

  @Test
  void activationValues() {
    Tensor x = Tensor.vector(-2, -0.5f, 0, 0.5f, 2);
    assertArrayEquals(new float[] {0, 0, 0, 0.5f, 2}, F.relu(x).data());
    assertArrayEquals(new float[] {-0.02f, -0.005f, 0, 0.5f, 2}, F.leakyRelu(x).data(), 1e-7f);
    // torch.nn.functional.gelu(torch.tensor([-2,-.5,0,.5,2.]))
    assertArrayEquals(
        new float[] {-0.0455003f, -0.1542688f, 0f, 0.3457312f, 1.9544997f},
        F.gelu(x).data(),
        1e-6f);
    assertArrayEquals(
        new float[] {0.1192029f, 0.3775407f, 0.5f, 0.6224593f, 0.8807971f},
        F.sigmoid(x).data(),
        1e-6f);
    assertEquals(Math.tanh(0.5), F.tanh(x).data()[3], 1e-6);
    assertEquals(0.8427007929497149, F.erf(1.0), 1e-14);
    assertEquals(-0.9999779095030014, F.erf(-3.0), 1e-14);
  }

  @Test
  void softmaxRowsSumToOne() {
    Tensor x = Tensor.randn(rng, 3, 4, 5);
    Tensor s = F.softmax(x, 1);
    Tensor sums = s.sum(1);
    for (float v : sums.data()) {
      assertEquals(1f, v, 1e-6f);
    }
    Tensor ls = F.logSoftmax(x, 1);
    for (int i = 0; i < s.numel(); i++) {
      assertEquals(Math.log(s.data()[i]), ls.data()[i], 1e-5);
    }
  }

  @Test
  void activationGradients() {
    Tensor x = Tensor.vector(-1.3f, -0.4f, 0.3f, 0.9f, 1.7f);
    GradCheck.check(a -> F.relu(a[0]), x.copy());
    GradCheck.check(a -> F.leakyRelu(a[0], 0.2f), x.copy());
    GradCheck.check(a -> F.gelu(a[0]), x.copy());
    GradCheck.check(a -> F.sigmoid(a[0]), x.copy());
    GradCheck.check(a -> F.tanh(a[0]), x.copy());
    GradCheck.check(a -> F.softmax(a[0], 1), Tensor.randn(rng, 2, 3, 2));
    GradCheck.check(a -> F.logSoftmax(a[0], -1), Tensor.randn(rng, 2, 4));
  }

  @Test
  void linearMatchesLoopsAndGradients() {
    Tensor x = Tensor.randn(rng, 3, 4);
    Tensor w = Tensor.randn(rng, 5, 4);
    Tensor b = Tensor.randn(rng, 5);
    Tensor y = F.linear(x, w, b);
    for (int i = 0; i < 3; i++) {
      for (int j = 0; j < 5; j++) {
        double s = b.get(j);
        for (int k = 0; k < 4; k++) {
          s += x.get(i, k) * w.get(j, k);
        }
        assertEquals(s, y.get(i, j), 1e-5);
      }
    }
    GradCheck.check(a -> F.linear(a[0], a[1], a[2]), x, w, b);
    var e = assertThrows(IllegalArgumentException.class, () -> F.linear(Tensor.zeros(3, 6), w, b));
    assertEquals("mat1 and mat2 shapes cannot be multiplied (3x6 and 4x5)", e.getMessage());
  }

  @Test
  void crossEntropyMatchesPyTorch() {
    // torch: F.cross_entropy(logits, t) etc. for these fixed values.
    Tensor logits = Tensor.of(new float[] {1, 2, 3, 1, 0, -1}, 2, 3);
    Tensor t = Tensor.ofInts(new int[] {2, 0}, 2);
    assertEquals(0.4076059f, F.crossEntropy(logits, t).item(), 1e-6);
    assertEquals(0.8152118f, F.crossEntropy(logits, t, Reduction.SUM, 0, -100).item(), 1e-6);
    assertArrayEquals(
        new float[] {0.4076059f, 0.4076059f},
        F.crossEntropy(logits, t, Reduction.NONE, 0, -100).data(),
        1e-6f);
    // label_smoothing=0.1 (torch 1.13 gives 0.5076059)
    assertEquals(0.5076059f, F.crossEntropy(logits, t, Reduction.MEAN, 0.1, -100).item(), 1e-5);
    // ignore_index excludes a row from the mean
    Tensor t2 = Tensor.ofInts(new int[] {2, -100}, 2);
    assertEquals(0.4076059f, F.crossEntropy(logits, t2, Reduction.MEAN, 0, -100).item(), 1e-6);
    GradCheck.check(a -> F.crossEntropy(a[0], t, Reduction.MEAN, 0.1, -100), logits.copy());
    GradCheck.check(a -> F.crossEntropy(a[0], t, Reduction.NONE, 0, -100), logits.copy());
    GradCheck.check(
        a -> F.nllLoss(F.logSoftmax(a[0], 1), Tensor.ofInts(new int[] {1, 0, 2, 1}, 2, 2)),
        Tensor.randn(rng, 2, 3, 2));
    var e =
        assertThrows(
            IndexOutOfBoundsException.class,
            () -> F.crossEntropy(logits, Tensor.ofInts(new int[] {3, 0}, 2)));
    assertTrue(e.getMessage().contains("Target 3 is out of bounds"));
    var e2 =
        assertThrows(
            IllegalArgumentException.class,
            () -> F.crossEntropy(logits, Tensor.ofInts(new int[] {1}, 1)));
    assertTrue(e2.getMessage().contains("[2]"), e2.getMessage());
  }

  @Test
  void mseAndDropout() {
    Tensor a = Tensor.vector(1, 2, 3);
    Tensor b = Tensor.vector(1, 0, 0);
    assertEquals(13f / 3, F.mseLoss(a, b).item(), 1e-6);
    GradCheck.check(x -> F.mseLoss(x[0], x[1]), Tensor.randn(rng, 4), Tensor.randn(rng, 4));
    Tensor x = Tensor.ones(10000);
    Tensor d = F.dropout(x, 0.25, true, new Rng(1));
    int zeros = 0;
    for (float v : d.data()) {
      if (v == 0) {
        zeros++;
      } else {
        assertEquals(1 / 0.75f, v, 1e-6f);
      }
    }
    assertEquals(2500, zeros, 150);
    assertSame(x, F.dropout(x, 0.25, false, new Rng(1)));
    assertThrows(IllegalArgumentException.class, () -> F.dropout(x, 1.5, true, new Rng(1)));
  }

  @Test
  void moduleStateDictAndRepr() {
    Sequential s =
        new Sequential(
            new Linear(4, 3, true, rng),
            Activation.relu(),
            new Dropout(0.5),
            new Linear(3, 2, false, rng));
    assertEquals(
        java.util.List.of("0.weight", "0.bias", "3.weight"),
        java.util.List.copyOf(s.stateDict().keySet()));
    assertEquals(
        "Sequential(\n  (0): Linear(in_features=4, out_features=3, bias=True)\n  (1): ReLU()\n"
            + "  (2): Dropout(p=0.5, inplace=False)\n  (3): Linear(in_features=3, out_features=2, bias=False)\n)",
        s.toString());
    // Kaiming-uniform bound 1/sqrt(fan_in)
    for (float v : ((Linear) s.get(0)).weight().data()) {
      assertTrue(Math.abs(v) <= 0.5f);
    }
    var state = new java.util.LinkedHashMap<>(s.stateDict());
    state.put("0.weight", Tensor.zeros(2, 2));
    var e = assertThrows(IllegalArgumentException.class, () -> s.loadStateDict(state, true));
    assertTrue(e.getMessage().contains("size mismatch for 0.weight"), e.getMessage());
    s.eval();
    assertFalse(s.get(2).isTraining());
  }
}
