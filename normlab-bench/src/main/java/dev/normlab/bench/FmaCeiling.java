package dev.normlab.bench;

import dev.normlab.kernels.Parallel;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The most FLOP/s a Vector API loop reaches on this machine: sixteen independent FMA chains per
 * thread on values in registers, no memory traffic, on every {@link Parallel} thread at once. No
 * matrix product can beat it, so it is the ceiling to hold SGEMM's GFLOP/s against (the clock times
 * the FMA units give the same figure only if the JVM's code and the hypervisor let them run flat
 * out; this measures what they actually deliver).
 */
final class FmaCeiling {
  private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
  private static final int CHAINS = 16;

  private FmaCeiling() {}

  /** GFLOP/s of all threads together, best of {@code rounds} runs of {@code steps} steps each. */
  static double gflops(long steps, int rounds) {
    int threads = Parallel.threads();
    float[] sink = new float[threads];
    // many short calls first, so that C2 compiles the chains (long calls would run for seconds in
    // C1's code, where the Vector API is not intrinsified, before an on-stack replacement)
    for (int i = 0; i < 20_000; i++) {
      sink[0] += chains(100, i);
    }
    double best = 0;
    for (int r = 0; r < rounds; r++) {
      long t0 = System.nanoTime();
      Parallel.forRange(threads, 1, (from, to) -> sink[from] += chains(steps, from + 1));
      long t1 = System.nanoTime();
      best = Math.max(best, 2.0 * CHAINS * S.length() * steps * threads / (t1 - t0));
    }
    if (Float.isNaN(sink[0])) {
      throw new AssertionError(); // keeps the chains' results live
    }
    return best;
  }

  /**
   * {@code steps} rounds of one FMA on each of sixteen accumulators; the sum of their lanes. The
   * chains are independent, so the FMA units' throughput, not their latency, sets the pace.
   */
  private static float chains(long steps, float seed) {
    FloatVector m = FloatVector.broadcast(S, 0.9999f);
    FloatVector c = FloatVector.broadcast(S, 1e-4f);
    FloatVector a0 = FloatVector.broadcast(S, seed);
    FloatVector a1 = a0.add(1f), a2 = a0.add(2f), a3 = a0.add(3f), a4 = a0.add(4f);
    FloatVector a5 = a0.add(5f), a6 = a0.add(6f), a7 = a0.add(7f), a8 = a0.add(8f);
    FloatVector a9 = a0.add(9f), a10 = a0.add(10f), a11 = a0.add(11f), a12 = a0.add(12f);
    FloatVector a13 = a0.add(13f), a14 = a0.add(14f), a15 = a0.add(15f);
    for (long i = 0; i < steps; i++) {
      a0 = a0.fma(m, c);
      a1 = a1.fma(m, c);
      a2 = a2.fma(m, c);
      a3 = a3.fma(m, c);
      a4 = a4.fma(m, c);
      a5 = a5.fma(m, c);
      a6 = a6.fma(m, c);
      a7 = a7.fma(m, c);
      a8 = a8.fma(m, c);
      a9 = a9.fma(m, c);
      a10 = a10.fma(m, c);
      a11 = a11.fma(m, c);
      a12 = a12.fma(m, c);
      a13 = a13.fma(m, c);
      a14 = a14.fma(m, c);
      a15 = a15.fma(m, c);
    }
    FloatVector s = a0.add(a1).add(a2).add(a3).add(a4).add(a5).add(a6).add(a7);
    s = s.add(a8).add(a9).add(a10).add(a11).add(a12).add(a13).add(a14).add(a15);
    return s.reduceLanes(VectorOperators.ADD);
  }
}
