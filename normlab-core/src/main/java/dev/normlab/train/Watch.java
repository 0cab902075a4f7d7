package dev.normlab.train;

import dev.normlab.nn.ActivationProbe;
import dev.normlab.nn.Module;
import dev.normlab.nn.norm.NormBase;
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
 * ({@code watch/act_mean/conv2}, {@code watch/act_std/conv2}), its 5th, 25th, 50th, 75th and 95th
 * percentiles ({@code watch/act_p05/conv2}, ...; from a histogram of 2,048 bins over the batch's
 * range, to about 1/2,048 of that range) and, before a ReLU, the fraction of its units (channels or
 * features) at or below zero for every example: dead for this batch ({@code watch/dead_relu/fc1});
 * for a norm with running statistics (Batch Norm's), how far its input batch's statistics sit from
 * the running ones eval mode uses ({@code watch/running_mean_gap/norm2}, {@code
 * watch/running_std_ratio/norm2}: batch mean minus running mean in running standard deviations, RMS
 * over the channels; batch over running standard deviation, mean over the channels). Sums are in
 * double; nothing the step computes is changed, so a watched run trains bit for bit as an unwatched
 * one.
 *
 * <p>Use per step: {@link #observe} through the forward, {@link #afterBackward()} before the
 * optimizer's step, {@link #afterStep()} after it.
 */
public final class Watch implements ActivationProbe {
  /** The prefix of every key, so that stores and dashboards can tell the diagnostics apart. */
  public static final String PREFIX = "watch/";

  /** The percentiles recorded of each activation ({@code watch/act_p05/conv2}, ...). */
  static final int[] QUANTILES = {5, 25, 50, 75, 95};

  /** Histogram bins for the percentiles: each is good to about 1/2048 of the batch's range. */
  static final int BINS = 2048;

  private final List<Map.Entry<String, Tensor>> params;
  private final float[][] before;
  private final double[] beforeNorm;
  private boolean kept; // before[] holds this step's weights
  private final Map<String, Double> stats = new LinkedHashMap<>();

  /** The norms with running statistics, by their path (their output's point name). */
  private final Map<String, NormBase> tracked = new LinkedHashMap<>();

  /** Their running statistics as the step found them, taken at its first observation. */
  private final Map<String, double[][]> runningBefore = new LinkedHashMap<>();

  /** Per-unit (dim 1) means and biased variances of the last observed activation. */
  private double[][] lastUnits;

  private final long[] histogram = new long[BINS]; // the percentiles', reused

  public Watch(Module model) {
    params = List.copyOf(model.namedParameters().entrySet());
    before = new float[params.size()][];
    beforeNorm = new double[params.size()];
    findTracked(model, "");
  }

  private void findTracked(Module m, String path) {
    for (var c : m.namedChildren().entrySet()) {
      String p = path.isEmpty() ? c.getKey() : path + "." + c.getKey();
      if (c.getValue() instanceof NormBase n && n.trackRunningStats()) {
        tracked.put(p, n);
      }
      findTracked(c.getValue(), p);
    }
  }

  @Override
  public void observe(String point, Tensor activation, boolean beforeRelu) {
    if (runningBefore.isEmpty() && !tracked.isEmpty()) { // the step's first look: no norm ran yet
      tracked.forEach(
          (p, norm) ->
              runningBefore.put(
                  p, new double[][] {doubles(norm.runningMean()), doubles(norm.runningVar())}));
    }
    float[] a = activation.data();
    int n = activation.numel();
    if (n == 0) {
      return;
    }
    if (tracked.containsKey(point) && lastUnits != null) {
      runningGap(point, tracked.get(point).eps());
    }
    // per-channel statistics only for a model with running statistics to hold them against
    lastUnits =
        !tracked.isEmpty() && activation.dim() >= 2 ? unitStats(a, activation.shape()) : null;
    double sum = 0;
    float min = Float.POSITIVE_INFINITY, max = Float.NEGATIVE_INFINITY;
    for (int i = 0; i < n; i++) {
      sum += a[i];
      min = Math.min(min, a[i]);
      max = Math.max(max, a[i]);
    }
    double mean = sum / n;
    double squares = 0; // two passes: a large common offset keeps its precision
    java.util.Arrays.fill(histogram, 0);
    double binsPerUnit = max > min ? BINS / ((double) max - min) : 0;
    for (int i = 0; i < n; i++) {
      double d = a[i] - mean;
      squares += d * d;
      histogram[Math.min(BINS - 1, (int) ((a[i] - (double) min) * binsPerUnit))]++;
    }
    stats.put(PREFIX + "act_mean/" + point, mean);
    stats.put(PREFIX + "act_std/" + point, Math.sqrt(squares / n));
    for (int q : QUANTILES) {
      stats.put(
          String.format("%sact_p%02d/%s", PREFIX, q, point),
          quantile(histogram, n, min, max, q / 100.0));
    }
    if (beforeRelu && activation.dim() >= 2) {
      stats.put(PREFIX + "dead_relu/" + point, deadFraction(a, activation.shape()));
    }
  }

  /**
   * How far a norm's input batch sits from the running statistics that eval mode would use in its
   * place: the RMS over channels of {@code (batch mean - running mean) / sqrt(running var + eps)}
   * ({@code watch/running_mean_gap/<norm>}) and the mean over channels of {@code sqrt((batch var +
   * eps) / (running var + eps))} ({@code watch/running_std_ratio/<norm>}; the batch variance
   * biased, as training normalizes with it), against the running statistics before this step
   * updated them.
   */
  private void runningGap(String point, double eps) {
    double[][] running = runningBefore.get(point);
    double[] mean = lastUnits[0], var = lastUnits[1];
    int c = running[0].length;
    if (mean.length != c) {
      return; // not this norm's input after all
    }
    double gaps = 0, ratios = 0;
    for (int i = 0; i < c; i++) {
      double d = mean[i] - running[0][i];
      gaps += d * d / (running[1][i] + eps);
      ratios += Math.sqrt((var[i] + eps) / (running[1][i] + eps));
    }
    stats.put(PREFIX + "running_mean_gap/" + point, Math.sqrt(gaps / c));
    stats.put(PREFIX + "running_std_ratio/" + point, ratios / c);
  }

  /** Each unit's (dim 1's) mean and biased variance over the batch and any further dims. */
  static double[][] unitStats(float[] a, int[] shape) {
    int batch = shape[0], units = shape[1];
    int inner = 1;
    for (int d = 2; d < shape.length; d++) {
      inner *= shape[d];
    }
    double[] mean = new double[units], var = new double[units];
    double count = (double) batch * inner;
    for (int u = 0; u < units; u++) {
      double sum = 0;
      for (int b = 0; b < batch; b++) {
        int base = (b * units + u) * inner;
        for (int i = 0; i < inner; i++) {
          sum += a[base + i];
        }
      }
      mean[u] = sum / count;
      double squares = 0;
      for (int b = 0; b < batch; b++) {
        int base = (b * units + u) * inner;
        for (int i = 0; i < inner; i++) {
          double d = a[base + i] - mean[u];
          squares += d * d;
        }
      }
      var[u] = squares / count;
    }
    return new double[][] {mean, var};
  }

  private static double[] doubles(Tensor t) {
    double[] d = new double[t.numel()];
    for (int i = 0; i < d.length; i++) {
      d[i] = t.data()[i];
    }
    return d;
  }

  /**
   * The {@code q}-quantile of {@code n} values in [min, max] from their histogram over equal bins,
   * interpolated linearly between the two order statistics around the rank (as numpy's and torch's
   * default), each placed within its bin: within {@code (max - min) / BINS} of the exact quantile.
   */
  static double quantile(long[] histogram, long n, float min, float max, double q) {
    if (!(max > min)) {
      return min;
    }
    double rank = q * (n - 1); // 0-based
    long below = (long) Math.floor(rank);
    double low = orderStatistic(histogram, min, max, below);
    double high = below + 1 < n ? orderStatistic(histogram, min, max, below + 1) : low;
    return low + (rank - below) * (high - low);
  }

  /** Where the {@code k}-th smallest value (0-based) lies, spreading a bin's values evenly. */
  private static double orderStatistic(long[] histogram, float min, float max, long k) {
    long before = 0;
    int b = 0;
    while (b < histogram.length - 1 && before + histogram[b] <= k) {
      before += histogram[b++];
    }
    double width = ((double) max - min) / histogram.length;
    return min + (b + (k - before + 0.5) / histogram[b]) * width;
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
    runningBefore.clear();
    lastUnits = null;
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
