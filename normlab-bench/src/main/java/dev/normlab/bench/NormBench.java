package dev.normlab.bench;

import dev.normlab.autograd.GradMode;
import dev.normlab.kernels.BufferScope;
import dev.normlab.kernels.Parallel;
import dev.normlab.nn.Module;
import dev.normlab.nn.norm.BatchNorm2d;
import dev.normlab.nn.norm.GroupNorm;
import dev.normlab.nn.norm.InstanceNorm1d;
import dev.normlab.nn.norm.InstanceNorm2d;
import dev.normlab.nn.norm.InstanceNorm3d;
import dev.normlab.nn.norm.LayerNorm;
import dev.normlab.tensor.Rng;
import dev.normlab.tensor.Tensor;
import dev.normlab.train.JitWarmUp;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Side-by-side timing of the normalization layers, printed as {@code name fwd_ms=.. fwdbwd_ms=..
 * fwd_gbps=..}; {@code scripts/bench_norms_torch.py} prints the same lines for PyTorch and {@code
 * scripts/bench-norms.sh} runs both. Also prints this machine's copy bandwidth ({@code
 * System.arraycopy}) measured in the same run, and per case the time of its bare memory traffic
 * ({@link TrafficFloor}: the forward's stream and the forward+backward's, and the least
 * forward+backward in a row normalization's two passes). Args: {@code [filter] [reps]}. Threads:
 * {@code NORMLAB_THREADS} (the script sets 2).
 */
public final class NormBench {
  private NormBench() {}

  /**
   * A timed layer and its input's shape. {@code rowLen}: how many values each of its statistics
   * covers, for the two-pass floor of {@link TrafficFloor#measure}; 0 for Batch Norm, whose
   * statistics run across the batch rather than over rows.
   */
  record Case(String name, Module module, int[] shape, int rowLen) {}

  static List<Case> cases() {
    List<Case> out = new ArrayList<>();
    int[][] shapes = {{64, 32, 26, 26}, {64, 64, 24, 24}, {8, 64, 128, 128}};
    for (int[] s : shapes) {
      String dims = s[0] + "x" + s[1] + "x" + s[2] + "x" + s[3];
      int plane = s[2] * s[3];
      out.add(new Case("in2d_" + dims, new InstanceNorm2d(s[1]), s, plane));
      out.add(new Case("bn2d_" + dims, new BatchNorm2d(s[1]), s, 0));
      out.add(new Case("gn8_" + dims, new GroupNorm(8, s[1]), s, s[1] / 8 * plane));
      out.add(new Case("ln_" + dims, new LayerNorm(s[1], s[2], s[3]), s, s[1] * plane));
    }
    out.add(new Case("in1d_32x64x1024", new InstanceNorm1d(64), new int[] {32, 64, 1024}, 1024));
    out.add(
        new Case(
            "in3d_2x32x32x64x64",
            new InstanceNorm3d(32),
            new int[] {2, 32, 32, 64, 64},
            32 * 64 * 64));
    return out;
  }

  static double median(double[] a) {
    double[] s = a.clone();
    Arrays.sort(s);
    return s[s.length / 2];
  }

  static double min(double[] a) {
    double m = Double.POSITIVE_INFINITY;
    for (double v : a) {
      m = Math.min(m, v);
    }
    return m;
  }

  /**
   * GB/s (read + write bytes) of copying a float array of {@code mib} MiB into a preallocated one
   * with {@code System.arraycopy}: one call on one thread, or split over the {@link Parallel}
   * threads. Best of 15 after 5 warm-ups. 64 MiB measures memory; 8 MiB (both arrays together
   * within the 32 MB L3 cache) what the cache delivers, the level the small maps' passes run from.
   */
  static double copyBandwidth(boolean parallel, int mib) {
    float[] a = new float[mib << 18];
    float[] b = new float[a.length];
    Arrays.fill(a, 1f);
    Arrays.fill(b, 2f);
    double[] t = new double[15];
    for (int r = 0; r < 20; r++) {
      long t0 = System.nanoTime();
      if (parallel) {
        Parallel.forRange(
            a.length, 1 << 16, (from, to) -> System.arraycopy(a, from, b, from, to - from));
      } else {
        System.arraycopy(a, 0, b, 0, a.length);
      }
      long t1 = System.nanoTime();
      if (r >= 5) {
        t[r - 5] = (t1 - t0) / 1e9;
      }
    }
    return 8.0 * a.length / min(t) / 1e9;
  }

  /**
   * One forward in a {@link BufferScope}: the output goes back to the pool, as PyTorch's caching
   * allocator takes back an output nobody holds.
   */
  static void forward(Module m, Tensor x) {
    try (var buffers = BufferScope.open();
        var ng = GradMode.noGrad()) {
      m.forward(x);
    }
  }

  /**
   * One forward and backward with the gradients of the previous one freed first (PyTorch's twin
   * sets them to None, and its allocator reuses their memory).
   */
  static void forwardBackward(Module m, Tensor xg, Tensor g) {
    try (var buffers = BufferScope.open()) {
      for (Tensor t : m.parameters()) {
        t.zeroGradRecycling();
      }
      xg.zeroGradRecycling();
      m.forward(xg).backward(g);
    }
  }

  /**
   * Seconds of warm-up per case at least ({@code -Dnormlab.bench.warmupSeconds}, default 2). With
   * 0.4 s the kernels a backward calls once per chunk (the first row's sums, the last row's dx)
   * reached C2 only during the timed calls (PrintCompilation, 2026-12-02): some of those ran C1
   * code, which boxes every vector.
   */
  static final double WARMUP_SECONDS =
      Double.parseDouble(System.getProperty("normlab.bench.warmupSeconds", "2"));

  /** The longest a warm-up waits for the JIT to settle. */
  static final double WARMUP_MAX_SECONDS = 12;

  /**
   * Runs forward and forward+backward for {@link #WARMUP_SECONDS}, then until the JIT has settled
   * ({@link JitWarmUp}; at most {@link #WARMUP_MAX_SECONDS} in all), so that the timed calls run
   * compiled code with both cores to themselves.
   */
  static void warmUp(Module m, Tensor x, Tensor g) {
    Tensor xg = x.detach().requiresGrad(true);
    JitWarmUp.run(
        () -> {
          forward(m, x);
          forwardBackward(m, xg, g);
        },
        1,
        WARMUP_SECONDS,
        WARMUP_MAX_SECONDS);
  }

  private static final com.sun.management.ThreadMXBean THREADS =
      (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

  /**
   * Heap bytes allocated by every thread so far. A case's calls allocate tens of kilobytes each
   * (tensors, the tape, the statistics and the kernels' scratch); several times its usual figure
   * means vector code running as the Vector API's Java fallbacks, which box every vector: a kernel
   * C2 compiled badly, or not in time, in this process, whose times are not the kernel's. (Group
   * Norm 64x32x26x26: 43-131 KB a call, and 241-364 KB in processes whose forward ran 35 % slow.)
   */
  static long allocatedBytes() {
    return THREADS.getTotalThreadAllocatedBytes();
  }

  public static void main(String[] args) {
    String filter = args.length > 0 ? args[0] : "";
    if (filter.equals("--list")) { // the case names, for scripts that run one case per process
      cases().forEach(c -> System.out.println(c.name()));
      return;
    }
    int reps = args.length > 1 ? Integer.parseInt(args[1]) : 15;
    double copy = copyBandwidth(false, 64);
    double copyPar = copyBandwidth(true, 64);
    double copyCache = copyBandwidth(true, 8);
    System.out.printf(
        Locale.ROOT,
        "copy_bandwidth_gbps=%.2f copy_bandwidth_%dthreads_gbps=%.2f"
            + " copy_bandwidth_8mib_%dthreads_gbps=%.2f threads=%d%n",
        copy,
        Parallel.threads(),
        copyPar,
        Parallel.threads(),
        copyCache,
        Parallel.threads());
    Rng rng = new Rng(0);
    for (Case c : cases()) {
      if (!c.name().contains(filter)) {
        continue;
      }
      Tensor x = Tensor.randn(rng, c.shape());
      Tensor g = Tensor.randn(rng, c.shape());
      Module m = c.module();
      m.train();
      double[] fwd = new double[reps];
      double[] fb = new double[reps];
      int warm = 10;
      // the floors are timed before and after the case's calls, the lower kept: this VM has slow
      // phases of minutes, and a floor timed in one would overstate what the case could reach
      TrafficFloor.Millis before = TrafficFloor.measure(x.numel(), c.rowLen(), reps);
      warmUp(m, x, g);
      long allocated = allocatedBytes();
      for (int r = 0; r < warm + reps; r++) {
        long t0 = System.nanoTime();
        forward(m, x);
        long t1 = System.nanoTime();
        if (r >= warm) {
          fwd[r - warm] = (t1 - t0) / 1e6;
        }
      }
      Tensor xg = x.detach().requiresGrad(true);
      for (int r = 0; r < warm + reps; r++) {
        long t0 = System.nanoTime();
        forwardBackward(m, xg, g);
        long t1 = System.nanoTime();
        if (r >= warm) {
          fb[r - warm] = (t1 - t0) / 1e6;
        }
      }
      double kbPerCall = (allocatedBytes() - allocated) / 1024.0 / (2 * (warm + reps));
      double f = min(fwd);
      TrafficFloor.Millis floor = TrafficFloor.measure(x.numel(), c.rowLen(), reps).lower(before);
      double gbps = 8.0 * x.numel() / (f / 1e3) / 1e9;
      System.out.printf(
          Locale.ROOT,
          "%s fwd_ms=%.3f fwdbwd_ms=%.3f fwd_gbps=%.2f fwd_bw_vs_copy=%.0f%% vs_copy_mt=%.0f%%"
              + " floor_fwdbwd_ms=%.3f floor_fwd_ms=%.3f alloc_kb_per_call=%.1f"
              + " twopass_fwdbwd_ms=%.3f%n",
          c.name(),
          f,
          min(fb),
          gbps,
          100 * gbps / copy,
          100 * gbps / copyPar,
          floor.forwardBackward(),
          floor.forward(),
          kbPerCall,
          floor.twoPass());
    }
  }
}
