package dev.normlab.optim;

import dev.normlab.tensor.Tensor;
import java.util.List;
import java.util.Map;

/**
 * Stochastic gradient descent with momentum, dampening, Nesterov momentum and L2 weight decay,
 * computing exactly what {@code torch.optim.SGD} does (in float32):
 *
 * <pre>
 *   g = grad + weight_decay * p
 *   buf = g                                   (first step)
 *   buf = momentum * buf + (1 - dampening) * g (later steps)
 *   g = nesterov ? g + momentum * buf : buf    (if momentum != 0)
 *   p = p - lr * g
 * </pre>
 */
public final class SGD extends Optimizer {
  private final boolean nesterov;

  public SGD(List<Tensor> params, double lr) {
    this(params, lr, 0, 0, 0, false);
  }

  public SGD(List<Tensor> params, double lr, double momentum) {
    this(params, lr, momentum, 0, 0, false);
  }

  public SGD(
      List<Tensor> params,
      double lr,
      double momentum,
      double dampening,
      double weightDecay,
      boolean nesterov) {
    super(
        params,
        opts("lr", lr, "momentum", momentum, "dampening", dampening, "weight_decay", weightDecay));
    checkNonNegative("learning rate", lr);
    checkNonNegative("momentum value", momentum);
    checkNonNegative("weight_decay value", weightDecay);
    if (nesterov && (momentum <= 0 || dampening != 0)) {
      throw new IllegalArgumentException(
          "Nesterov momentum requires a momentum and zero dampening");
    }
    this.nesterov = nesterov;
  }

  /** Adds a group with its own options (keys of {@code lr, momentum, dampening, weight_decay}). */
  @Override
  public void addParamGroup(List<Tensor> params, Map<String, Double> options) {
    super.addParamGroup(params, options);
  }

  public boolean nesterov() {
    return nesterov;
  }

  @Override
  protected List<String> stateNames() {
    return List.of("momentum_buffer");
  }

  @Override
  public void step() {
    for (ParamGroup g : paramGroups()) {
      float lr = (float) g.lr();
      float momentum = (float) g.get("momentum");
      float dampening = (float) g.get("dampening");
      float wd = (float) g.get("weight_decay");
      for (Tensor p : g.params()) {
        Tensor grad = p.grad();
        if (grad == null) {
          continue;
        }
        float[] w = p.data();
        float[] gr = grad.data();
        int n = w.length;
        float[] d = gr;
        if (wd != 0) {
          d = new float[n];
          for (int i = 0; i < n; i++) {
            d[i] = Math.fma(wd, w[i], gr[i]);
          }
        }
        if (momentum != 0) {
          Map<String, Tensor> st = stateOf(p);
          Tensor bufT = st.get("momentum_buffer");
          float[] buf;
          if (bufT == null) {
            buf = d.clone();
            st.put("momentum_buffer", Tensor.of(buf, p.shape()));
          } else {
            buf = bufT.data();
            float keep = 1 - dampening;
            for (int i = 0; i < n; i++) {
              buf[i] = Math.fma(keep, d[i], buf[i] * momentum);
            }
          }
          if (nesterov) {
            float[] nd = new float[n];
            for (int i = 0; i < n; i++) {
              nd[i] = Math.fma(momentum, buf[i], d[i]);
            }
            d = nd;
          } else {
            d = buf;
          }
        }
        float alpha = -lr;
        for (int i = 0; i < n; i++) {
          w[i] = Math.fma(alpha, d[i], w[i]);
        }
      }
    }
  }
}
