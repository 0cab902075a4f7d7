package dev.normlab.train;

import dev.normlab.autograd.Profiler;
import dev.normlab.kernels.BufferScope;
import dev.normlab.kernels.Parallel;
import dev.normlab.models.ReferenceCnn;
import dev.normlab.nn.functional.F;
import dev.normlab.optim.SGD;
import dev.normlab.tensor.Rng;
import dev.normlab.tensor.Tensor;
import java.util.List;

/**
 * Training throughput of the reference CNN on fixed random batches (SGD lr 0.01 momentum 0.9, cross
 * entropy): the same work per step as {@code scripts/torch/train_reference.py --steps}.
 */
public final class TrainBench {
  private TrainBench() {}

  public record Result(double imagesPerSecond, double msPerStep) {}

  /** The reference CNN, its optimizer and one fixed random batch, from a generator of its own. */
  private record Setup(ReferenceCnn model, SGD opt, Tensor x, Tensor y) {
    static Setup of(String norm, int batch, int threads) {
      Parallel.setThreads(threads);
      Rng rng = new Rng(0);
      ReferenceCnn model = new ReferenceCnn(ReferenceCnn.Norm.parse(norm), rng);
      SGD opt = new SGD(model.parameters(), 0.01, 0.9, 0, 0, false);
      return new Setup(
          model, opt, Tensor.randn(rng, batch, 1, 28, 28), Tensor.randint(rng, 0, 10, batch));
    }

    void steps(int n) {
      for (int i = 0; i < n; i++) {
        step(model, opt, x, y);
      }
    }
  }

  /**
   * Untimed steps only: what the JIT compiles on the way is shared with every later run in the
   * process (its own generator: nothing else's random numbers move).
   */
  public static void warmUp(String norm, int batch, int steps, int threads) {
    Setup.of(norm, batch, threads).steps(steps);
  }

  public static Result run(String norm, int batch, int warmup, int steps, int threads) {
    Setup s = Setup.of(norm, batch, threads);
    s.steps(warmup);
    long t0 = System.nanoTime();
    s.steps(steps);
    double secs = (System.nanoTime() - t0) / 1e9;
    return new Result(batch * steps / secs, secs * 1000 / steps);
  }

  /**
   * Where a training step's time goes: {@code steps} steps after {@code warmup} untimed ones, each
   * op's forward and backward by module ({@link Profiler}), the optimizer's zeroing and update, and
   * the steps' wall time.
   *
   * @param optimizerNanos the optimizer's {@code zeroGrad} and {@code step} over all the steps
   * @param stepNanos the steps' wall time
   */
  public record Profile(
      List<Profiler.Entry> entries, long optimizerNanos, long stepNanos, int steps) {}

  public static Profile profile(String norm, int batch, int warmup, int steps, int threads) {
    Setup s = Setup.of(norm, batch, threads);
    s.steps(warmup);
    long optimizer = 0;
    long t0 = System.nanoTime();
    try (Profiler p = Profiler.start(Trainer.anomalyOwners(s.model()))) {
      for (int i = 0; i < steps; i++) {
        try (var buffers = BufferScope.open()) {
          long a = System.nanoTime();
          s.opt().zeroGradRecycling();
          optimizer += System.nanoTime() - a;
          p.mark();
          Tensor loss = F.crossEntropy(s.model().forward(s.x()), s.y());
          loss.backward();
          a = System.nanoTime();
          s.opt().step();
          optimizer += System.nanoTime() - a;
        }
      }
      return new Profile(p.entries(), optimizer, System.nanoTime() - t0, steps);
    }
  }

  private static void step(ReferenceCnn model, SGD opt, Tensor x, Tensor y) {
    try (var buffers = BufferScope.open()) {
      opt.zeroGradRecycling();
      Tensor loss = F.crossEntropy(model.forward(x), y);
      loss.backward();
      opt.step();
    }
  }
}
