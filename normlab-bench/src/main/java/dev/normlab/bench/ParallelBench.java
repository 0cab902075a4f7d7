package dev.normlab.bench;

import dev.normlab.kernels.Parallel;
import java.util.Locale;

/**
 * The cost of a parallel region ({@link Parallel#forRange}) on this machine: an empty two-chunk
 * region, and two chunks of about 2 and 20 us of work against the same work run serially (one
 * chunk's worth). Prints {@code work=N region_us=.. one_chunk_us=..}, the fastest of five rounds of
 * 20000 regions each. Threads: {@code NORMLAB_THREADS} (2 here).
 */
public final class ParallelBench {
  private ParallelBench() {}

  private static volatile double sink;

  private static double work(float[] x, int n) {
    double s = 0;
    for (int j = 0; j < n; j++) {
      s += x[j & (x.length - 1)] * j;
    }
    return s;
  }

  public static void main(String[] args) {
    float[] x = new float[1 << 16];
    java.util.Arrays.fill(x, 1f);
    int reps = 20000;
    for (int n : new int[] {0, 2000, 20000}) {
      double region = Double.POSITIVE_INFINITY;
      double serial = Double.POSITIVE_INFINITY;
      for (int round = 0; round < 5; round++) {
        long t0 = System.nanoTime();
        for (int i = 0; i < reps; i++) {
          Parallel.forRange(2, 1, (from, to) -> sink = work(x, n));
        }
        long t1 = System.nanoTime();
        for (int i = 0; i < reps; i++) {
          sink = work(x, n);
        }
        long t2 = System.nanoTime();
        region = Math.min(region, (t1 - t0) / 1e3 / reps);
        serial = Math.min(serial, (t2 - t1) / 1e3 / reps);
      }
      System.out.printf(
          Locale.ROOT,
          "work=%d threads=%d region_us=%.2f one_chunk_us=%.2f%n",
          n,
          Parallel.threads(),
          region,
          serial);
    }
  }
}
