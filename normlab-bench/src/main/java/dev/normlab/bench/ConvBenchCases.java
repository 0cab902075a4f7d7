package dev.normlab.bench;

import dev.normlab.kernels.Conv;
import dev.normlab.kernels.ConvGeom;
import dev.normlab.kernels.Winograd;

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

  /** A case's convolution (3x3, stride 1, no padding) with random inputs and its outputs. */
  record Setup(
      ConvGeom g,
      float[] x,
      float[] w,
      float[] b,
      float[] y,
      float[] gy,
      float[] gx,
      float[] gw,
      float[] gb) {
    static Setup of(Case c) {
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
      return new Setup(
          g, x, w, b, y, gy, new float[x.length], new float[w.length], new float[b.length]);
    }
  }

  static void run(int reps) {
    for (Case c : CASES) {
      Setup s = Setup.of(c);
      ConvGeom g = s.g();
      double flops = 2.0 * g.n() * g.cout() * g.outSize() * g.colRows();
      double fwd =
          KernelBench.medianMillis(() -> Conv.forward(g, s.x(), s.w(), s.b(), s.y()), 10, reps);
      // both gradients in one call, as the training step asks for them; conv1's input needs no
      // gradient (it is the image)
      float[] gxOrNull = c.cin == 1 ? null : s.gx();
      double bwd =
          KernelBench.medianMillis(
              () -> Conv.backward(g, s.x(), s.gy(), s.w(), gxOrNull, s.gw(), s.gb()), 10, reps);
      double total = fwd + bwd;
      System.out.printf(
          "%s fwd_ms=%.3f bwd_ms=%.3f total_ms=%.3f gflops=%.1f%n",
          c.name, fwd, bwd, total, flops * (c.cin == 1 ? 2 : 3) / total / 1e6);
    }
  }

  /**
   * conv2's Winograd passes one by one, {@code rounds} times in one process (median of 21 calls
   * each after warm-up): forward, the input gradient alone, the weight gradient alone, and both in
   * the one-pass backward that training uses. Printed as {@code conv2_parts round=..} lines.
   */
  static void runParts(int rounds) {
    Setup s = Setup.of(CASES[1]);
    ConvGeom g = s.g();
    float[] x = s.x(), w = s.w(), gy = s.gy(), gx = s.gx(), gw = s.gw();
    for (int r = 1; r <= rounds; r++) {
      double fwd = KernelBench.medianMillis(() -> Winograd.forward(g, x, w, s.b(), s.y()), 5, 21);
      double inGrad =
          KernelBench.medianMillis(() -> Winograd.backward(g, x, gy, w, gx, null), 5, 21);
      double wGrad =
          KernelBench.medianMillis(() -> Winograd.backward(g, x, gy, w, null, gw), 5, 21);
      double both = KernelBench.medianMillis(() -> Winograd.backward(g, x, gy, w, gx, gw), 5, 21);
      System.out.printf(
          "conv2_parts round=%d fwd_ms=%.3f input_grad_ms=%.3f weight_grad_ms=%.3f both_grads_ms=%.3f%n",
          r, fwd, inGrad, wGrad, both);
    }
  }
}
