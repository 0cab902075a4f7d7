package dev.normlab.bench;

import dev.normlab.kernels.Conv;
import dev.normlab.kernels.ConvGeom;

/**
 * conv2d forward and backward on the reference CNN's shapes (batch 64: 1->32 on 28x28, 32->64 on
 * 26x26, 3x3 kernels), the cases {@code scripts/torch/bench_kernels.py} times in PyTorch.
 */
final class ConvBenchCases {
  private ConvBenchCases() {}

  record Case(String name, int n, int cin, int cout, int h, int w) {}

  static final Case[] CASES = {
    new Case("conv1", 64, 1, 32, 28, 28), new Case("conv2", 64, 32, 64, 26, 26),
  };

  static void run(int reps) {
    for (Case c : CASES) {
      ConvGeom g =
          new ConvGeom(
              c.n,
              c.cin,
              new int[] {c.h, c.w},
              c.cout,
              new int[] {3, 3},
              new int[] {1, 1},
              new int[] {0, 0},
              new int[] {1, 1},
              1);
      float[] x = KernelBench.rand(g.n() * g.cin() * g.inSize(), 1);
      float[] w = KernelBench.rand(g.cout() * g.colRows(), 2);
      float[] b = KernelBench.rand(g.cout(), 3);
      float[] y = new float[g.n() * g.cout() * g.outSize()];
      float[] gy = KernelBench.rand(y.length, 4);
      float[] gx = new float[x.length];
      float[] gw = new float[w.length];
      float[] gb = new float[b.length];
      double flops = 2.0 * g.n() * g.cout() * g.outSize() * g.colRows();
      double fwd = KernelBench.medianMillis(() -> Conv.forward(g, x, w, b, y), 10, reps);
      // both gradients in one call, as the training step asks for them; conv1's input needs no
      // gradient (it is the image)
      float[] gxOrNull = c.cin == 1 ? null : gx;
      double bwd =
          KernelBench.medianMillis(() -> Conv.backward(g, x, gy, w, gxOrNull, gw, gb), 10, reps);
      double total = fwd + bwd;
      System.out.printf(
          "%s fwd_ms=%.3f bwd_ms=%.3f total_ms=%.3f gflops=%.1f%n",
          c.name, fwd, bwd, total, flops * (c.cin == 1 ? 2 : 3) / total / 1e6);
    }
  }
}
