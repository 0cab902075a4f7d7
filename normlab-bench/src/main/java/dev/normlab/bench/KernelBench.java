package dev.normlab.bench;

import dev.normlab.kernels.BufferScope;
import dev.normlab.kernels.Gemm;
import dev.normlab.kernels.Parallel;
import dev.normlab.train.JitWarmUp;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * End-to-end kernel timings, printed as {@code name key=value} lines that {@code
 * scripts/bench-kernels.sh} pairs with the PyTorch twin's. Median of repeated runs after warm-up.
 */
public final class KernelBench {
  private KernelBench() {}

  /**
   * Median of {@code reps} timed calls, after {@code warmup} calls, two seconds of calls and then
   * until the JIT has settled ({@link JitWarmUp}, at most 20 s): until C2 has compiled the GEMM's
   * loops the calls run in C1's code, whose Vector API operations are not intrinsified (five
   * warm-up calls of SGEMM 1024 were not enough: its median then came out at 30 instead of 120
   * GFLOP/s in most processes). Each call runs in a {@link BufferScope}, as a training step's ops
   * do: the kernels' scratch arrays then come back from the pool, as PyTorch's caching allocator
   * hands back its blocks.
   */
  static double medianMillis(Runnable body, int warmup, int reps) {
    Runnable scoped =
        () -> {
          try (var buffers = BufferScope.open()) {
            body.run();
          }
        };
    JitWarmUp.run(scoped, warmup, 2, 20);
    double[] t = new double[reps];
    for (int i = 0; i < reps; i++) {
      long t0 = System.nanoTime();
      scoped.run();
      t[i] = (System.nanoTime() - t0) / 1e6;
    }
    Arrays.sort(t);
    return t[reps / 2];
  }

  static float[] rand(int n, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    float[] a = new float[n];
    for (int i = 0; i < n; i++) {
      a[i] = (float) (r.nextDouble() * 2 - 1);
    }
    return a;
  }

  public static void main(String[] args) {
    String only = args.length > 0 ? args[0] : "all";
    // conv: timed calls (more make a longer run, for profiling the steady state with
    // scripts/c2-scan.sh); conv-parts: rounds
    Integer count = args.length > 1 ? Integer.valueOf(args[1]) : null;
    System.out.println("# java threads=" + Parallel.threads());
    if (only.equals("all") || only.equals("sgemm")) {
      int n = 1024;
      float[] a = rand(n * n, 1), b = rand(n * n, 2), c = new float[n * n];
      double ms =
          medianMillis(
              () -> Gemm.sgemm(false, false, n, n, n, 1f, a, 0, n, b, 0, n, 0f, c, 0, n), 5, 15);
      double gflops = 2.0 * n * n * n / ms / 1e6;
      // the ceiling measured right after, in the same process and minute of this shared machine
      double ceiling = FmaCeiling.gflops(100_000_000L, 5);
      System.out.printf(
          "sgemm_1024 ms=%.3f gflops=%.1f fma_ceiling_gflops=%.1f of_ceiling=%.0f%%%n",
          ms, gflops, ceiling, 100 * gflops / ceiling);
    }
    if (only.equals("all") || only.equals("conv")) {
      ConvBenchCases.run(count != null ? count : 21);
    }
    if (only.equals("fma-ceiling")) {
      double ceiling = FmaCeiling.gflops(200_000_000L, 7);
      System.out.printf(
          "fma_ceiling gflops=%.1f per_thread=%.1f%n", ceiling, ceiling / Parallel.threads());
    }
    if (only.equals("conv-parts")) {
      ConvBenchCases.runParts(count != null ? count : 5);
    }
  }
}
