package dev.normlab.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.normlab.tensor.Tensor;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Hand-computed steps and a double-precision reference implementation of each update rule. */
class OptimizerTest {
  static final double[] A = {1.0, 0.5, 2.0, 1.5};
  static final double[] C = {0.3, -1.0, 0.25, 0.0};
  static final double[] X0 = {1.0, -2.0, 0.5, 3.0};

  static Tensor param() {
    float[] x = new float[X0.length];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) X0[i];
    }
    return Tensor.of(x, 2, 2).requiresGrad(true);
  }

  static void grad(Tensor p) {
    float[] g = new float[4];
    for (int i = 0; i < 4; i++) {
      g[i] = (float) A[i] * p.data()[i] + (float) C[i];
    }
    p.setGrad(Tensor.of(g, 2, 2));
  }

  /** Double-precision SGD (PyTorch's rule). */
  static double[][] sgdRef(int steps, double lr, double mom, double damp, double wd, boolean nest) {
    double[] x = X0.clone();
    double[] buf = null;
    double[][] out = new double[steps][];
    for (int s = 0; s < steps; s++) {
      double[] d = new double[4];
      for (int i = 0; i < 4; i++) {
        d[i] = A[i] * x[i] + C[i] + wd * x[i];
      }
      if (mom != 0) {
        if (buf == null) {
          buf = d.clone();
        } else {
          for (int i = 0; i < 4; i++) {
            buf[i] = mom * buf[i] + (1 - damp) * d[i];
          }
        }
        for (int i = 0; i < 4; i++) {
          d[i] = nest ? d[i] + mom * buf[i] : buf[i];
        }
      }
      for (int i = 0; i < 4; i++) {
        x[i] -= lr * d[i];
      }
      out[s] = x.clone();
    }
    return out;
  }

  /** Double-precision Adam / AdamW (PyTorch's rule). */
  static double[][] adamRef(
      int steps, double lr, double b1, double b2, double eps, double wd, boolean ams, boolean w) {
    double[] x = X0.clone();
    double[] m = new double[4];
    double[] v = new double[4];
    double[] vmax = new double[4];
    double[][] out = new double[steps][];
    for (int t = 1; t <= steps; t++) {
      for (int i = 0; i < 4; i++) {
        double g = A[i] * x[i] + C[i];
        if (w) {
          x[i] *= 1 - lr * wd;
        } else {
          g += wd * x[i];
        }
        m[i] = b1 * m[i] + (1 - b1) * g;
        v[i] = b2 * v[i] + (1 - b2) * g * g;
        vmax[i] = Math.max(vmax[i], v[i]);
        double vv = ams ? vmax[i] : v[i];
        double denom = Math.sqrt(vv) / Math.sqrt(1 - Math.pow(b2, t)) + eps;
        x[i] -= lr / (1 - Math.pow(b1, t)) * m[i] / denom;
      }
      out[t - 1] = x.clone();
    }
    return out;
  }

  static void compare(Optimizer opt, Tensor p, double[][] ref, double tol) {
    for (int s = 0; s < ref.length; s++) {
      grad(p);
      opt.step();
      for (int i = 0; i < 4; i++) {
        assertEquals(ref[s][i], p.data()[i], tol, "step " + (s + 1) + " element " + i);
      }
    }
  }

  @Test
  void sgdFirstStepsByHand() {
    Tensor p = param();
    SGD opt = new SGD(List.of(p), 0.1, 0.9);
    grad(p); // g = [1.3, -2, 1.25, 4.5]
    opt.step(); // buf = g; x = x0 - 0.1 g
    assertArrayEquals(new float[] {0.87f, -1.8f, 0.375f, 2.55f}, p.data(), 1e-6f);
    grad(p); // g = [1.17, -1.9, 1.0, 3.825]; buf = 0.9*[1.3,-2,1.25,4.5] + g
    opt.step();
    assertArrayEquals(
        new float[] {
          0.87f - 0.1f * 2.34f, -1.8f + 0.1f * 3.7f, 0.375f - 0.1f * 2.125f, 2.55f - 0.1f * 7.875f
        },
        p.data(),
        1e-6f);
  }

  @Test
  void adamFirstStepIsSignedLr() {
    // After bias correction the first Adam step is lr * g / (|g| + eps'), i.e. about lr * sign(g).
    Tensor p = param();
    Adam opt = new Adam(List.of(p), 0.01);
    grad(p);
    opt.step();
    assertArrayEquals(new float[] {0.99f, -1.99f, 0.49f, 2.99f}, p.data(), 1e-6f);
  }

  @Test
  void sgdVariantsMatchDoubleReference() {
    double[][] cfg = {
      {0.1, 0, 0, 0, 0}, {0.05, 0.9, 0, 0, 0}, {0.05, 0.8, 0.3, 0.01, 0}, {0.05, 0.9, 0, 0.05, 1}
    };
    for (double[] k : cfg) {
      Tensor p = param();
      SGD opt = new SGD(List.of(p), k[0], k[1], k[2], k[3], k[4] != 0);
      compare(opt, p, sgdRef(40, k[0], k[1], k[2], k[3], k[4] != 0), 2e-5);
    }
  }

  @Test
  void adamVariantsMatchDoubleReference() {
    for (boolean ams : new boolean[] {false, true}) {
      Tensor p = param();
      compare(
          new Adam(List.of(p), 0.05, 0.9, 0.999, 1e-8, 0, ams),
          p,
          adamRef(40, 0.05, 0.9, 0.999, 1e-8, 0, ams, false),
          2e-5);
      p = param();
      compare(
          new Adam(List.of(p), 0.05, 0.8, 0.99, 1e-6, 0.1, ams),
          p,
          adamRef(40, 0.05, 0.8, 0.99, 1e-6, 0.1, ams, false),
          2e-5);
      p = param();
      compare(
          new AdamW(List.of(p), 0.05, 0.9, 0.999, 1e-8, 0.3, ams),
          p,
          adamRef(40, 0.05, 0.9, 0.999, 1e-8, 0.3, ams, true),
          2e-5);
    }
  }

  @Test
  void stateRoundTripResumesExactly() {
    for (int kind = 0; kind < 3; kind++) {
      Tensor p = param();
      Tensor q = param();
      Optimizer a =
          kind == 0
              ? new SGD(List.of(p), 0.05, 0.9)
              : kind == 1
                  ? new Adam(List.of(p), 0.05, 0.9, 0.999, 1e-8, 0, true)
                  : new AdamW(List.of(p), 0.05);
      Optimizer b =
          kind == 0
              ? new SGD(List.of(q), 0.05, 0.9)
              : kind == 1
                  ? new Adam(List.of(q), 0.05, 0.9, 0.999, 1e-8, 0, true)
                  : new AdamW(List.of(q), 0.05);
      for (int s = 0; s < 5; s++) {
        grad(p);
        a.step();
      }
      q.copyFrom(p);
      Map<String, Tensor> st = a.state();
      assertTrue(
          st.containsKey(kind == 0 ? "state.0.momentum_buffer" : "state.0.exp_avg"),
          st.keySet().toString());
      b.loadState(st);
      b.loadParamGroupsJson(a.paramGroupsJson());
      for (int s = 0; s < 5; s++) {
        grad(p);
        a.step();
        grad(q);
        b.step();
      }
      assertArrayEquals(p.data(), q.data());
    }
  }

  @Test
  void stateValidation() {
    Tensor p = param();
    SGD opt = new SGD(List.of(p), 0.1, 0.9);
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                opt.loadState(
                    Map.of(
                        "state.0.momentum_buffer",
                        Tensor.zeros(3),
                        "state.5.momentum_buffer",
                        Tensor.zeros(4),
                        "state.0.exp_avg",
                        Tensor.zeros(2, 2),
                        "junk",
                        Tensor.zeros(1))));
    String m = e.getMessage();
    assertTrue(m.contains("size mismatch for \"state.0.momentum_buffer\""), m);
    assertTrue(m.contains("parameter index 5 but the optimizer has 1"), m);
    assertTrue(m.contains("keeps no state 'exp_avg'"), m);
    assertTrue(m.contains("unexpected key \"junk\""), m);
    assertThrows(IllegalArgumentException.class, () -> new SGD(List.of(param()), -1));
    assertThrows(
        IllegalArgumentException.class, () -> new SGD(List.of(param()), 0.1, 0, 0, 0, true));
    assertThrows(
        IllegalArgumentException.class,
        () -> new Adam(List.of(param()), 0.1, 1.0, 0.999, 1e-8, 0, false));
    assertThrows(IllegalArgumentException.class, () -> new SGD(List.of(p, p), 0.1));
    assertThrows(
        IllegalArgumentException.class,
        () -> opt.addParamGroup(List.of(param()), Map.of("betas", 0.1)));
  }

  @Test
  void paramGroupsSkipMissingGradsAndZeroGrad() {
    Tensor p = param();
    Tensor q = param();
    SGD opt = new SGD(List.of(p), 0.1);
    opt.addParamGroup(List.of(q), Map.of("lr", 1.0));
    assertEquals(2, opt.paramGroups().size());
    assertEquals(1.0, opt.paramGroups().get(1).lr());
    assertEquals(0.0, opt.paramGroups().get(1).get("momentum"));
    grad(q);
    opt.step();
    assertArrayEquals(param().data(), p.data(), "no grad, no change");
    assertEquals(1.0 - (1.0 + 0.3), q.data()[0], 1e-6);
    opt.zeroGrad();
    assertNull(q.grad());
    assertEquals(
        "[{\"lr\":0.1,\"momentum\":0.0,\"dampening\":0.0,\"weight_decay\":0.0,\"params\":1},{\"lr\":1.0,\"momentum\":0.0,\"dampening\":0.0,\"weight_decay\":0.0,\"params\":1}]",
        opt.paramGroupsJson());
  }

  @Test
  void schedulersClosedFormAndResume() {
    Tensor p = param();
    SGD opt = new SGD(List.of(p), 0.2);
    CosineAnnealingLR cos = new CosineAnnealingLR(opt, 10, 0.01);
    for (int e = 1; e <= 10; e++) {
      cos.step();
      assertEquals(cos.closedFormLr(e)[0], opt.paramGroups().get(0).lr(), 1e-12, "epoch " + e);
    }
    // Resume at epoch 10 from saved groups.
    SGD opt2 = new SGD(List.of(param()), 0.2);
    opt2.loadParamGroupsJson(opt.paramGroupsJson());
    CosineAnnealingLR cos2 = new CosineAnnealingLR(opt2, 10, 0.01);
    cos2.setLastEpoch(10);
    for (int e = 0; e < 7; e++) {
      cos.step();
      cos2.step();
      assertEquals(opt.paramGroups().get(0).lr(), opt2.paramGroups().get(0).lr(), 0);
    }
    SGD opt3 = new SGD(List.of(param()), 1.0);
    StepLR st = new StepLR(opt3, 2, 0.5);
    double[] want = {1, 1, 0.5, 0.5, 0.25, 0.25, 0.125};
    assertEquals(want[0], opt3.paramGroups().get(0).lr());
    for (int e = 1; e < want.length; e++) {
      st.step();
      assertEquals(want[e], opt3.paramGroups().get(0).lr(), 1e-15);
      assertEquals(want[e], st.closedFormLr(e)[0], 1e-15);
    }
    assertEquals(1.0, opt3.paramGroups().get(0).get("initial_lr"));
  }
}
