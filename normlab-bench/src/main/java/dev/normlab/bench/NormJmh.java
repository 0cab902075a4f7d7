package dev.normlab.bench;

import dev.normlab.autograd.GradMode;
import dev.normlab.nn.Module;
import dev.normlab.nn.norm.BatchNorm2d;
import dev.normlab.nn.norm.GroupNorm;
import dev.normlab.nn.norm.InstanceNorm1d;
import dev.normlab.nn.norm.InstanceNorm2d;
import dev.normlab.nn.norm.InstanceNorm3d;
import dev.normlab.nn.norm.LayerNorm;
import dev.normlab.tensor.Rng;
import dev.normlab.tensor.Tensor;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * JMH benchmarks of the normalization layers (forward in training mode without autograd, and
 * forward + backward). Run, e.g.: {@code java --add-modules jdk.incubator.vector -cp
 * "normlab-bench/target/lib/*:normlab-bench/target/classes" org.openjdk.jmh.Main NormJmh -p
 * layer=in2d}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(
    value = 1,
    jvmArgsAppend = {
      "--add-modules",
      "jdk.incubator.vector",
      "--add-exports",
      "java.base/jdk.internal.misc=ALL-UNNAMED",
      "-Xmx2g",
      "-Xmn64m"
    })
public class NormJmh {
  @Param({"in2d", "bn2d", "gn8", "ln"})
  public String layer;

  @Param({"64x32x26x26", "64x64x24x24", "8x64x128x128", "32x64x1024", "2x32x32x64x64"})
  public String shape;

  private Module module;
  private Tensor x;
  private Tensor g;

  @Setup(Level.Trial)
  public void setup() {
    String[] p = shape.split("x");
    int[] s = new int[p.length];
    for (int i = 0; i < p.length; i++) {
      s[i] = Integer.parseInt(p[i]);
    }
    int c = s[1];
    module =
        switch (layer) {
          case "in2d" ->
              s.length == 3
                  ? new InstanceNorm1d(c)
                  : s.length == 5 ? new InstanceNorm3d(c) : new InstanceNorm2d(c);
          case "bn2d" -> new BatchNorm2d(c);
          case "gn8" -> new GroupNorm(8, c);
          case "ln" -> {
            int[] ns = new int[s.length - 1];
            System.arraycopy(s, 1, ns, 0, ns.length);
            yield new LayerNorm(ns);
          }
          default -> throw new IllegalArgumentException(layer);
        };
    if (layer.equals("bn2d") && s.length != 4) {
      module =
          s.length == 3
              ? new dev.normlab.nn.norm.BatchNorm1d(c)
              : new dev.normlab.nn.norm.BatchNorm3d(c);
    }
    Rng rng = new Rng(0);
    x = Tensor.randn(rng, s);
    g = Tensor.randn(rng, s);
  }

  @Benchmark
  public Tensor forward() {
    try (var ng = GradMode.noGrad()) {
      return module.forward(x);
    }
  }

  @Benchmark
  public Tensor forwardBackward() {
    module.zeroGrad();
    Tensor xg = x.detach().requiresGrad(true);
    module.forward(xg).backward(g);
    return xg.grad();
  }
}
