package dev.normlab.testing;

import static org.junit.jupiter.api.Assertions.fail;

import dev.normlab.autograd.GradMode;
import dev.normlab.tensor.Rng;
import dev.normlab.tensor.Tensor;
import java.util.function.Function;

/**
 * Checks an op's backward against central finite differences. The scalar objective {@code L =
 * sum(f(x) * w)} for a fixed random {@code w} is accumulated in double, so the only float rounding
 * is the op's own forward; step and tolerances are sized for that.
 */
public final class GradCheck {
  private GradCheck() {}

  public static void check(Function<Tensor[], Tensor> f, Tensor... inputs) {
    check(f, 1e-2, 2e-2, 2e-3, inputs);
  }

  public static void check(
      Function<Tensor[], Tensor> f, double h, double rtol, double atol, Tensor... inputs) {
    for (Tensor t : inputs) {
      t.requiresGrad(true);
      t.zeroGrad();
    }
    Tensor out = f.apply(inputs);
    Rng rng = new Rng(1234);
    Tensor w = Tensor.randn(rng, out.shape());
    out.backward(w);
    for (int k = 0; k < inputs.length; k++) {
      Tensor x = inputs[k];
      float[] d = x.data();
      float[] analytic = x.grad() == null ? new float[d.length] : x.grad().data();
      for (int i = 0; i < d.length; i++) {
        float orig = d[i];
        d[i] = (float) (orig + h);
        double plus = objective(f, inputs, w);
        d[i] = (float) (orig - h);
        double minus = objective(f, inputs, w);
        d[i] = orig;
        double numeric = (plus - minus) / (2 * h);
        double a = analytic[i];
        if (!(Math.abs(a - numeric) <= atol + rtol * Math.abs(numeric))) { // NaN fails too
          fail(
              "gradient of input "
                  + k
                  + " at flat index "
                  + i
                  + ": analytic "
                  + a
                  + " vs numeric "
                  + numeric);
        }
      }
    }
  }

  private static double objective(Function<Tensor[], Tensor> f, Tensor[] inputs, Tensor w) {
    try (var g = GradMode.noGrad()) {
      float[] o = f.apply(inputs).data();
      float[] wd = w.data();
      double s = 0;
      for (int i = 0; i < o.length; i++) {
        s += (double) o[i] * wd[i];
      }
      return s;
    }
  }
}
