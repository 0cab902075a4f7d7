package dev.normlab.track.web;

/**
 * Largest-Triangle-Three-Buckets downsampling: keeps the first and last point and, in each bucket
 * between, the point that spans the largest triangle with its neighbours, so peaks survive.
 */
public final class Downsample {
  private Downsample() {}

  /** Returns the indices of at most {@code maxPoints} points of the series (x ascending). */
  public static int[] lttb(double[] x, double[] y, int maxPoints) {
    int n = x.length;
    if (maxPoints < 2) {
      throw new IllegalArgumentException("maxPoints must be >= 2, got " + maxPoints);
    }
    if (n <= maxPoints) {
      int[] all = new int[n];
      for (int i = 0; i < n; i++) {
        all[i] = i;
      }
      return all;
    }
    int[] keep = new int[maxPoints];
    keep[0] = 0;
    double bucket = (double) (n - 2) / (maxPoints - 2);
    int a = 0;
    for (int b = 0; b < maxPoints - 2; b++) {
      int start = (int) Math.floor(b * bucket) + 1;
      int end = Math.min((int) Math.floor((b + 1) * bucket) + 1, n - 1);
      // The average of the next bucket is the third corner of the triangle.
      int nextStart = end;
      int nextEnd = Math.min((int) Math.floor((b + 2) * bucket) + 1, n);
      double avgX = 0;
      double avgY = 0;
      for (int i = nextStart; i < nextEnd; i++) {
        avgX += x[i];
        avgY += y[i];
      }
      int count = Math.max(1, nextEnd - nextStart);
      avgX /= count;
      avgY /= count;
      double best = -1;
      int bestIndex = start;
      for (int i = start; i < end; i++) {
        double area = Math.abs((x[a] - avgX) * (y[i] - y[a]) - (x[a] - x[i]) * (avgY - y[a]));
        if (area > best) {
          best = area;
          bestIndex = i;
        }
      }
      keep[b + 1] = bestIndex;
      a = bestIndex;
    }
    keep[maxPoints - 1] = n - 1;
    return keep;
  }
}
