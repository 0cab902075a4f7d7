package dev.normlab.optim;

import dev.normlab.tensor.Tensor;
import java.util.List;
import java.util.Map;

/**
 * Adam, as {@code torch.optim.Adam} (L2 weight decay added to the gradient), with optional AMSGrad;
 * {@link AdamW} is the decoupled-weight-decay variant. Per step, in float32:
 *
 * <pre>
 *   t += 1
 *   g = grad (+ weight_decay * p)          (Adam)      p = p * (1 - lr * weight_decay) (AdamW)
 *   m = beta1 * m + (1 - beta1) * g
 *   v = beta2 * v + (1 - beta2) * g * g
 *   vmax = max(vmax, v)                     (AMSGrad; then v := vmax below)
 *   denom = sqrt(v) / sqrt(1 - beta2^t) + eps
 *   p = p - lr / (1 - beta1^t) * m / denom
 * </pre>
 *
 * State per parameter: {@code step} (a 0-dim float tensor, as PyTorch keeps it), {@code exp_avg},
 * {@code exp_avg_sq}, and {@code max_exp_avg_sq} with AMSGrad.
 */
public class Adam extends Optimizer {
  private final boolean amsgrad;
  private final boolean decoupled;

  public Adam(List<Tensor> params, double lr) {
    this(params, lr, 0.9, 0.999, 1e-8, 0, false);
  }

  public Adam(
      List<Tensor> params,
      double lr,
      double beta1,
      double beta2,
      double eps,
      double weightDecay,
      boolean amsgrad) {
    this(params, lr, beta1, beta2, eps, weightDecay, amsgrad, false);
  }

  Adam(
      List<Tensor> params,
      double lr,
      double beta1,
      double beta2,
      double eps,
      double weightDecay,
      boolean amsgrad,
      boolean decoupled) {
    super(
        params,
        opts("lr", lr, "beta1", beta1, "beta2", beta2, "eps", eps, "weight_decay", weightDecay));
    checkNonNegative("learning rate", lr);
    checkNonNegative("epsilon value", eps);
    checkNonNegative("weight_decay value", weightDecay);
    if (!(beta1 >= 0 && beta1 < 1)) {
      throw new IllegalArgumentException("Invalid beta parameter at index 0: " + beta1);
    }
    if (!(beta2 >= 0 && beta2 < 1)) {
      throw new IllegalArgumentException("Invalid beta parameter at index 1: " + beta2);
    }
    this.amsgrad = amsgrad;
    this.decoupled = decoupled;
  }

  public boolean amsgrad() {
    return amsgrad;
  }

  @Override
  protected List<String> stateNames() {
    return amsgrad
        ? List.of("step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq")
        : List.of("step", "exp_avg", "exp_avg_sq");
  }

  @Override
  public void step() {
    for (ParamGroup g : paramGroups()) {
      double lr = g.lr();
      double beta1 = g.get("beta1");
      double beta2 = g.get("beta2");
      float eps = (float) g.get("eps");
      double wd = g.get("weight_decay");
      for (Tensor p : g.params()) {
        Tensor grad = p.grad();
        if (grad == null) {
          continue;
        }
        Map<String, Tensor> st = stateOf(p);
        if (!st.containsKey("step")) {
          st.put("step", Tensor.scalar(0));
          st.put("exp_avg", Tensor.zeros(p.shape()));
          st.put("exp_avg_sq", Tensor.zeros(p.shape()));
          if (amsgrad) {
            st.put("max_exp_avg_sq", Tensor.zeros(p.shape()));
          }
        }
        float[] stepT = st.get("step").data();
        stepT[0] += 1;
        double t = stepT[0];
        float[] w = p.data();
        float[] gr = grad.data();
        float[] m = st.get("exp_avg").data();
        float[] v = st.get("exp_avg_sq").data();
        int n = w.length;
        if (decoupled) {
          float f = (float) (1 - lr * wd);
          for (int i = 0; i < n; i++) {
            w[i] *= f;
          }
        } else if (wd != 0) {
          float fw = (float) wd;
          float[] d = new float[n];
          for (int i = 0; i < n; i++) {
            d[i] = Math.fma(fw, w[i], gr[i]);
          }
          gr = d;
        }
        float b1 = (float) beta1;
        float a1 = (float) (1 - beta1);
        float b2 = (float) beta2;
        float a2 = (float) (1 - beta2);
        for (int i = 0; i < n; i++) {
          m[i] = Math.fma(a1, gr[i], m[i] * b1);
          v[i] = Math.fma(a2 * gr[i], gr[i], v[i] * b2);
        }
        double bc1 = 1 - Math.pow(beta1, t);
        double bc2 = 1 - Math.pow(beta2, t);
        float stepSize = (float) -(lr / bc1);
        float bc2Sqrt = (float) Math.sqrt(bc2);
        float[] den = v;
        if (amsgrad) {
          float[] mx = st.get("max_exp_avg_sq").data();
          for (int i = 0; i < n; i++) {
            mx[i] = Math.max(mx[i], v[i]);
          }
          den = mx;
        }
        for (int i = 0; i < n; i++) {
          float denom = (float) Math.sqrt(den[i]) / bc2Sqrt + eps;
          w[i] = w[i] + stepSize * m[i] / denom;
        }
      }
    }
  }
}
