package dev.normlab.train;

import dev.normlab.nn.ActivationProbe;
import dev.normlab.nn.Module;
import dev.normlab.tensor.Tensor;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What {@code --watch} records about one training step, as {@code wandb.watch} does but as numbers
 * a chart can overlay across norms: for each parameter its gradient's L2 norm ({@code
 * watch/grad_norm/conv1.weight}, and {@code watch/grad_norm/total} over all), its own norm after
 * the step ({@code watch/param_norm/...}) and how far the step moved it relative to that ({@code
 * watch/update_ratio/...}, {@code ||w' - w|| / ||w||}); for each activation the model shows (see
 * {@link Module#forward(Tensor, ActivationProbe)}) its mean and standard deviation over the batch
 * ({@code watch/act_mean/conv2}, {@code watch/act_std/conv2}) and, before a ReLU, the fraction of
 * its units (channels or features) at or below zero for every example: dead for this batch ({@code
 * watch/dead_relu/fc1}). Sums are in double; nothing the step computes is changed, so a watched run
 * trains bit for bit as an unwatched one.
 *
 * <p>Use per step: {@link #observe} through the forward, {@link #afterBackward()} before the
 * optimizer's step, {@link #afterStep()} after it.
 */
public final class Watch implements ActivationProbe {
  /** The prefix of every key, so that stores and dashboards can tell the diagnostics apart. */
  public static final String PREFIX = "watch/";

  private final List<Map.Entry<String, Tensor>> params;
  private final float[][] before;
  private final double[] beforeNorm;
  private boolean kept; // before[] holds this step's weights
  private final Map<String, Double> stats = new LinkedHashMap<>();

  public Watch(Module model) {
    params = List.copyOf(model.namedParameters().entrySet());
    before = new float[params.size()][];
    beforeNorm = new double[params.size()];
  }

  @Override
  public void observe(String point, Tensor activation, boolean beforeRelu) {
    float[] a = activation.data();
    int n = activation.numel();
    if (n == 0) {
      return;
    }
    double sum = 0;
    for (int i = 0; i < n; i++) {
      sum += a[i];
    }
    double mean = sum / n;
    double squares = 0; // two passes: a large common offset keeps its precision
    for (int i = 0; i < n; i++) {
      double d = a[i] - mean;
      squares += d * d;
    }
    stats.put(PREFIX + "act_mean/" + point, mean);
    stats.put(PREFIX + "act_std/" + point, Math.sqrt(squares / n));
    if (beforeRelu && activation.dim() >= 2) {
      stats.put(PREFIX + "dead_relu/" + point, deadFraction(a, activation.shape()));
    }
  }

  /** The fraction of the units along dimension 1 whose every value in the batch is <= 0. */
  static double deadFraction(float[] a, int[] shape) {
    int batch = shape[0];
    int units = shape[1];
    int inner = 1;
    for (int d = 2; d < shape.length; d++) {
      inner *= shape[d];
    }
    int dead = 0;
    for (int u = 0; u < units; u++) {
      boolean alive = false;
      for (int b = 0; b < batch && !alive; b++) {
        int base = (b * units + u) * inner;
        for (int i = 0; i < inner; i++) {
          if (a[base + i] > 0) {
            alive = true;
            break;
          }
        }
      }
      if (!alive) {
        dead++;
      }
    }
    return units == 0 ? 0 : (double) dead / units;
  }

  /** Records the gradients' norms and keeps the weights as they are before the step. */
  public void afterBackward() {
    double total = 0;
    for (int p = 0; p < params.size(); p++) {
      Tensor w = params.get(p).getValue();
      Tensor g = w.grad();
      if (g != null) {
        double squares = sumOfSquares(g.data(), g.numel());
        total += squares;
        stats.put(PREFIX + "grad_norm/" + params.get(p).getKey(), Math.sqrt(squares));
      }
      int n = w.numel();
      if (before[p] == null || before[p].length != n) {
        before[p] = new float[n];
      }
      System.arraycopy(w.data(), 0, before[p], 0, n);
      beforeNorm[p] = Math.sqrt(sumOfSquares(before[p], n));
    }
    stats.put(PREFIX + "grad_norm/total", Math.sqrt(total));
    kept = true;
  }

  /**
   * Records the weights' norms and their update ratios (none for a weight that was all zeros), and
   * returns everything recorded since the last call, in the order recorded.
   */
  public Map<String, Double> afterStep() {
    for (int p = 0; kept && p < params.size(); p++) {
      String name = params.get(p).getKey();
      Tensor w = params.get(p).getValue();
      int n = w.numel();
      float[] now = w.data();
      stats.put(PREFIX + "param_norm/" + name, Math.sqrt(sumOfSquares(now, n)));
      if (beforeNorm[p] > 0) {
        double moved = 0;
        for (int i = 0; i < n; i++) {
          double d = (double) now[i] - before[p][i];
          moved += d * d;
        }
        stats.put(PREFIX + "update_ratio/" + name, Math.sqrt(moved) / beforeNorm[p]);
      }
    }
    Map<String, Double> out = new LinkedHashMap<>(stats);
    stats.clear();
    kept = false;
    return out;
  }

  private static double sumOfSquares(float[] a, int n) {
    double s = 0;
    for (int i = 0; i < n; i++) {
      s += (double) a[i] * a[i];
    }
    return s;
  }
}
