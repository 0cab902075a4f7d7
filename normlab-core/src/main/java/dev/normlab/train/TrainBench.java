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

  /**
   * A throughput and the warm-up before it: {@code warmupSteps} untimed steps, {@code settled}
   * false when the JIT was still compiling normlab's code at the warm-up's limit.
   */
  public record Result(
      double imagesPerSecond, double msPerStep, int warmupSteps, boolean settled) {}

  /** The longest a timing's warm-up waits for the JIT to settle. */
  static final double WARMUP_MAX_SECONDS = 60;

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

    /**
     * At least {@code least} untimed steps, then, with {@code untilSettled}, until the JIT has
     * settled ({@link JitWarmUp}).
     */
    JitWarmUp.Settled warmUp(int least, boolean untilSettled) {
      return JitWarmUp.run(
          () -> step(model, opt, x, y), least, 0, untilSettled ? WARMUP_MAX_SECONDS : 0);
    }
  }

  /**
   * Untimed steps only: what the JIT compiles on the way is shared with every later run in the
   * process (its own generator: nothing else's random numbers move).
   */
  public static void warmUp(String norm, int batch, int steps, int threads) {
    Setup.of(norm, batch, threads).steps(steps);
  }

  /**
   * {@code steps} timed steps after at least {@code warmup} untimed ones and then, with {@code
   * untilSettled}, as many as the JIT takes to settle: a long run's throughput, not its first
   * seconds' (the reference CNN with Group Norm: 33 ms a step over steps 25-100 of a process, 25 ms
   * from step 250).
   */
  public static Result run(
      String norm, int batch, int warmup, boolean untilSettled, int steps, int threads) {
    Setup s = Setup.of(norm, batch, threads);
    JitWarmUp.Settled w = s.warmUp(warmup, untilSettled);
    long t0 = System.nanoTime();
    s.steps(steps);
    double secs = (System.nanoTime() - t0) / 1e9;
    return new Result(batch * steps / secs, secs * 1000 / steps, w.steps(), w.settled());
  }

  /**
   * Where a training step's time goes: {@code steps} steps after the warm-up of {@link #run}, each
   * op's forward and backward by module ({@link Profiler}), the optimizer's zeroing and update, and
   * the steps' wall time.
   *
   * @param optimizerNanos the optimizer's {@code zeroGrad} and {@code step} over all the steps
   * @param stepNanos the steps' wall time
   * @param warmupSteps the untimed steps before them
   */
  public record Profile(
      List<Profiler.Entry> entries,
      long optimizerNanos,
      long stepNanos,
      int steps,
      int warmupSteps) {}

  public static Profile profile(
      String norm, int batch, int warmup, boolean untilSettled, int steps, int threads) {
    Setup s = Setup.of(norm, batch, threads);
    int warmed = s.warmUp(warmup, untilSettled).steps();
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
      return new Profile(p.entries(), optimizer, System.nanoTime() - t0, steps, warmed);
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
