package dev.normlab.nn.norm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.normlab.nn.Module;
import dev.normlab.nn.functional.Normalization;
import dev.normlab.tensor.DType;
import dev.normlab.tensor.Rng;
import dev.normlab.tensor.Tensor;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Semantics of the modules: defaults, state, errors, modes, edge cases, relationships. */
class NormModulesTest {
  private final Rng rng = new Rng(42);

  private Tensor randn(int... shape) {
    return Tensor.randn(rng, shape);
  }

  static void close(Tensor e, Tensor a, double tol) {
    assertArrayEquals(e.shape(), a.shape());
    float[] x = e.data();
    float[] y = a.data();
    for (int i = 0; i < x.length; i++) {
      if (!(Math.abs(x[i] - y[i]) <= tol * (1 + Math.abs(x[i])))) {
        fail("[" + i + "] expected " + x[i] + " got " + y[i]);
      }
    }
  }

  // ------------------------------------------------------------------ repr, defaults, state

  @Test
  void reprMatchesPyTorch() {
    assertEquals(
        "InstanceNorm2d(3, eps=1e-05, momentum=0.1, affine=False, track_running_stats=False)",
        new InstanceNorm2d(3).toString());
    assertEquals(
        "BatchNorm2d(32, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)",
        new BatchNorm2d(32).toString());
    assertEquals("GroupNorm(8, 32, eps=1e-05, affine=True)", new GroupNorm(8, 32).toString());
    assertEquals(
        "LayerNorm((32, 26, 26), eps=1e-05, elementwise_affine=True)",
        new LayerNorm(32, 26, 26).toString());
    assertEquals(
        "LayerNorm((5,), eps=0.001, elementwise_affine=False)",
        new LayerNorm(new int[] {5}, 1e-3, false).toString());
    assertEquals(
        "BatchNorm1d(10, eps=0.001, momentum=None, affine=True, track_running_stats=True)",
        new BatchNorm1d(10, 1e-3, null).toString());
    assertEquals(
        "LocalResponseNorm(2, alpha=0.0001, beta=0.75, k=1.0)",
        new LocalResponseNorm(2).toString());
    assertEquals("RMSNorm((5,), eps=None, elementwise_affine=True)", new RMSNorm(5).toString());
    assertEquals(
        "RMSNorm((4, 5), eps=1e-06, elementwise_affine=False)",
        new RMSNorm(new int[] {4, 5}, 1e-6, false).toString());
  }

  @Test
  void defaults() {
    var bn = new BatchNorm2d(4);
    assertEquals(1e-5, bn.eps());
    assertEquals(0.1, bn.momentum());
    assertTrue(bn.affine() && bn.trackRunningStats());
    var in = new InstanceNorm1d(4);
    assertTrue(!in.affine() && !in.trackRunningStats());
    assertEquals(0.1, in.momentum());
    assertNull(new RMSNorm(3).eps());
    assertArrayEquals(new float[] {1, 1, 1}, new GroupNorm(1, 3).weight().data());
    assertArrayEquals(new float[] {0, 0, 0}, new GroupNorm(1, 3).bias().data());
  }

  @Test
  void stateDictKeysShapesAndDtypes() {
    Map<String, Tensor> sd = new BatchNorm2d(3).stateDict();
    assertEquals(
        List.of("weight", "bias", "running_mean", "running_var", "num_batches_tracked"),
        List.copyOf(sd.keySet()));
    assertArrayEquals(new int[] {3}, sd.get("running_var").shape());
    assertArrayEquals(new float[] {1, 1, 1}, sd.get("running_var").data());
    assertEquals(DType.INT64, sd.get("num_batches_tracked").dtype());
    assertEquals(0, sd.get("num_batches_tracked").dim());
    assertTrue(new InstanceNorm2d(3).stateDict().isEmpty());
    assertEquals(
        List.of("weight", "bias", "running_mean", "running_var", "num_batches_tracked"),
        List.copyOf(new InstanceNorm3d(3, 1e-5, 0.1, true, true).stateDict().keySet()));
    assertEquals(
        List.of("running_mean", "running_var", "num_batches_tracked"),
        List.copyOf(new InstanceNorm1d(3, 1e-5, 0.1, false, true).stateDict().keySet()));
    assertEquals(
        List.of("weight", "bias"),
        List.copyOf(new BatchNorm1d(3, 1e-5, 0.1, true, false).stateDict().keySet()));
    assertEquals(List.of("weight", "bias"), List.copyOf(new GroupNorm(2, 4).stateDict().keySet()));
    Map<String, Tensor> ln = new LayerNorm(4, 5).stateDict();
    assertArrayEquals(new int[] {4, 5}, ln.get("weight").shape());
    assertEquals(
        List.of("weight"),
        List.copyOf(new LayerNorm(new int[] {4}, 1e-5, true, false).stateDict().keySet()));
    assertTrue(new LayerNorm(new int[] {4}, 1e-5, false).stateDict().isEmpty());
    assertEquals(List.of("weight"), List.copyOf(new RMSNorm(4).stateDict().keySet()));
    assertTrue(new LocalResponseNorm(3).stateDict().isEmpty());
  }

  @Test
  void resetRunningStatsAndParameters() {
    var bn = new BatchNorm2d(3);
    bn.weight().fill(3f);
    bn.forward(randn(4, 3, 2, 2).add(2f));
    assertEquals(1f, bn.numBatchesTracked().item());
    bn.resetRunningStats();
    assertArrayEquals(new float[3], bn.runningMean().data());
    assertArrayEquals(new float[] {1, 1, 1}, bn.runningVar().data());
    assertEquals(0f, bn.numBatchesTracked().item());
    assertArrayEquals(new float[] {3, 3, 3}, bn.weight().data());
    bn.resetParameters();
    assertArrayEquals(new float[] {1, 1, 1}, bn.weight().data());
  }

  // ------------------------------------------------------------------ errors

  private static void assertMessage(String msg, Runnable r) {
    var e = assertThrows(IllegalArgumentException.class, r::run);
    assertEquals(msg, e.getMessage());
  }

  @Test
  void errorsUsePyTorchWording() {
    assertMessage(
        "Expected more than 1 value per channel when training, got input size [1, 3]",
        () -> new BatchNorm1d(3).forward(randn(1, 3)));
    assertMessage(
        "Expected more than 1 spatial element when training, got input size [4, 3, 1]",
        () -> new InstanceNorm1d(3).forward(randn(4, 3, 1)));
    assertMessage(
        "expected 4D input (got 3D input)", () -> new BatchNorm2d(3).forward(randn(2, 3, 4)));
    assertMessage(
        "expected 5D input (got 4D input)", () -> new BatchNorm3d(3).forward(randn(2, 3, 4, 4)));
    assertMessage(
        "expected 2D or 3D input (got 4D input)",
        () -> new BatchNorm1d(3).forward(randn(2, 3, 4, 4)));
    assertMessage(
        "expected 3D or 4D input (got 2D input)", () -> new InstanceNorm2d(3).forward(randn(3, 4)));
    assertMessage("num_channels must be divisible by num_groups", () -> new GroupNorm(4, 6));
    assertMessage(
        "Given normalized_shape=[5], expected input with shape [*, 5], but got input of size[4, 6]",
        () -> new LayerNorm(5).forward(randn(4, 6)));
    assertMessage(
        "expected input's size at dim=1 to match num_features (4), but got: 3.",
        () -> new InstanceNorm2d(4, 1e-5, 0.1, true).forward(randn(2, 3, 5, 5)));
    assertMessage(
        "expected input's size at dim=0 to match num_features (4), but got: 3.",
        () -> new InstanceNorm1d(4, 1e-5, 0.1, true).forward(randn(3, 5)));
    assertMessage(
        "Expected 3D or higher dimensionality input (got 2 dimensions)",
        () -> new LocalResponseNorm(2).forward(randn(3, 5)));
    // IN without affine ignores num_features (PyTorch only warns)
    assertArrayEquals(new int[] {2, 3, 5}, new InstanceNorm1d(4).forward(randn(2, 3, 5)).shape());
    // eval-mode BN with one value per channel is fine
    var bn = new BatchNorm1d(3);
    bn.eval();
    assertArrayEquals(new int[] {1, 3}, bn.forward(randn(1, 3)).shape());
  }

  // ------------------------------------------------------------------ modes

  @Test
  void batchNormCountsBatchesOnlyInTraining() {
    var bn = new BatchNorm2d(3);
    bn.forward(randn(2, 3, 4, 4));
    bn.forward(randn(2, 3, 4, 4));
    assertEquals(2f, bn.numBatchesTracked().item());
    bn.eval();
    bn.forward(randn(2, 3, 4, 4));
    assertEquals(2f, bn.numBatchesTracked().item());
    var in = new InstanceNorm2d(3, 1e-5, 0.1, false, true);
    in.forward(randn(2, 3, 4, 4));
    assertEquals(0f, in.numBatchesTracked().item());
  }

  @Test
  void batchNormWithoutRunningStatsUsesBatchStatsInEval() {
    var bn = new BatchNorm2d(3, 1e-5, 0.1, true, false);
    Tensor x = randn(4, 3, 5, 5).mul(3f).add(1f);
    Tensor train = bn.forward(x);
    bn.eval();
    close(train, bn.forward(x), 0);
  }

  @Test
  void instanceNormWithoutRunningStatsIsTheSameInTrainAndEval() {
    var in = new InstanceNorm2d(3, 1e-5, 0.1, true);
    in.weight().copyFrom(Tensor.vector(1.5f, -1f, 0.5f));
    Tensor x = randn(2, 3, 5, 5).mul(2f);
    Tensor train = in.forward(x);
    in.eval();
    close(train, in.forward(x), 0);
  }

  @Test
  void instanceNormWithRunningStatsUsesThemInEval() {
    var in = new InstanceNorm1d(2, 1e-5, 0.5, false, true);
    Tensor x = randn(3, 2, 8).add(4f);
    in.forward(x);
    in.eval();
    float[] rm = in.runningMean().data();
    float[] rv = in.runningVar().data();
    Tensor y = in.forward(x);
    for (int i = 0; i < 3; i++) {
      for (int c = 0; c < 2; c++) {
        for (int p = 0; p < 8; p++) {
          double e = (x.get(i, c, p) - rm[c]) / Math.sqrt(rv[c] + 1e-5);
          assertEquals(e, y.get(i, c, p), 1e-5);
        }
      }
    }
  }

  @Test
  void instanceNormRunningStatsAreBatchMeansOfInstanceStatsAndNullMomentumFreezesThem() {
    Tensor x = randn(3, 2, 6).mul(2f).add(1f);
    var in = new InstanceNorm1d(2, 1e-5, 1.0, false, true); // momentum 1: running = batch stat
    in.forward(x);
    for (int c = 0; c < 2; c++) {
      double ms = 0;
      double vs = 0;
      for (int i = 0; i < 3; i++) {
        double m = 0;
        for (int p = 0; p < 6; p++) {
          m += x.get(i, c, p);
        }
        m /= 6;
        double v = 0;
        for (int p = 0; p < 6; p++) {
          v += (x.get(i, c, p) - m) * (x.get(i, c, p) - m);
        }
        ms += m / 3;
        vs += v / 5 / 3;
      }
      assertEquals(ms, in.runningMean().data()[c], 1e-6);
      assertEquals(vs, in.runningVar().data()[c], 1e-5);
    }
    var frozen = new InstanceNorm1d(2, 1e-5, null, false, true);
    frozen.forward(x);
    assertArrayEquals(new float[] {0, 0}, frozen.runningMean().data());
    assertArrayEquals(new float[] {1, 1}, frozen.runningVar().data());
  }

  @Test
  void batchNormCumulativeAverageWithNullMomentum() {
    var bn = new BatchNorm1d(2, 1e-5, null);
    double[] sum = new double[2];
    for (int step = 0; step < 3; step++) {
      Tensor x = randn(5, 2).add(step);
      bn.forward(x);
      for (int c = 0; c < 2; c++) {
        double m = 0;
        for (int i = 0; i < 5; i++) {
          m += x.get(i, c) / 5;
        }
        sum[c] += m;
      }
    }
    for (int c = 0; c < 2; c++) {
      assertEquals(sum[c] / 3, bn.runningMean().data()[c], 1e-5);
    }
  }

  // ------------------------------------------------------------------ edge cases

  @Test
  void emptyBatch() {
    var bn = new BatchNorm2d(5);
    Tensor x = Tensor.zeros(0, 5, 2, 2).requiresGrad(true);
    Tensor y = bn.forward(x);
    assertArrayEquals(new int[] {0, 5, 2, 2}, y.shape());
    assertArrayEquals(new float[5], bn.runningMean().data());
    y.sum().backward();
    assertArrayEquals(new int[] {0, 5, 2, 2}, x.grad().shape());
    assertArrayEquals(new float[5], bn.weight().grad().data());
    assertArrayEquals(
        new int[] {0, 3, 4}, new InstanceNorm1d(3).forward(Tensor.zeros(0, 3, 4)).shape());
    assertArrayEquals(
        new int[] {0, 4, 3}, new GroupNorm(2, 4).forward(Tensor.zeros(0, 4, 3)).shape());
    assertArrayEquals(new int[] {0, 6}, new LayerNorm(6).forward(Tensor.zeros(0, 6)).shape());
    assertArrayEquals(new int[] {0, 6}, new RMSNorm(6).forward(Tensor.zeros(0, 6)).shape());
  }

  @Test
  void epsZeroOnConstantInput() {
    Tensor x = Tensor.full(3f, 2, 4, 3, 3);
    var bn = new BatchNorm2d(4, 0.0);
    bn.bias().fill(0.25f);
    for (float v : bn.forward(x).data()) {
      assertEquals(0.25f, v);
    }
    for (float v : new InstanceNorm2d(4, 0.0).forward(x).data()) {
      assertEquals(0f, v);
    }
    for (float v : new GroupNorm(2, 4, 0.0).forward(x).data()) {
      assertTrue(Float.isNaN(v));
    }
    for (float v : new LayerNorm(new int[] {3, 3}, 0.0).forward(x).data()) {
      assertTrue(Float.isNaN(v));
    }
  }

  @Test
  void largeOffsetThroughTheModules() {
    Tensor x = randn(4, 3, 10, 10).mul(0.01f).add(1e4f);
    for (Module m :
        new Module[] {
          new BatchNorm2d(3), new InstanceNorm2d(3), new GroupNorm(3, 3), new LayerNorm(3, 10, 10)
        }) {
      Tensor y = m.forward(x);
      double s = 0;
      for (float v : y.data()) {
        s += (double) v * v;
      }
      // the variance of the float-quantized input is ~1e-4, eps 1e-5: mean(y^2) ~ var/(var+eps)
      double ms = s / y.numel();
      assertTrue(ms > 0.85 && ms < 0.95, m + " mean(y^2)=" + ms);
    }
  }

  @Test
  void unbatchedInstanceNormKeepsRank() {
    Tensor x = randn(3, 4, 5);
    var in = new InstanceNorm2d(3);
    Tensor y = in.forward(x);
    assertArrayEquals(new int[] {3, 4, 5}, y.shape());
    close(in.forward(x.unsqueeze(0)).squeeze(0), y, 0);
  }

  // ------------------------------------------------------------------ relationships

  @Test
  void groupNormWithCGroupsEqualsAffineInstanceNorm() {
    Tensor x = randn(3, 4, 5, 6).mul(2f);
    var gn = new GroupNorm(4, 4);
    var in = new InstanceNorm2d(4, 1e-5, 0.1, true);
    Tensor w = randn(4);
    Tensor b = randn(4);
    gn.weight().copyFrom(w);
    gn.bias().copyFrom(b);
    in.weight().copyFrom(w);
    in.bias().copyFrom(b);
    Tensor x1 = x.copy().requiresGrad(true);
    Tensor x2 = x.copy().requiresGrad(true);
    Tensor g = randn(3, 4, 5, 6);
    Tensor y1 = gn.forward(x1);
    Tensor y2 = in.forward(x2);
    close(y2, y1, 1e-5);
    y1.backward(g);
    y2.backward(g);
    close(x2.grad(), x1.grad(), 1e-4);
    close(in.weight().grad(), gn.weight().grad(), 1e-4);
    close(in.bias().grad(), gn.bias().grad(), 1e-4);
  }

  @Test
  void groupNormWithOneGroupEqualsLayerNormWithPerChannelAffine() {
    Tensor x = randn(2, 3, 4, 5);
    var gn = new GroupNorm(1, 3);
    var ln = new LayerNorm(3, 4, 5);
    Tensor w = randn(3);
    Tensor b = randn(3);
    gn.weight().copyFrom(w);
    gn.bias().copyFrom(b);
    for (int c = 0; c < 3; c++) {
      for (int p = 0; p < 20; p++) {
        ln.weight().data()[c * 20 + p] = w.data()[c];
        ln.bias().data()[c * 20 + p] = b.data()[c];
      }
    }
    close(ln.forward(x), gn.forward(x), 1e-5);
  }

  // ------------------------------------------------------------------ features 1.13 lacks

  @Test
  void rmsNormMatchesDoubleReference() {
    for (Double eps : new Double[] {null, 1e-6}) {
      Tensor x = randn(3, 4, 7).requiresGrad(true);
      var m = new RMSNorm(new int[] {4, 7}, eps);
      m.weight().copyFrom(randn(4, 7));
      Tensor g = randn(3, 4, 7);
      Tensor y = m.forward(x);
      y.backward(g);
      double e = eps == null ? Math.ulp(1f) : eps;
      float[] xd = x.data();
      float[] w = m.weight().data();
      double[] dw = new double[28];
      for (int r = 0; r < 3; r++) {
        double ms = 0;
        double sgx = 0;
        for (int j = 0; j < 28; j++) {
          ms += (double) xd[r * 28 + j] * xd[r * 28 + j] / 28;
        }
        double rs = 1 / Math.sqrt(ms + e);
        for (int j = 0; j < 28; j++) {
          double gw = g.data()[r * 28 + j] * (double) w[j];
          sgx += gw * xd[r * 28 + j];
          dw[j] += g.data()[r * 28 + j] * xd[r * 28 + j] * rs;
        }
        for (int j = 0; j < 28; j++) {
          double want = xd[r * 28 + j] * rs * w[j];
          assertEquals(want, y.data()[r * 28 + j], 1e-5 * (1 + Math.abs(want)));
          double gw = g.data()[r * 28 + j] * (double) w[j];
          double dx = rs * gw - xd[r * 28 + j] * rs * rs * rs * sgx / 28;
          assertEquals(dx, x.grad().data()[r * 28 + j], 1e-5 * (1 + Math.abs(dx)));
        }
      }
      for (int j = 0; j < 28; j++) {
        assertEquals(dw[j], m.weight().grad().data()[j], 1e-5 * (1 + Math.abs(dw[j])));
      }
    }
  }

  @Test
  void layerNormWithoutBiasMatchesDoubleReference() {
    Tensor x = randn(5, 9).mul(3f).add(2f).requiresGrad(true);
    var m = new LayerNorm(new int[] {9}, 1e-5, true, false);
    m.weight().copyFrom(randn(9));
    Tensor y = m.forward(x);
    y.sum().backward();
    double[] dw = new double[9];
    for (int r = 0; r < 5; r++) {
      double mean = 0;
      for (int j = 0; j < 9; j++) {
        mean += x.get(r, j) / 9.0;
      }
      double v = 0;
      for (int j = 0; j < 9; j++) {
        v += (x.get(r, j) - mean) * (x.get(r, j) - mean) / 9;
      }
      for (int j = 0; j < 9; j++) {
        double xh = (x.get(r, j) - mean) / Math.sqrt(v + 1e-5);
        assertEquals(xh * m.weight().data()[j], y.get(r, j), 1e-5);
        dw[j] += xh;
      }
    }
    for (int j = 0; j < 9; j++) {
      assertEquals(dw[j], m.weight().grad().data()[j], 1e-4);
    }
  }

  @Test
  void adaptiveInstanceNormTransfersStyleStatistics() {
    Tensor content = randn(2, 3, 6, 6);
    Tensor style = randn(2, 3, 5, 4).mul(3f).add(2f);
    Tensor y = Normalization.adaptiveInstanceNorm(content, style);
    for (int n = 0; n < 2; n++) {
      for (int c = 0; c < 3; c++) {
        double ms = 0;
        double vs = 0;
        double my = 0;
        double vy = 0;
        for (int p = 0; p < 20; p++) {
          ms += style.data()[(n * 3 + c) * 20 + p] / 20.0;
        }
        for (int p = 0; p < 20; p++) {
          double d = style.data()[(n * 3 + c) * 20 + p] - ms;
          vs += d * d / 20;
        }
        for (int p = 0; p < 36; p++) {
          my += y.data()[(n * 3 + c) * 36 + p] / 36.0;
        }
        for (int p = 0; p < 36; p++) {
          double d = y.data()[(n * 3 + c) * 36 + p] - my;
          vy += d * d / 36;
        }
        assertEquals(ms, my, 1e-4);
        assertEquals(Math.sqrt(vs), Math.sqrt(vy), 1e-2 * Math.sqrt(vs));
      }
    }
  }
}
