package dev.normlab.track.analysis;

import java.util.Arrays;
import java.util.Comparator;
import java.util.SplittableRandom;

/**
 * A random forest of regression trees (Breiman 2001), grown only for what {@link
 * ParameterImportance} reads from it: each column's total variance reduction over all splits (the
 * "mean decrease in impurity") and the out-of-bag R². Trees are grown to pure or single-run leaves
 * on bootstrap samples, trying at each split a random third of the columns (at least one) that are
 * not constant there.
 */
final class Forest {
  private final double[] decrease;
  private final Double outOfBagR2;

  private Forest(double[] decrease, Double outOfBagR2) {
    this.decrease = decrease;
    this.outOfBagR2 = outOfBagR2;
  }

  /** Per column, the sum over every tree's splits on it of the squared error they removed. */
  double[] decrease() {
    return decrease;
  }

  /**
   * 1 - SSE / SST of each run's mean prediction by the trees whose sample left it out; null when
   * fewer than 3 runs were ever out of bag or their results do not vary.
   */
  Double outOfBagR2() {
    return outOfBagR2;
  }

  /** A forest of {@code trees} trees on columns {@code x[column][run]} and results {@code y}. */
  static Forest grow(double[][] x, double[] y, int trees, long seed) {
    int n = y.length;
    SplittableRandom rng = new SplittableRandom(seed);
    Grower grower = new Grower(x, y, Math.max(1, (x.length + 2) / 3), rng);
    double[] oobSum = new double[n];
    int[] oobCount = new int[n];
    for (int t = 0; t < trees; t++) {
      int[] sample = new int[n];
      boolean[] drawn = new boolean[n];
      for (int i = 0; i < n; i++) {
        sample[i] = rng.nextInt(n);
        drawn[sample[i]] = true;
      }
      Node root = grower.grow(sample);
      for (int i = 0; i < n; i++) {
        if (!drawn[i]) {
          oobSum[i] += root.predict(x, i);
          oobCount[i]++;
        }
      }
    }
    return new Forest(grower.decrease, r2(y, oobSum, oobCount));
  }

  private static Double r2(double[] y, double[] sum, int[] count) {
    int m = 0;
    double mean = 0;
    for (int i = 0; i < y.length; i++) {
      if (count[i] > 0) {
        m++;
        mean += y[i];
      }
    }
    if (m < 3) {
      return null;
    }
    mean /= m;
    double sse = 0;
    double sst = 0;
    for (int i = 0; i < y.length; i++) {
      if (count[i] > 0) {
        double e = y[i] - sum[i] / count[i];
        sse += e * e;
        sst += (y[i] - mean) * (y[i] - mean);
      }
    }
    return sst == 0 ? null : 1 - sse / sst;
  }

  /** A leaf (column < 0) predicting its runs' mean, or a split: x <= threshold goes left. */
  private record Node(int column, double threshold, double value, Node left, Node right) {
    double predict(double[][] x, int i) {
      Node at = this;
      while (at.column >= 0) {
        at = x[at.column][i] <= at.threshold ? at.left : at.right;
      }
      return at.value;
    }
  }

  /** Grows trees, adding each split's squared-error reduction to its column. */
  private static final class Grower {
    private final double[][] x;
    private final double[] y;
    private final int tries;
    private final SplittableRandom rng;
    final double[] decrease;

    /** Each run's rank in each column (equal values, equal ranks): nodes sort primitive keys. */
    private final int[][] rank;

    Grower(double[][] x, double[] y, int tries, SplittableRandom rng) {
      this.x = x;
      this.y = y;
      this.tries = tries;
      this.rng = rng;
      this.decrease = new double[x.length];
      this.rank = new int[x.length][];
      for (int c = 0; c < x.length; c++) {
        double[] col = x[c];
        int[] order =
            java.util.stream.IntStream.range(0, y.length)
                .boxed()
                .sorted(Comparator.comparingDouble(i -> col[i]))
                .mapToInt(Integer::intValue)
                .toArray();
        int[] r = new int[y.length];
        for (int k = 1; k < order.length; k++) {
          r[order[k]] = col[order[k]] == col[order[k - 1]] ? r[order[k - 1]] : k;
        }
        rank[c] = r;
      }
    }

    /** The runs of a node ordered by their value in column c (ties by run index). */
    private int[] sortedBy(int c, int[] runs) {
      long[] keys = new long[runs.length];
      for (int k = 0; k < runs.length; k++) {
        keys[k] = ((long) rank[c][runs[k]] << 32) | runs[k];
      }
      Arrays.sort(keys);
      int[] sorted = new int[runs.length];
      for (int k = 0; k < runs.length; k++) {
        sorted[k] = (int) keys[k];
      }
      return sorted;
    }

    Node grow(int[] runs) {
      double sum = 0;
      double sq = 0;
      for (int i : runs) {
        sum += y[i];
        sq += y[i] * y[i];
      }
      double mean = sum / runs.length;
      double sse = sq - sum * sum / runs.length;
      if (runs.length < 2 || sse <= 1e-12 * Math.max(1, sq)) {
        return new Node(-1, 0, mean, null, null);
      }
      int[] order = columnsInRandomOrder();
      int bestColumn = -1;
      int bestAt = 0;
      double bestGain = 0;
      double bestThreshold = 0;
      int[] bestSorted = null;
      int tried = 0;
      for (int k = 0; k < order.length && tried < tries; k++) {
        double[] col = x[order[k]];
        int[] sorted = sortedBy(order[k], runs);
        if (col[sorted[0]] == col[sorted[sorted.length - 1]]) {
          continue; // constant here: try another column instead
        }
        tried++;
        double ls = 0;
        double lq = 0;
        for (int a = 0; a < sorted.length - 1; a++) {
          double v = y[sorted[a]];
          ls += v;
          lq += v * v;
          if (col[sorted[a]] == col[sorted[a + 1]]) {
            continue;
          }
          int nl = a + 1;
          int nr = sorted.length - nl;
          double left = lq - ls * ls / nl;
          double right = (sq - lq) - (sum - ls) * (sum - ls) / nr;
          double gain = sse - left - right;
          if (gain > bestGain) {
            bestGain = gain;
            bestColumn = order[k];
            bestAt = nl;
            // halfway, for runs out of bag between the two values; never rounded up onto the upper
            double lo = col[sorted[a]];
            double mid = (lo + col[sorted[a + 1]]) / 2;
            bestThreshold = mid < col[sorted[a + 1]] ? mid : lo;
            bestSorted = sorted;
          }
        }
      }
      if (bestColumn < 0) {
        return new Node(-1, 0, mean, null, null);
      }
      decrease[bestColumn] += bestGain;
      int[] left = new int[bestAt];
      int[] right = new int[runs.length - bestAt];
      for (int a = 0; a < bestSorted.length; a++) {
        if (a < bestAt) {
          left[a] = bestSorted[a];
        } else {
          right[a - bestAt] = bestSorted[a];
        }
      }
      return new Node(bestColumn, bestThreshold, mean, grow(left), grow(right));
    }

    private int[] columnsInRandomOrder() {
      int[] order = new int[x.length];
      for (int i = 0; i < order.length; i++) {
        order[i] = i;
      }
      for (int i = order.length - 1; i > 0; i--) {
        int j = rng.nextInt(i + 1);
        int t = order[i];
        order[i] = order[j];
        order[j] = t;
      }
      return order;
    }
  }
}
